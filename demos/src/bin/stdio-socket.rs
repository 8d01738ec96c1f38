//! One socket can be a program's stdin and its stdout at once, the way inetd starts servers: the program reads the request from it and writes the answer to it.
//!
//! socketpair(2): "The two sockets are indistinguishable", and each end is a
//! bidirectional descriptor, so one end can be dup2'd onto both fd 0 and fd 1, as
//! inetd(8) does with the accepted connection before it execs the server.

use std::io::{Read, Write};

use std::net::Shutdown;
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use demos::{Break, Bytes, IO_TIMEOUT, Result, brk, fd, net};

const BREAKS: &[Break] = &[
    brk("stdout-null", "tr's stdout is /dev/null, not the socket"),
    brk(
        "no-shutdown",
        "we never shut down our writing side, so tr never sees EOF",
    ),
    brk(
        "two-sockets",
        "tr's stdout is a second socketpair, not the one it reads",
    ),
    brk(
        "shutdown-first",
        "we shut down our writing side before sending the two lines",
    ),
];

/// A spawned program that is killed and reaped however the demo ends.
struct Reaped(Child);

impl Reaped {
    /// Waits for the program to exit, at most `timeout`; kills it on timeout.
    fn wait(&mut self, timeout: Duration) -> Result<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.0.try_wait().context("waitpid")? {
                return Ok(status);
            }
            if Instant::now() >= deadline {
                let _ = self.0.kill();
                let _ = self.0.wait();
                bail!("the filter did not exit within {timeout:?} and was killed");
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

impl Drop for Reaped {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

fn main() {
    demos::run(BREAKS, |d| {
        d.expect("tr reads its input from and writes its output to one socket");
        let (mut ours, theirs) = UnixStream::pair().context("socketpair")?;
        net::with_timeouts(&ours)?;
        let their_inode = fd::inode(&theirs)?;

        d.step("spawn `tr a-z A-Z` with stdin and stdout both the same end of a socketpair");
        let elsewhere = d.breaks("stdout-null");
        let (_other_ours, other_theirs) = UnixStream::pair().context("socketpair")?;
        let spawned = {
            let as_stdout = theirs.try_clone().context("dup")?;
            let stdout = if elsewhere {
                Stdio::null()
            } else if d.breaks("two-sockets") {
                Stdio::from(OwnedFd::from(other_theirs))
            } else {
                Stdio::from(OwnedFd::from(as_stdout))
            };
            Command::new("tr")
                .args(["a-z", "A-Z"])
                .stdin(Stdio::from(OwnedFd::from(theirs)))
                .stdout(stdout)
                .stderr(Stdio::null())
                .spawn()
            // The Command, and with it our copies of its end, is dropped here.
        };
        let mut child = match spawned {
            Ok(child) => Reaped(child),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(d.skip("needs the tr program (coreutils)"));
            }
            Err(e) => return Err(e).context("spawning tr"),
        };
        let pid = child.0.id();
        let link = |n: u32| {
            demos::evidence::call(format_args!("readlink /proc/tr/fd/{n}"), || {
                std::fs::read_link(format!("/proc/{pid}/fd/{n}"))
                    .map(|p| p.to_string_lossy().into_owned())
            })
        };
        let (stdin, stdout) = (link(0), link(1));
        d.saw(&their_inode);
        d.key(&stdin);
        d.key(&stdout);
        let want = format!("socket:[{}]", their_inode.value());
        d.check(
            stdin.value().as_ref().is_ok_and(|s| *s == want)
                && stdout.value().as_ref().is_ok_and(|s| *s == want),
            "its stdin and stdout are one and the same socket",
        )?;

        d.step("send it two lines over our end, then shutdown(SHUT_WR) for EOF");
        let early = d.breaks("shutdown-first");
        if early {
            ours.shutdown(Shutdown::Write)
                .context("shutdown(SHUT_WR)")?;
        }
        let sent = d.syscall("send", || {
            ours.write_all(b"hello from inetd\neverything you know is wrong\n")
        });
        if early {
            d.saw(&sent);
        } else {
            sent.into_value().context("send")?;
        }
        if !early && !d.breaks("no-shutdown") {
            ours.shutdown(Shutdown::Write)
                .context("shutdown(SHUT_WR)")?;
        }
        let answer = d.syscall("recv until EOF, over the same socket", || {
            let mut answer = Vec::new();
            ours.read_to_end(&mut answer).map(|_| Bytes(answer))
        });
        d.key(&answer);
        let status = child.wait(IO_TIMEOUT);
        let status = d.syscall("waitpid(tr)", || {
            status
                .map(|s| s.code().unwrap_or(-1))
                .map_err(|e| std::io::Error::other(format!("{e:#}")))
        });
        d.saw_that(&status, "tr's exit status");
        // The exit first: a tr that never saw EOF fails here, not only by the answer
        // it never flushed.
        d.check(
            matches!(status.value(), Ok(0)),
            "EOF on its stdin (our SHUT_WR) ended it cleanly (exit 0)",
        )?;
        d.check(
            answer
                .value()
                .as_ref()
                .is_ok_and(|a| a.0 == b"HELLO FROM INETD\nEVERYTHING YOU KNOW IS WRONG\n"),
            "the whole answer came back over the socket it read from",
        )?;
        Ok(())
    })
}
