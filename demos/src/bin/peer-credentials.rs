//! The kernel tells a Unix-socket server who its client is (SO_PEERCRED, SCM_CREDENTIALS), and refuses a client that claims to be someone else.
//!
//! socket(7): `SO_PEERCRED` returns "the credentials of the foreign process connected to
//! this socket", as they were at connect(2). unix(7): with `SO_PASSCRED` set, messages
//! carry `SCM_CREDENTIALS`; those a sender specifies "are checked by the kernel": it must
//! give its own process ID "unless it has the capability CAP_SYS_ADMIN, in which case
//! the PID of any existing process may be specified", and its own user and group IDs
//! unless it has CAP_SETUID and CAP_SETGID. Since Linux 6.5, `SO_PEERPIDFD` gives a pidfd
//! of the peer (socket(7)): a pid may be reused once its process is gone, a pidfd not.

use std::time::Duration;

use anyhow::{Context, bail};
use demos::{Break, Evidence, Observed, Result, brk, net, peer, privilege, scm};
use nix::sys::socket::{ControlMessage, ControlMessageOwned, UnixCredentials};
use socket2::{Domain, SockAddr, Socket, Type};

const BREAKS: &[Break] = &[
    brk("no-passcred", "the server does not set SO_PASSCRED"),
    brk(
        "client-keeps-root",
        "the client keeps root (no drop to nobody), so its forgeries pass",
    ),
    brk(
        "second-client",
        "the server reads SO_PEERCRED of another client, one it connected itself",
    ),
    brk(
        "pidfd-of-self",
        "the server asks SO_PEERPIDFD of a socket pair of its own, not of the client",
    ),
];

/// Credentials as the kernel reported them.
struct Creds(UnixCredentials);

impl Evidence for Creds {
    fn render(&self) -> String {
        show(&self.0)
    }
}

/// A pidfd the kernel gave, shown as the process it refers to (`Pid:` in its fdinfo).
struct PidfdOf(i32);

impl Evidence for PidfdOf {
    fn render(&self) -> String {
        format!("a pidfd of pid {}", self.0)
    }
}

/// `SO_PEERPIDFD` of `sock`, and the pid its pidfd refers to, as /proc/self/fdinfo says.
fn peer_pidfd(sock: &Socket) -> std::io::Result<PidfdOf> {
    use std::os::fd::AsRawFd;
    let fd = nix::sys::socket::getsockopt(sock, nix::sys::socket::sockopt::PeerPidfd)
        .map_err(std::io::Error::from)?;
    let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{}", fd.as_raw_fd()))?;
    info.lines()
        .find_map(|l| l.strip_prefix("Pid:"))
        .and_then(|p| p.trim().parse().ok())
        .map(PidfdOf)
        .ok_or_else(|| std::io::Error::other("no Pid: line in the pidfd's fdinfo"))
}

/// Whether a release (`6.1.0-57-amd64`) is Linux 6.5 or later.
fn at_least_6_5(release: &str) -> Option<bool> {
    let mut parts = release.split(|c: char| !c.is_ascii_digit());
    let major: u32 = parts.next()?.parse().ok()?;
    let minor: u32 = parts.next()?.parse().ok()?;
    Some((major, minor) >= (6, 5))
}

/// A seqpacket Unix socket: messages keep their boundaries, and each carries its own
/// credentials.
fn seqpacket() -> Result<Socket> {
    let s = Socket::new(Domain::UNIX, Type::SEQPACKET, None)
        .context("socket(AF_UNIX, SOCK_SEQPACKET)")?;
    net::with_timeouts(&s)?;
    Ok(s)
}

/// Sends `text`, with explicit credentials if given; returns the errno name on failure.
fn send(sock: &Socket, text: &str, creds: Option<UnixCredentials>) -> Result<(), String> {
    let cmsgs: Vec<ControlMessage> = creds.iter().map(ControlMessage::ScmCredentials).collect();
    scm::send(sock, text.as_bytes(), &cmsgs)
        .map(drop)
        .map_err(|e| net::errno_name(&e.into()))
}

