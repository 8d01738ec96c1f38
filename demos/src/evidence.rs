//! What the kernel answered, as opposed to what a demo computed or chose.
//!
//! An [`Observed`] value can only be made here, by the wrappers that make a call into
//! the kernel or read one of its counters ([`call`], [`Demo::syscall`](crate::Demo::syscall),
//! the `kstat` and `fd` readers): it carries the name of its source (`recv(MSG_PEEK)`,
//! `TCP_INFO`, `/proc/net/snmp Udp:RcvbufErrors`). A `kernel (SOURCE):` line of a demo
//! prints only such a value, rendered by [`Evidence`] (never a format string of the
//! demo's), so a number the demo made up cannot be labelled as the kernel's.

use std::fmt::Display;
use std::io;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;

/// A value the kernel answered, and where it came from.
#[derive(Debug, Clone)]
pub struct Observed<T> {
    source: String,
    value: T,
}

impl<T> Observed<T> {
    /// Only the harness makes these. The source is never empty.
    pub(crate) fn new(source: impl Display, value: T) -> Observed<T> {
        let mut source = source.to_string();
        if source.trim().is_empty() {
            source = "an unnamed call".into();
        }
        Observed { source, value }
    }

    /// What the kernel answered.
    pub fn value(&self) -> &T {
        &self.value
    }

    /// What the kernel answered, taken out of its wrapper (for arithmetic: what comes
    /// of it is the demo's own, printed with `d.derived`).
    pub fn into_value(self) -> T {
        self.value
    }

    /// Where the value came from: a call, a socket option, a counter's file and name.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Selects a part of what the kernel answered (a field of `TCP_INFO`, the length
    /// of a read). Same source; the closure must only select, never invent.
    pub fn map<U>(self, select: impl FnOnce(T) -> U) -> Observed<U> {
        Observed {
            source: self.source,
            value: select(self.value),
        }
    }

    /// Two observations shown on one line, both sources named.
    pub fn and<U: Clone>(&self, other: &Observed<U>) -> Observed<(T, U)>
    where
        T: Clone,
    {
        let source = if self.source == other.source {
            self.source.clone()
        } else {
            format!("{}, {}", self.source, other.source)
        };
        Observed {
            source,
            value: (self.value.clone(), other.value.clone()),
        }
    }
}

impl<T> Observed<io::Result<T>> {
    /// True when the call succeeded.
    pub fn is_ok(&self) -> bool {
        self.value.is_ok()
    }

    /// The errno of a failed call, if it failed with one.
    pub fn errno(&self) -> Option<nix::errno::Errno> {
        match &self.value {
            Ok(_) => None,
            Err(e) => e.raw_os_error().map(nix::errno::Errno::from_raw),
        }
    }

    /// True when the call failed with `errno`.
    pub fn failed_with(&self, errno: nix::errno::Errno) -> bool {
        self.errno() == Some(errno)
    }

    /// The call's result as an observation of its own, when it succeeded.
    pub fn ok(self) -> Option<Observed<T>> {
        let Observed { source, value } = self;
        value.ok().map(|value| Observed { source, value })
    }
}

impl Observed<u64> {
    /// How much a counter grew since `before` (read from the same source).
    pub fn since(&self, before: &Observed<u64>) -> Observed<Growth> {
        Observed {
            source: self.source.clone(),
            value: Growth {
                from: before.value,
                to: self.value,
            },
        }
    }
}

/// A counter read twice: `from → to (+n)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Growth {
    pub from: u64,
    pub to: u64,
}

impl Growth {
    pub fn delta(&self) -> u64 {
        self.to.saturating_sub(self.from)
    }
}

/// How a kernel answer reads on a `kernel (SOURCE):` line.
pub trait Evidence {
    fn render(&self) -> String;
}

macro_rules! plain {
    ($($t:ty),*) => {$(
        impl Evidence for $t {
            fn render(&self) -> String { self.to_string() }
        }
    )*};
}
plain!(
    u8,
    u16,
    u32,
    u64,
    usize,
    i8,
    i16,
    i32,
    i64,
    isize,
    bool,
    String,
    SocketAddr,
    std::net::IpAddr
);

/// A new descriptor (a socket, a file): the call succeeded and returned it.
macro_rules! descriptor {
    ($($t:ty),*) => {$(
        impl Evidence for $t {
            fn render(&self) -> String {
                use std::os::fd::AsRawFd;
                format!("ok, fd {}", self.as_raw_fd())
            }
        }
    )*};
}
descriptor!(
    socket2::Socket,
    std::os::fd::OwnedFd,
    std::net::TcpStream,
    std::net::TcpListener,
    std::net::UdpSocket,
    std::fs::File,
    std::os::unix::net::UnixStream,
    std::os::unix::net::UnixDatagram,
    std::os::unix::net::UnixListener
);

