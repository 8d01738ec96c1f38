//! A signal can be read as data from a descriptor in the poll loop (signalfd, or a handler writing to a self-pipe), three identical signals sent while blocked arrive as one, and the blocked mask survives exec.
//!
//! signalfd(2): "creates a file descriptor that can be used to accept signals targeted
//! at the caller"; the signals "should be blocked" first; each read returns a
//! `signalfd_siginfo` with `ssi_signo`, `ssi_pid`, `ssi_uid`. signal(7): "standard
//! signals do not queue": if several are generated while blocked, "only one instance of
//! the signal is marked as pending".
//! signal(7): "A process-directed signal may be delivered to any one of the threads that
//! does not currently have the signal blocked" (here, the watchdog thread would do), so
//! this demo aims its signals at the main thread with tgkill(2).
//! execve(2): "The signal mask [...] is preserved"; signal(7): "the signal mask is
//! preserved across execve(2)". The demo reads the exec'd program's mask from its
//! /proc/PID/status (`SigBlk`, proc(5)).

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use demos::{Break, Evidence, Result, brk, peer};
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::poll::{PollFd, PollFlags, poll};
use nix::sys::signal::{SigHandler, SigSet, SigmaskHow, Signal, pthread_sigmask};
use nix::sys::signalfd::{SfdFlags, SignalFd};

const BREAKS: &[Break] = &[
    brk(
        "read-each",
        "the signalfd is read after each signal, before the next",
    ),
    brk(
        "no-handler",
        "SIGUSR2 is ignored instead of handled: nothing writes to the pipe",
    ),
    brk(
        "sigusr2-to-fd",
        "SIGUSR1 is sent instead of SIGUSR2 to the handler's poll loop",
    ),
    brk(
        "sent-by-self",
        "the demo signals itself; the forked child sends nothing",
    ),
    brk(
        "exec-unblocked",
        "the child unblocks SIGUSR1 between fork and exec, as a careful launcher does",
    ),
];

/// A signal mask as /proc/PID/status shows it (`SigBlk`, a bit per signal, in hex).
struct Mask(u64);

impl Evidence for Mask {
    fn render(&self) -> String {
        format!("SigBlk {:016x}", self.0)
    }
}