/// Receives one message and the credentials the kernel attached to it.
fn receive(sock: &Socket) -> Observed<std::io::Result<(String, Option<Creds>)>> {
    demos::evidence::call("recvmsg SCM_CREDENTIALS", || {
        let mut buf = [0u8; 256];
        let (n, cmsgs) = scm::recv(sock, &mut buf, nix::cmsg_space!(libc::ucred))
            .map_err(|e| std::io::Error::other(format!("{e:#}")))?;
        let creds = cmsgs.into_iter().find_map(|c| match c {
            ControlMessageOwned::ScmCredentials(uc) => Some(Creds(uc)),
            _ => None,
        });
        Ok::<_, std::io::Error>((String::from_utf8_lossy(&buf[..n]).into_owned(), creds))
    })
}

fn creds(pid: i32, uid: u32, gid: u32) -> UnixCredentials {
    libc::ucred { pid, uid, gid }.into()
}

fn show(c: &UnixCredentials) -> String {
    format!("pid {} uid {} gid {}", c.pid(), c.uid(), c.gid())
}

/// The client: connects, then sends messages with no, true and forged credentials,
/// and finally the errors its forgeries got.
fn client(addr: &SockAddr, parent: i32, keep_root: bool) -> Result<()> {
    if !keep_root {
        privilege::drop_to_nobody()?;
    }
    let sock = seqpacket()?;
    sock.connect(addr).context("connect")?;
    let me = UnixCredentials::new();
    send(&sock, "plain", None).map_err(anyhow::Error::msg)?;
    send(&sock, "true", Some(me)).map_err(anyhow::Error::msg)?;
    let forged_pid = send(&sock, "forged pid", Some(creds(parent, me.uid(), me.gid())));
    let forged_uid = send(&sock, "forged uid", Some(creds(me.pid(), 0, me.gid())));
    let outcome = |r: Result<(), String>| r.err().unwrap_or_else(|| "accepted".into());
    let report = format!("report:{}|{}", outcome(forged_pid), outcome(forged_uid));
    send(&sock, &report, None).map_err(anyhow::Error::msg)?;
    Ok(())
}

