//! An open descriptor can be handed to another process over a Unix socket (SCM_RIGHTS): it can then read a file it may not open and accept on a socket it never bound.
//!
//! unix(7): `SCM_RIGHTS` "Send or receive a set of open file descriptors from another
//! process"; semantically it is like duplicating (dup(2)) a descriptor into the other
//! process's table: both processes share one open file description, offset included.

use std::fs::{File, Permissions};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixDatagram;
use std::time::Duration;

use anyhow::{Context, bail};
use demos::evidence::Bytes;
use demos::{Break, Demo, IO_TIMEOUT, Result, brk, net, peer, privilege, scm};
use nix::sys::socket::{ControlMessage, ControlMessageOwned};

const BREAKS: &[Break] = &[
    brk(
        "no-scm-rights",
        "the message goes without SCM_RIGHTS: no descriptor is passed",
    ),
    brk(
        "second-open",
        "the file passed is a second open() of it, not our descriptor",
    ),
    brk(
        "child-keeps-root",
        "the child keeps root instead of dropping to nobody",
    ),
];

const SECRET: &[u8] = b"the launch code is 0000";

/// What the child found, sent back to the parent as one line for the checks; the
/// child prints what the kernel answered it itself (its lines come while the parent
/// waits for its connection to be served, so they keep their place).
fn child(d: &Demo, sock: &UnixDatagram, path: &std::path::Path, keep_root: bool) -> Result<String> {
    if !keep_root {
        privilege::drop_to_nobody()?;
    }
    let uid = demos::evidence::read("getuid", || Ok(nix::unistd::getuid().as_raw()))?;

    // Wait for the parent's message: one byte of payload, two descriptors attached.
    let (_, cmsgs) = scm::recv(sock, &mut [0u8; 1], nix::cmsg_space!([RawFd; 2]))?;
    let fds = demos::evidence::read("recvmsg SCM_RIGHTS: the descriptors installed", || {
        Ok(cmsgs
            .into_iter()
            .flat_map(|c| match c {
                ControlMessageOwned::ScmRights(fds) => fds,
                _ => Vec::new(),
            })
            .collect::<Vec<RawFd>>())
    })?;
    d.saw(&uid);
    d.saw(&fds);
    // Opening the file by its name is refused to this process...
    let open = d.syscall("open(\"secret.txt\")", || File::open(path));
    d.key(&open);
    let open = match open.value() {
        Ok(_) => "opened".to_owned(),
        Err(e) => net::errno_name(e),
    };
    let uid = uid.into_value();
    let [file_fd, listener_fd] = fds.value()[..] else {
        // Nothing to read or accept with: the report says so, the checks decide.
        return Ok(format!("{uid}|-|-|{open}|"));
    };
    // SAFETY: the kernel just installed these descriptors in this process; we own them.
    let (mut file, listener) = unsafe {
        (
            File::from_raw_fd(file_fd),
            TcpListener::from(OwnedFd::from_raw_fd(listener_fd)),
        )
    };

    // ...but the descriptor it was given reads it.
    let read = d.syscall("read through the passed fd, to EOF", || {
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map(|_| Bytes(bytes))
    });
    d.key(&read);
    let text = match read.into_value() {
        Ok(Bytes(bytes)) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) => net::errno_name(&e),
    };

    // And the listening socket it never bound accepts a connection.
    let (mut conn, _) = net::accept_timeout(&listener)?;
    net::with_timeouts(&conn)?;
    conn.write_all(format!("served by pid {}", std::process::id()).as_bytes())
        .context("write to the accepted connection")?;
    Ok(format!("{uid}|{file_fd}|{listener_fd}|{open}|{text}"))
}