impl Evidence for () {
    fn render(&self) -> String {
        "0 (ok)".into()
    }
}

impl Evidence for Duration {
    fn render(&self) -> String {
        crate::human(*self)
    }
}

impl Evidence for Growth {
    fn render(&self) -> String {
        format!("{} → {} (+{})", self.from, self.to, self.delta())
    }
}

impl Evidence for nix::errno::Errno {
    fn render(&self) -> String {
        format!("{self:?} ({})", self.desc())
    }
}

impl Evidence for io::Error {
    fn render(&self) -> String {
        match self.raw_os_error() {
            Some(raw) => nix::errno::Errno::from_raw(raw).render(),
            None => format!("{:?} ({self})", self.kind()),
        }
    }
}

impl<T: Evidence> Evidence for io::Result<T> {
    fn render(&self) -> String {
        match self {
            Ok(v) => v.render(),
            Err(e) => format!("-1 {}", e.render()),
        }
    }
}

impl<T: Evidence> Evidence for Option<T> {
    fn render(&self) -> String {
        match self {
            Some(v) => v.render(),
            None => "none".into(),
        }
    }
}

/// Bytes as the kernel returned them: quoted, and counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bytes(pub Vec<u8>);

impl Evidence for Bytes {
    fn render(&self) -> String {
        let text = String::from_utf8_lossy(&self.0);
        let shown: String = if text.chars().count() > 40 {
            text.chars().take(37).collect::<String>() + "..."
        } else {
            text.into_owned()
        };
        format!("{} bytes {shown:?}", self.0.len())
    }
}

impl<T: Evidence> Evidence for Vec<T> {
    fn render(&self) -> String {
        let items: Vec<String> = self.iter().map(Evidence::render).collect();
        format!("[{}]", items.join(", "))
    }
}

impl<A: Evidence, B: Evidence> Evidence for (A, B) {
    fn render(&self) -> String {
        format!("{}; {}", self.0.render(), self.1.render())
    }
}

impl<A: Evidence, B: Evidence, C: Evidence> Evidence for (A, B, C) {
    fn render(&self) -> String {
        format!(
            "{}; {}; {}",
            self.0.render(),
            self.1.render(),
            self.2.render()
        )
    }
}

/// A value with its unit, e.g. what a counter counts (`Counted(9, "datagrams")`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counted<T>(pub T, pub &'static str);

impl<T: Evidence> Evidence for Counted<T> {
    fn render(&self) -> String {
        format!("{} {}", self.0.render(), self.1)
    }
}

/// The answers of many calls of one kind (every `sendto` of a flood): how many
/// succeeded, how many failed and with which errno. Made by [`Tally::start`], fed only
/// with the calls' own results, read out as an [`Observed`] by [`Tally::finish`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    ok: u64,
    /// Failures by errno (or error kind), in the order first seen.
    failed: Vec<(String, u64)>,
    source: String,
}

impl Tally {
    pub fn start(source: impl Display) -> Tally {
        Tally {
            source: source.to_string(),
            ..Tally::default()
        }
    }

    /// Makes one call and counts its answer; returns the answer for the caller to use.
    pub fn call<T, E: Into<io::Error>>(
        &mut self,
        f: impl FnOnce() -> Result<T, E>,
    ) -> io::Result<T> {
        let answer = call(&self.source, f);
        self.count(&answer);
        answer.into_value()
    }

    /// Counts the answer of a call made apart (one the demo kept for itself).
    pub fn count<T>(&mut self, answer: &Observed<io::Result<T>>) {
        match answer.value() {
            Ok(_) => self.ok += 1,
            Err(e) => {
                let name = e.render();
                match self.failed.iter_mut().find(|(n, _)| *n == name) {
                    Some((_, count)) => *count += 1,
                    None => self.failed.push((name, 1)),
                }
            }
        }
    }

    /// How many calls failed with `errno`.
    pub fn failed_with(&self, errno: nix::errno::Errno) -> u64 {
        let name = errno.render();
        self.failed
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, count)| count)
            .sum()
    }

    /// How many calls succeeded.
    pub fn ok(&self) -> u64 {
        self.ok
    }

    pub fn failures(&self) -> u64 {
        self.failed.iter().map(|(_, n)| n).sum()
    }

    pub fn finish(self) -> Observed<Tally> {
        Observed::new(self.source.clone(), self)
    }
}