/// The blocked-signal mask of process `pid` once it runs `program` (its exec is done),
/// read from /proc/PID/status; at most `timeout`.
fn mask_after_exec(pid: i32, program: &str, timeout: Duration) -> Result<Mask> {
    let path = format!("/proc/{pid}/status");
    let deadline = Instant::now() + timeout;
    loop {
        let status = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .map(str::trim)
        };
        if field("Name:") == Some(program) {
            let hex = field("SigBlk:").with_context(|| format!("no SigBlk in {path}"))?;
            return u64::from_str_radix(hex, 16)
                .map(Mask)
                .with_context(|| format!("SigBlk {hex:?} in {path}"));
        }
        if Instant::now() >= deadline {
            bail!("pid {pid} did not exec {program} within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// One siginfo as read(signalfd) returned it.
struct Info(libc::signalfd_siginfo);

impl Evidence for Info {
    fn render(&self) -> String {
        let i = &self.0;
        let name = Signal::try_from(i.ssi_signo as i32)
            .map(|s| s.as_str())
            .unwrap_or("?");
        let code = if i.ssi_code == libc::SI_TKILL {
            "SI_TKILL".to_owned()
        } else {
            i.ssi_code.to_string()
        };
        format!(
            "{name} from pid {} (uid {}), si_code {code}",
            i.ssi_pid, i.ssi_uid
        )
    }
}

/// The write end of the self-pipe, for the signal handler (-1: none).
static SELF_PIPE: AtomicI32 = AtomicI32::new(-1);

/// The whole handler: write the signal number into the pipe. write(2) is
/// async-signal-safe; errno is saved because the interrupted code may be reading it.
extern "C" fn on_signal(sig: libc::c_int) {
    let saved = Errno::last_raw();
    let byte = sig as u8;
    let fd = SELF_PIPE.load(Ordering::Relaxed);
    // SAFETY: one byte from a valid buffer to a descriptor we own (or -1: EBADF).
    unsafe { libc::write(fd, (&raw const byte).cast(), 1) };
    Errno::set_raw(saved);
}

/// Sends `sig` to one thread (`tid`) of process `tgid`, as kill(2) would to the process.
fn tgkill(tgid: i32, tid: i32, sig: Signal) -> nix::Result<()> {
    // SAFETY: tgkill takes three integers and only sends a signal.
    let r = unsafe { libc::syscall(libc::SYS_tgkill, tgid, tid, sig as libc::c_int) };
    Errno::result(r).map(drop)
}

/// Polls until `fd` is readable, retrying when a signal handler interrupts the wait;
/// returns how many times poll said EINTR.
fn wait_readable(fd: &impl AsFd, timeout: Duration) -> Result<u32> {
    let deadline = Instant::now() + timeout;
    let mut interrupted = 0;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let ms = u16::try_from(left.as_millis()).unwrap_or(u16::MAX);
        let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, ms) {
            Ok(0) => bail!("nothing arrived within {timeout:?}"),
            Ok(_) => return Ok(interrupted),
            Err(Errno::EINTR) => interrupted += 1,
            Err(e) => return Err(e).context("poll"),
        }
    }
}

fn main() {
    demos::run(BREAKS, |d| {
        d.expect(
            "signalfd reads who sent a signal; 3 blocked SIGUSR1 read as 1; a handler can wake \
             poll through a pipe; the mask survives exec",
        );
        let me = std::process::id() as i32;

        // signalfd: block the signal first, or the default action (terminate) wins.
        let mut usr1 = SigSet::empty();
        usr1.add(Signal::SIGUSR1);
        pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&usr1), None)
            .context("pthread_sigmask(SIG_BLOCK, SIGUSR1)")?;
        let sfd = SignalFd::with_flags(&usr1, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
            .context("signalfd")?;

        // --break: one signal at a time, each read before the next is sent.
        let rounds: [u32; 3] = if d.breaks("read-each") {
            [1, 1, 1]
        } else {
            [3, 0, 0]
        };
        d.step("SIGUSR1 blocked, signalfd open; a child sends it 3 times");
        let mut infos = Vec::new();
        let mut sender_pid = 0;
        let self_sends = d.breaks("sent-by-self");
        for count in rounds.into_iter().filter(|&n| n > 0) {
            let sender = peer::fork(move || {
                let ok = self_sends || (0..count).all(|_| tgkill(me, me, Signal::SIGUSR1).is_ok());
                if ok { 0 } else { 2 }
            })?;
            if self_sends {
                for _ in 0..count {
                    tgkill(me, me, Signal::SIGUSR1).context("tgkill(self, SIGUSR1)")?;
                }
            }
            sender_pid = sender.pid().as_raw();
            let status = sender.wait(Duration::from_secs(2))?;
            anyhow::ensure!(
                status == peer::Exit::Code(0),
                "the sender could not signal us: {status:?}"
            );
            wait_readable(&sfd, Duration::from_secs(1))?;
            loop {
                let read = d.syscall("read(signalfd)", || sfd.read_signal().map(|o| o.map(Info)));
                match read.into_value() {
                    Ok(Some(info)) => infos.push(info),
                    _ => break,
                }
            }
        }
        let infos: Vec<libc::signalfd_siginfo> = infos.into_iter().map(|i| i.0).collect();
        for i in &infos {
            let shown = demos::evidence::read("read(signalfd)", || Ok(Info(*i)))?;
            d.key(&shown);
        }
        d.check(
            infos.len() == 1,
            format_args!(
                "3 signals sent, {} read: standard signals do not queue",
                infos.len()
            ),
        )?;
        d.check(
            infos.first().is_some_and(|i| {
                i.ssi_signo == Signal::SIGUSR1 as u32 && i.ssi_pid as i32 == sender_pid
            }),
            "the siginfo names the signal and the sender's pid",
        )?;

        // The self-pipe trick: the handler writes a byte, the poll loop reads it.
        let (pipe_r, pipe_w): (OwnedFd, OwnedFd) =
            nix::unistd::pipe2(OFlag::O_NONBLOCK | OFlag::O_CLOEXEC).context("pipe2")?;
        SELF_PIPE.store(pipe_w.as_raw_fd(), Ordering::Relaxed);
        let handler = if d.breaks("no-handler") {
            SigHandler::SigIgn
        } else {
            SigHandler::Handler(on_signal)
        };
        // SAFETY: the handler only calls write(2) and touches errno.
        let old = unsafe { nix::sys::signal::signal(Signal::SIGUSR2, handler) }
            .context("signal(SIGUSR2)")?;
        let sent = if d.breaks("sigusr2-to-fd") {
            Signal::SIGUSR1
        } else {
            Signal::SIGUSR2
        };
        let sender = peer::fork(move || {
            std::thread::sleep(Duration::from_millis(30));
            if tgkill(me, me, sent).is_ok() { 0 } else { 2 }
        })?;
        d.step(format_args!(
            "SIGUSR2 handler writes to a pipe; poll() on the pipe; pid {} sends SIGUSR2",
            sender.pid()
        ));
        let t0 = Instant::now();
        let woke = wait_readable(&pipe_r, Duration::from_secs(1));
        let took = t0.elapsed();
        // Restore the old disposition before the pipe closes, whatever happened.
        // SAFETY: reinstalling the disposition that was in place before.
        unsafe { nix::sys::signal::signal(Signal::SIGUSR2, old) }.context("restoring SIGUSR2")?;
        SELF_PIPE.store(-1, Ordering::Relaxed);
        let woke = demos::evidence::call("poll(self-pipe, POLLIN), retried on EINTR", || {
            woke.map_err(|e| std::io::Error::other(format!("{e:#}")))
        });
        sender.wait(Duration::from_secs(2))?;
        // Whatever SIGUSR1 the break sent is still pending and blocked: take it, so it
        // does not outlive the demo's mask.
        while let Ok(Some(_)) = sfd.read_signal() {}
        let mut byte = [0u8; 8];
        let read = d.syscall("read(self-pipe)", || {
            nix::unistd::read(&pipe_r, &mut byte).map(|n| demos::Bytes(byte[..n].to_vec()))
        });
        d.saw_that(&woke, "times poll said EINTR");
        d.derived(format_args!(
            "the pipe was readable after {}",
            demos::human(took)
        ));
        d.saw(&read);
        d.check(
            read.value()
                .as_ref()
                .is_ok_and(|b| b.0 == [Signal::SIGUSR2 as u8]),
            "the handler's byte (the signal number) woke the poll loop: the self-pipe trick",
        )?;
        d.step("fork with SIGUSR1 still blocked and exec sleep; read its /proc/PID/status");
        let unblock = d.breaks("exec-unblocked");
        let mut sleeper = peer::fork(move || {
            if unblock && pthread_sigmask(SigmaskHow::SIG_UNBLOCK, Some(&usr1), None).is_err() {
                return 2;
            }
            let _ = nix::unistd::execvp(c"sleep", &[c"sleep", c"10"]);
            demos::exit::ERROR
        })?;
        let pid = sleeper.pid().as_raw();
        let mask = demos::evidence::read(format_args!("/proc/{pid}/status of sleep"), || {
            mask_after_exec(pid, "sleep", Duration::from_secs(2))
        });
        sleeper.kill();
        let mask = mask?;
        d.key(&mask);
        let bit = 1u64 << (Signal::SIGUSR1 as u32 - 1);
        d.check(
            mask.value().0 & bit != 0,
            "the exec'd program starts with SIGUSR1 blocked: the mask survives exec",
        )?;

        d.metric("signals.sent", 3.0, "signals");
        d.metric("signals.read", infos.len() as f64, "signals");
        Ok(())
    })
}