fn main() {
    demos::run(BREAKS, |d| {
        d.expect(
            "the server learns the client's real pid/uid/gid; a forged pid is refused (EPERM)",
        );
        let name = demos::unique_name("peercred");
        let addr = SockAddr::unix(format!("\0{name}")).context("an abstract socket address")?;
        let listener = seqpacket()?;
        listener.bind(&addr).context("bind")?;
        listener.listen(4).context("listen")?;
        // Accepted sockets inherit SO_PASSCRED from the listener.
        let passcred = !d.breaks("no-passcred");
        let nobody = if demos::is_root() {
            privilege::NOBODY
        } else {
            nix::unistd::getuid().as_raw()
        };
        listener.set_passcred(passcred).context("SO_PASSCRED")?;
        let keep_root = d.breaks("client-keeps-root");
        if keep_root && !demos::is_root() {
            return Err(d.skip("the client-keeps-root break needs root"));
        }

        let parent = std::process::id() as i32;
        let peer = peer::fork(|| match client(&addr, parent, keep_root) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("client: {e:#}");
                2
            }
        })?;
        let child = peer.pid().as_raw();
        let who = if demos::is_root() {
            "drops to nobody and "
        } else {
            ""
        };
        d.step(format_args!("pid {child} {who}connects to @{name}"));
        {
            use std::os::fd::AsFd;
            let mut fds = [nix::poll::PollFd::new(
                listener.as_fd(),
                nix::poll::PollFlags::POLLIN,
            )];
            let ready = nix::poll::poll(&mut fds, 2000u16).context("poll on the listener")?;
            anyhow::ensure!(ready == 1, "the client did not connect within 2 s");
        }
        let (conn, _) = listener.accept().context("accept")?;
        net::with_timeouts(&conn)?;

        // The break asks a socket of a connection the server made itself.
        let (mine, _mine_peer) = if d.breaks("second-client") {
            let (a, b) = Socket::pair(Domain::UNIX, Type::SEQPACKET, None).context("socketpair")?;
            (Some(a), Some(b))
        } else {
            (None, None)
        };
        let asked = mine.as_ref().unwrap_or(&conn);
        let peercred = d.syscall("getsockopt(SO_PEERCRED)", || {
            nix::sys::socket::getsockopt(asked, nix::sys::socket::sockopt::PeerCredentials)
                .map(Creds)
        });
        d.key(&peercred);
        let peercred = d.require(peercred, "the server can ask who its client is")?;
        let peercred = peercred.value().0;

        // A pid names a process only while it lives; since 6.5 the kernel also hands out
        // a pidfd of the peer, which cannot come to name another process.
        let release = demos::evidence::read("/proc/sys/kernel/osrelease", || {
            Ok(std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .context("reading /proc/sys/kernel/osrelease")?
                .trim()
                .to_owned())
        })?;
        let (own, _own_peer) = if d.breaks("pidfd-of-self") {
            let (a, b) = Socket::pair(Domain::UNIX, Type::SEQPACKET, None).context("socketpair")?;
            (Some(a), Some(b))
        } else {
            (None, None)
        };
        let pidfd = d.syscall("getsockopt(SO_PEERPIDFD), /proc/self/fdinfo", || {
            peer_pidfd(own.as_ref().unwrap_or(asked))
        });
        d.saw(&release);
        d.saw(&pidfd);
        let release = release.into_value();
        let since = at_least_6_5(&release)
            .with_context(|| format!("a kernel release without a version: {release:?}"))?;
        let pidfd_right = match pidfd.value() {
            Ok(p) => since && p.0 == child,
            Err(e) => !since && e.raw_os_error() == Some(libc::ENOPROTOOPT),
        };

        let plain = receive(&conn);
        d.saw_that(&plain, "a message sent without credentials");
        let plain = d.require(plain, "the client's first message arrived")?;
        let truthful = receive(&conn);
        d.saw_that(&truthful, "a message with its own credentials");
        let truthful = d.require(truthful, "the client's second message arrived")?;
        // Forged messages the kernel let through arrive before the report.
        let mut delivered_forgeries = 0;
        let report = loop {
            let next = d.require(receive(&conn), "the client's report arrived")?;
            let text = next.into_value().0;
            match text.strip_prefix("report:") {
                Some(report) => break report.to_owned(),
                None if delivered_forgeries < 2 => delivered_forgeries += 1,
                None => bail!("unexpected message from the client: {text:?}"),
            }
        };
        let Some((forged_pid, forged_uid)) = report.split_once('|') else {
            bail!("unexpected report from the client: {report:?}");
        };
        let forged_pid = demos::evidence::read(
            "the client's sendmsg claiming our pid, as it reported",
            || Ok(forged_pid.to_owned()),
        )?;
        let forged_uid = demos::evidence::read(
            "the client's sendmsg claiming uid 0, as it reported",
            || Ok(forged_uid.to_owned()),
        )?;
        let status = peer.wait(Duration::from_secs(2))?;
        d.detail(format_args!("client exit: {status:?}"));
        d.saw(&forged_pid);
        d.saw(&forged_uid);
        let (plain, truthful) = (
            plain.value().1.as_ref().map(|c| c.0),
            truthful.value().1.as_ref().map(|c| c.0),
        );
        let (forged_pid, forged_uid) = (forged_pid.value(), forged_uid.value());

        d.check(
            peercred.pid() == child && peercred.uid() == nobody,
            format_args!("SO_PEERCRED names the client: its pid and uid"),
        )?;
        d.check(
            pidfd_right,
            "since 6.5 SO_PEERPIDFD gives the client's pidfd; before, ENOPROTOOPT",
        )?;
        d.check(
            plain == Some(peercred) && truthful == Some(peercred),
            "with SO_PASSCRED every message carries them, even one sent without",
        )?;
        d.check(
            forged_pid.starts_with("EPERM") && forged_uid.starts_with("EPERM"),
            "an ordinary process may not claim another pid or uid (EPERM)",
        )?;
        d.check(
            delivered_forgeries == 0,
            "and neither forged message reached the server",
        )?;

        if demos::is_root() {
            // The kernel vouches only for what it checked: CAP_SYS_ADMIN may name any
            // existing pid.
            let (a, b) =
                socket2::Socket::pair(Domain::UNIX, Type::SEQPACKET, None).context("socketpair")?;
            net::with_timeouts(&a)?;
            net::with_timeouts(&b)?;
            b.set_passcred(true).context("SO_PASSCRED")?;
            let claimed = creds(1, 0, 0);
            send(&a, "I am init", Some(claimed))
                .map_err(|e| anyhow::anyhow!("root's sendmsg failed: {e}"))?;
            let seen = receive(&b).map(|r| r.map(|(_, c)| c));
            d.saw_that(&seen, "root claimed pid 1");
            let seen = d.require(seen, "root's message arrived")?;
            d.check(
                seen.value().as_ref().is_some_and(|c| c.0.pid() == 1),
                "but root (CAP_SYS_ADMIN) may claim any pid",
            )?;
        }
        Ok(())
    })
}