impl Evidence for Tally {
    fn render(&self) -> String {
        let mut text = format!("{} succeeded, {} failed", self.ok, self.failures());
        for (name, n) in &self.failed {
            text.push_str(&format!("; {n}× {name}"));
        }
        text
    }
}

/// Calls into the kernel currently in progress, so the watchdog can name the one that
/// blocked (a stop there is a FAIL of that call, not an experiment that ran too long).
static IN_PROGRESS: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn in_progress() -> std::sync::MutexGuard<'static, Vec<String>> {
    IN_PROGRESS.lock().unwrap_or_else(|e| e.into_inner())
}

/// The call that was blocked when the watchdog fired, if the demo was in one.
pub(crate) fn blocked_in() -> Option<String> {
    in_progress().first().cloned()
}

struct Pending(String);

impl Drop for Pending {
    fn drop(&mut self) {
        let mut calls = in_progress();
        if let Some(i) = calls.iter().position(|c| *c == self.0) {
            calls.remove(i);
        }
    }
}

/// Makes one call into the kernel and keeps what it answered, success or errno, under
/// the name `source` (e.g. `"recv(MSG_PEEK)"`). For use where no `Demo` is at hand
/// (a peer thread, a helper); demos call [`Demo::syscall`](crate::Demo::syscall).
pub fn call<T, E: Into<io::Error>>(
    source: impl Display,
    f: impl FnOnce() -> Result<T, E>,
) -> Observed<io::Result<T>> {
    let source = source.to_string();
    in_progress().push(source.clone());
    let pending = Pending(source.clone());
    let value = f().map_err(Into::into);
    drop(pending);
    Observed::new(source, value)
}

