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

use anyhow::Context;
use demos::evidence::Bytes;
use demos::{Break, Demo, Evidence, Observed, Result, brk, net, peer, privilege, scm};
use nix::errno::Errno;
use nix::sys::socket::{ControlMessage, ControlMessageOwned, UnixCredentials};
use socket2::{Domain, SockAddr, Socket, Type};

const BREAKS: &[Break] = &[
    brk("no-passcred", "the server does not set SO_PASSCRED"),
    brk(
        "client-keeps-root",
        "the second client keeps root (no drop to nobody), so its forgeries pass",
    ),
    brk(
        "second-client",
        "the server reads SO_PEERCRED of another client, one it connected itself",
    ),
    brk(
        "client-keeps-gid",
        "the client drops its uid to nobody but keeps gid 0, so the gid it is known by is root's",
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

/// Sends `text`, with explicit credentials if given.
fn send(sock: &Socket, text: &str, creds: Option<UnixCredentials>) -> nix::Result<usize> {
    let cmsgs: Vec<ControlMessage> = creds.iter().map(ControlMessage::ScmCredentials).collect();
    scm::send(sock, text.as_bytes(), &cmsgs)
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

/// The client: connects, then sends a message with no credentials and one with its
/// own.
fn client(addr: &SockAddr, keep_gid: bool) -> Result<()> {
    if keep_gid && demos::is_root() {
        nix::unistd::setuid(nix::unistd::Uid::from_raw(privilege::NOBODY)).context("setuid")?;
    }
    privilege::drop_to_nobody()?;
    let sock = seqpacket()?;
    sock.connect(addr).context("connect")?;
    send(&sock, "plain", None).context("sendmsg without credentials")?;
    send(&sock, "true", Some(UnixCredentials::new())).context("sendmsg with its own")?;
    Ok(())
}

/// A second client, in a child of its own that prints what the kernel answered it:
/// connects, then claims the server's pid, and uid 0.
fn forger(d: &mut Demo, addr: &SockAddr, server: i32, keep_root: bool) -> Result<()> {
    if !keep_root {
        privilege::drop_to_nobody()?;
    }
    let sock = seqpacket()?;
    sock.connect(addr).context("connect")?;
    let me = UnixCredentials::new();
    let forged_pid = d.syscall("sendmsg SCM_CREDENTIALS claiming the server's pid", || {
        send(&sock, "forged pid", Some(creds(server, me.uid(), me.gid())))
    });
    d.saw(&forged_pid);
    let forged_uid = d.syscall("sendmsg SCM_CREDENTIALS claiming uid 0", || {
        send(&sock, "forged uid", Some(creds(me.pid(), 0, me.gid())))
    });
    d.saw(&forged_uid);
    d.check(
        forged_pid.failed_with(Errno::EPERM) && forged_uid.failed_with(Errno::EPERM),
        "an ordinary process may not claim another pid or uid (EPERM)",
    )
}

/// Accepts the next client within 2 s.
fn accept_within(listener: &Socket) -> Result<Socket> {
    use std::os::fd::AsFd;
    let mut fds = [nix::poll::PollFd::new(
        listener.as_fd(),
        nix::poll::PollFlags::POLLIN,
    )];
    let ready = nix::poll::poll(&mut fds, 2000u16).context("poll on the listener")?;
    anyhow::ensure!(ready == 1, "the client did not connect within 2 s");
    let (conn, _) = listener.accept().context("accept")?;
    net::with_timeouts(&conn)?;
    Ok(conn)
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
        let (nobody, nobody_gid) = if demos::is_root() {
            (privilege::NOBODY, privilege::NOBODY)
        } else {
            (
                nix::unistd::getuid().as_raw(),
                nix::unistd::getgid().as_raw(),
            )
        };
        listener.set_passcred(passcred).context("SO_PASSCRED")?;
        let keep_root = d.breaks("client-keeps-root");
        if keep_root && !demos::is_root() {
            return Err(d.skip("the client-keeps-root break needs root"));
        }

        let parent = std::process::id() as i32;
        let keep_gid = d.breaks("client-keeps-gid");
        if keep_gid && !demos::is_root() {
            return Err(d.skip("the client-keeps-gid break needs root"));
        }
        let peer = peer::fork(|| match client(&addr, keep_gid) {
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
        let conn = accept_within(&listener)?;

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
        let status = peer.wait(Duration::from_secs(2))?;
        d.detail(format_args!("client exit: {status:?}"));
        let (plain, truthful) = (
            plain.value().1.as_ref().map(|c| c.0),
            truthful.value().1.as_ref().map(|c| c.0),
        );

        d.check(
            peercred.pid() == child && peercred.uid() == nobody && peercred.gid() == nobody_gid,
            "SO_PEERCRED names the client: its pid, uid and gid",
        )?;
        d.check(
            pidfd_right,
            "since 6.5 SO_PEERPIDFD gives the client's pidfd; before, ENOPROTOOPT",
        )?;
        d.check(
            plain == Some(peercred) && truthful == Some(peercred),
            "with SO_PASSCRED every message carries them, even one sent without",
        )?;

        d.step(format_args!(
            "a second client {who}claims to be the server (its pid), then root (uid 0)"
        ));
        d.in_child(|d| forger(d, &addr, parent, keep_root))?;
        let forged = accept_within(&listener)?;
        // Forged messages the kernel let through would arrive before the end of stream.
        let mut delivered_forgeries = 0;
        loop {
            let next = receive(&forged).map(|r| r.map(|(text, _)| Bytes(text.into_bytes())));
            d.saw_that(&next, "the second client's connection");
            let next = d.require(next, "the second client's connection read to its end")?;
            if next.value().0.is_empty() || delivered_forgeries == 2 {
                break;
            }
            delivered_forgeries += 1;
        }
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
            send(&a, "I am init", Some(claimed)).context("root's sendmsg claiming pid 1")?;
            let seen = receive(&b).map(|r| r.map(|(_, c)| c));
            d.saw_that(&seen, "root claimed pid 1");
            let seen = d.require(seen, "root's message arrived")?;
            d.check(
                seen.value().as_ref().is_some_and(|c| c.0.pid() == 1),
                "but root (CAP_SYS_ADMIN) may claim another live pid: here init's, 1",
            )?;
        }
        Ok(())
    })
}