fn main() {
    demos::run(BREAKS, |d| {
        d.expect("a process that cannot open a file reads it through a descriptor passed to it");
        let dir = demos::private_dir()?;
        let path = dir.path().join("secret.txt");

        let (ours, theirs) = UnixDatagram::pair().context("socketpair(AF_UNIX, SOCK_DGRAM)")?;
        net::with_timeouts(&ours)?;
        net::with_timeouts(&theirs)?;

        // The peer is forked before the file and the listener exist: it cannot have
        // inherited them.
        let child_path = path.clone();
        let keep_root = d.breaks("child-keeps-root");
        if keep_root && !demos::is_root() {
            return Err(d.skip("the child-keeps-root break needs root"));
        }
        let narrator: &Demo = d;
        let peer = peer::fork(move || {
            let report = child(narrator, &theirs, &child_path, keep_root)
                .unwrap_or_else(|e| format!("error: {e:#}"));
            match theirs.send(report.as_bytes()) {
                Ok(_) => 0,
                Err(_) => 2,
            }
        })?;
        let who = if demos::is_root() {
            "; it drops to uid nobody"
        } else {
            ""
        };
        d.step(format_args!("forked pid {}{who}", peer.pid()));

        std::fs::write(&path, SECRET).context("writing the secret file")?;
        let file = File::open(&path).context("opening the secret file")?;
        let second = File::open(&path).context("opening the secret file again")?;
        std::fs::set_permissions(&path, Permissions::from_mode(0o000))
            .context("chmod 000 on the secret file")?;
        let (listener, addr) = net::tcp_listener()?;
        d.step(format_args!(
            "open secret.txt (then chmod 000) and listen on {addr}; send both fds ({} and {}) with SCM_RIGHTS",
            file.as_raw_fd(),
            listener.as_raw_fd()
        ));
        let passed = if d.breaks("second-open") {
            &second
        } else {
            &file
        };
        let fds = [passed.as_raw_fd(), listener.as_raw_fd()];
        let rights = [ControlMessage::ScmRights(&fds)];
        let attached: &[ControlMessage] = if d.breaks("no-scm-rights") {
            &[]
        } else {
            &rights
        };
        scm::send(&ours, b"!", attached).context("sendmsg with SCM_RIGHTS")?;
        // Our copies can go: the descriptors in flight keep the file and socket open.
        drop(listener);

        // Refused, if nobody holds the listener any more: evidence, not a failed run.
        let greeting = d.syscall(format_args!("connect to {addr}, read to EOF"), || {
            let mut client = TcpStream::connect_timeout(&addr, IO_TIMEOUT)?;
            client.set_read_timeout(Some(IO_TIMEOUT))?;
            let mut greeting = String::new();
            client.read_to_string(&mut greeting).map(|_| greeting)
        });

        let mut buf = [0u8; 512];
        let n = ours
            .recv(&mut buf)
            .context("receiving the child's report")?;
        let report = String::from_utf8_lossy(&buf[..n]).into_owned();
        let child_pid = peer.pid();
        let status = peer.wait(Duration::from_secs(2))?;
        if report.starts_with("error: ") {
            bail!("the child failed: {report}");
        }
        // A report without its fields holds no evidence: every check below fails.
        let mut fields: Vec<&str> = report.splitn(5, '|').collect();
        fields.resize(5, "");
        let [_uid, _file_fd, _listener_fd, open, text] = fields[..] else {
            unreachable!("resized to five fields");
        };
        d.saw(&greeting);
        let offset = d.syscall("lseek(our fd, 0, SEEK_CUR)", || {
            nix::unistd::lseek(&file, 0, nix::unistd::Whence::SeekCur)
        });
        d.saw_that(&offset, "our descriptor's offset: one open file, shared");
        d.detail(format_args!("child exit: {status:?}"));
        let greeting = greeting.into_value().unwrap_or_default();
        let offset = offset.into_value().unwrap_or(-1);

        d.check(
            open.starts_with("EACCES"),
            "the child may not open the file by name (EACCES)",
        )?;
        d.check(
            text.as_bytes() == SECRET,
            "through the passed descriptor it read the whole file",
        )?;
        d.check(
            greeting == format!("served by pid {child_pid}"),
            "it accepted a connection on the passed listening socket",
        )?;
        d.check(
            offset == SECRET.len() as i64,
            "the read moved our offset too: both fds name one open file description",
        )?;
        d.metric("fds.passed", fds.len() as f64, "descriptors");
        Ok(())
    })
}