/// Reads a value the kernel keeps (a `/proc` file, a socket option) under the name
/// `source`; a failure to read it is an error of the experiment, not evidence.
pub fn read<T>(
    source: impl Display,
    f: impl FnOnce() -> crate::Result<T>,
) -> crate::Result<Observed<T>> {
    let source = source.to_string();
    let value = f()?;
    Ok(Observed::new(source, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_is_never_empty() {
        let o = Observed::new("  ", 1u32);
        assert_eq!(o.source(), "an unnamed call");
    }

    #[test]
    fn errors_render_as_errno_names() {
        let o = call("connect", || {
            Err::<(), _>(io::Error::from_raw_os_error(libc::ECONNREFUSED))
        });
        assert_eq!(o.value().render(), "-1 ECONNREFUSED (Connection refused)");
        assert!(o.failed_with(nix::errno::Errno::ECONNREFUSED));
        assert_eq!(o.source(), "connect");
    }

    #[test]
    fn a_finished_call_is_no_longer_in_progress() {
        let _ = call("getpid", || Ok::<_, io::Error>(std::process::id()));
        assert!(!in_progress().iter().any(|c| c == "getpid"));
    }

    #[test]
    fn a_selected_part_keeps_its_source_and_two_sources_are_both_named() {
        let info = Observed::new("TCP_INFO", (7u32, 9u32));
        let rtt = info.clone().map(|(_, rtt)| rtt);
        assert_eq!((rtt.source(), *rtt.value()), ("TCP_INFO", 9));
        assert_eq!(rtt.clone().into_value(), 9);
        let q = Observed::new("SIOCOUTQ", 4u64);
        let both = q.and(&Observed::new("SIOCINQ", 5u64));
        assert_eq!(both.source(), "SIOCOUTQ, SIOCINQ");
        assert_eq!(*both.value(), (4, 5));
        let same = q.and(&Observed::new("SIOCOUTQ", 6u64));
        assert_eq!((same.source(), *same.value()), ("SIOCOUTQ", (4, 6)));
    }

    #[test]
    fn a_calls_answer_is_ok_or_its_errno() {
        let ok = call("getuid(unit test)", || Ok::<_, io::Error>(42u32));
        assert!(ok.is_ok());
        assert_eq!(ok.errno(), None);
        assert!(!ok.failed_with(nix::errno::Errno::EAGAIN));
        let value = ok.ok().expect("a successful call is an observation");
        assert_eq!((value.source(), *value.value()), ("getuid(unit test)", 42));
        let failed = call("recv", || {
            Err::<u32, _>(io::Error::from_raw_os_error(libc::EAGAIN))
        });
        assert!(!failed.is_ok());
        assert_eq!(failed.errno(), Some(nix::errno::Errno::EAGAIN));
        assert!(failed.failed_with(nix::errno::Errno::EAGAIN));
        assert!(!failed.failed_with(nix::errno::Errno::EINTR));
        assert!(failed.ok().is_none());
        // An error without an errno (a library's own) has none.
        let own = call("parse", || Err::<u32, _>(io::Error::other("not a number")));
        assert_eq!(own.errno(), None);
    }

    #[test]
    fn each_kind_of_answer_renders_as_the_kernel_gave_it() {
        assert_eq!(().render(), "0 (ok)");
        assert_eq!(
            Duration::from_millis(40).render(),
            crate::human(Duration::from_millis(40))
        );
        assert_eq!(nix::errno::Errno::EAGAIN.render(), "EAGAIN (Try again)");
        assert_eq!(
            io::Error::from_raw_os_error(libc::EPIPE).render(),
            "EPIPE (Broken pipe)"
        );
        assert_eq!(io::Error::other("no").render(), "Other (no)");
        assert_eq!(io::Result::Ok(5u32).render(), "5");
        assert_eq!(Some(3u8).render(), "3");
        assert_eq!(None::<u8>.render(), "none");
        assert_eq!(vec![1u16, 2].render(), "[1, 2]");
        assert_eq!((1u8, true).render(), "1; true");
        assert_eq!((1u8, 2u8, 3u8).render(), "1; 2; 3");
        assert_eq!(Counted(9u64, "datagrams").render(), "9 datagrams");
        // Long bytes are cut at 37 characters; 40 are shown whole.
        let forty = "x".repeat(40);
        assert_eq!(
            Bytes(forty.clone().into_bytes()).render(),
            format!("40 bytes {forty:?}")
        );
        let long = "y".repeat(41);
        assert_eq!(
            Bytes(long.into_bytes()).render(),
            format!("41 bytes {:?}", "y".repeat(37) + "...")
        );
    }

    #[test]
    fn a_tally_counts_each_answer_by_errno() {
        let mut sends = Tally::start("sendto");
        assert_eq!(sends.call(|| Ok::<_, io::Error>(1)).ok(), Some(1));
        let _ = sends.call(|| Ok::<_, io::Error>(2));
        for errno in [libc::ENOBUFS, libc::EAGAIN, libc::ENOBUFS] {
            let _ = sends.call(|| Err::<u32, _>(io::Error::from_raw_os_error(errno)));
        }
        sends.count(&call("sendto", || Ok::<_, io::Error>(3)));
        assert_eq!(sends.ok(), 3);
        assert_eq!(sends.failures(), 3);
        assert_eq!(sends.failed_with(nix::errno::Errno::ENOBUFS), 2);
        assert_eq!(sends.failed_with(nix::errno::Errno::EAGAIN), 1);
        assert_eq!(sends.failed_with(nix::errno::Errno::EPIPE), 0);
        let done = sends.finish();
        assert_eq!(done.source(), "sendto");
        assert_eq!(
            done.value().render(),
            "3 succeeded, 3 failed; 2× ENOBUFS (No buffer space available); \
             1× EAGAIN (Try again)"
        );
    }

    #[test]
    fn the_call_in_progress_is_the_one_named_as_blocked() {
        let (tx, rx) = std::sync::mpsc::channel();
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        let t = std::thread::spawn(move || {
            call("recv(unit test, blocked)", || {
                tx.send(blocked_in()).unwrap();
                done_rx.recv().unwrap();
                Ok::<_, io::Error>(())
            })
        });
        // Other tests make calls too, each brief: while ours blocks, it is soon the
        // only one in progress, the one the watchdog names.
        assert!(rx.recv().unwrap().is_some());
        let named = (0..2000)
            .map(|_| {
                std::thread::sleep(Duration::from_millis(1));
                blocked_in()
            })
            .find(|c| c.as_deref() == Some("recv(unit test, blocked)"));
        assert!(named.is_some(), "the blocked call was never named");
        done_tx.send(()).unwrap();
        t.join().unwrap();
        assert!(
            !in_progress()
                .iter()
                .any(|c| c == "recv(unit test, blocked)")
        );
    }

    #[test]
    fn a_read_keeps_its_source_and_its_failure_is_an_error() {
        let v = read("/proc/net/snmp Udp:InErrors", || Ok(3u64)).unwrap();
        assert_eq!((v.source(), *v.value()), ("/proc/net/snmp Udp:InErrors", 3));
        assert!(read("x", || Err::<u64, _>(anyhow::anyhow!("gone"))).is_err());
    }

    #[test]
    fn growth_and_bytes_render() {
        let a = Observed::new("/proc/net/snmp Udp:RcvbufErrors", 5u64);
        let b = Observed::new("/proc/net/snmp Udp:RcvbufErrors", 9u64);
        assert_eq!(b.since(&a).value().render(), "5 → 9 (+4)");
        assert_eq!(Bytes(b"hello".to_vec()).render(), "5 bytes \"hello\"");
    }
}
