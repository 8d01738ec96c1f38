//! Not every file is bytes on a disk: /dev/null reads as empty at once, a pipe cannot seek, and /proc/self/fd names sockets and pipes that have no path at all.
//!
//! null(4): "Reads from /dev/null always return end of file (i.e., read(2) returns
//! 0)". lseek(2): `ESPIPE` "fd is associated with a pipe, socket, or FIFO". proc(5),
//! /proc/pid/fd: for sockets and pipes the link reads `type:[inode]`.

use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::fs::FileTypeExt;
use std::time::Instant;

use anyhow::Context;
use demos::{Break, brk, fd, human, net};
use nix::unistd::{Whence, lseek};

const BREAKS: &[Break] = &[
    brk(
        "regular-file",
        "a regular file stands in for the pipe's read end",
    ),
    brk("zero-device", "/dev/zero stands in for /dev/null"),
    brk(
        "socket-is-file",
        "a regular file stands in for the TCP socket",
    ),
    brk(
        "empty-file",
        "an empty regular file stands in for /dev/null",
    ),
    brk("other-pipe", "the write end shown is another pipe's"),
    brk(
        "slow-eof",
        "a pipe stands in for /dev/null, its write end closed 300 ms later: EOF, but not at once",
    ),
];

/// How soon a read of /dev/null must return to count as "at once" on a loaded machine
/// (it takes microseconds; a read that waits for anything takes far longer).
const AT_ONCE: std::time::Duration = std::time::Duration::from_millis(100);

fn main() {
    demos::run(BREAKS, |d| {
        d.expect("/dev/null is empty and bottomless; pipes and sockets are files without bytes or a path");

        d.step("open /dev/null, read 4096 bytes, write 1 MiB");
        let device = if d.breaks("zero-device") {
            "/dev/zero"
        } else {
            "/dev/null"
        };
        let dir = demos::private_dir()?;
        let device = if d.breaks("empty-file") {
            let path = dir.path().join("empty");
            File::create(&path).context("an empty file")?;
            path
        } else {
            std::path::PathBuf::from(device)
        };
        let mut late_writer = None;
        let mut null = if d.breaks("slow-eof") {
            let (r, w) = std::io::pipe().context("pipe")?;
            late_writer = Some(std::thread::spawn(move || {
                std::thread::sleep(std::time::Duration::from_millis(300));
                drop(w);
            }));
            File::from(std::os::fd::OwnedFd::from(r))
        } else {
            File::options()
                .read(true)
                .write(true)
                .open(&device)
                .with_context(|| format!("opening {}", device.display()))?
        };
        let is_char = d.syscall("fstat: a character device", || {
            null.metadata().map(|m| m.file_type().is_char_device())
        });
        let t0 = Instant::now();
        let got = d.syscall("read(4096)", || null.read(&mut [0u8; 4096]));
        let took = t0.elapsed();
        if let Some(t) = late_writer {
            t.join()
                .map_err(|_| anyhow::anyhow!("the pipe's writer panicked"))?;
        }
        let wrote = d.syscall("write(1 MiB)", || null.write(&vec![b'x'; 1 << 20]));
        d.saw(&got);
        d.saw(&wrote);
        d.saw(&is_char);
        d.derived(format_args!("the read took {}", human(took)));
        d.check(
            matches!(got.value(), Ok(0)) && took < AT_ONCE,
            "/dev/null reads EOF (0 bytes) at once (well under 100 ms)",
        )?;
        d.check(
            matches!(wrote.value(), Ok(n) if *n == 1 << 20),
            "and swallows every byte written (all 1 MiB)",
        )?;

        d.step("make a pipe and lseek its read end to byte 0");
        let (pipe_r, pipe_w) = std::io::pipe().context("pipe")?;
        let (_other_r, other_w) = std::io::pipe().context("pipe")?;
        let pipe_w = if d.breaks("other-pipe") {
            other_w
        } else {
            pipe_w
        };
        let seeked = if d.breaks("regular-file") {
            let file = File::create(dir.path().join("stand-in")).context("a regular file")?;
            d.syscall("lseek(0, SEEK_SET)", || lseek(&file, 0, Whence::SeekSet))
        } else {
            d.syscall("lseek(0, SEEK_SET)", || lseek(&pipe_r, 0, Whence::SeekSet))
        };
        d.key(&seeked);
        d.check(
            seeked.failed_with(nix::errno::Errno::ESPIPE),
            "a pipe cannot seek (ESPIPE): it is a stream, not stored bytes",
        )?;

        d.step("ask /proc/self/fd what a file, a pipe and a TCP socket are");
        let (socket, _server) = net::tcp_pair()?;
        let socket: std::os::fd::OwnedFd = if d.breaks("socket-is-file") {
            File::create(dir.path().join("socket-stand-in"))
                .context("a file")?
                .into()
        } else {
            socket.into()
        };
        let null_link = fd::proc_link(&null)?;
        let pipe_link = fd::proc_link(&pipe_r)?;
        let sock_link = fd::proc_link(&socket)?;
        d.saw(&null_link);
        d.saw(&pipe_link);
        d.saw(&sock_link);
        let pipe_ino = fd::inode(&pipe_r)?;
        let sock_ino = fd::inode(&socket)?;
        let write_link = fd::proc_link(&pipe_w)?;
        if d.verbose() {
            d.saw(&pipe_ino);
            d.saw(&sock_ino);
            d.saw(&write_link);
        }
        let (null_link, pipe_link, sock_link) =
            (null_link.value(), pipe_link.value(), sock_link.value());
        let (pipe_ino, sock_ino) = (pipe_ino.value(), sock_ino.value());
        d.check(
            *pipe_link == format!("pipe:[{pipe_ino}]") && write_link.value() == pipe_link,
            "a pipe shows as pipe:[inode], both ends the same inode",
        )?;
        d.check(
            *sock_link == format!("socket:[{sock_ino}]"),
            "a socket shows as socket:[inode], not a path",
        )?;
        d.check(
            null_link == "/dev/null" && !pipe_link.starts_with('/') && !sock_link.starts_with('/'),
            "the device has a path; the pipe and the socket have none, they live only in the kernel",
        )?;
        Ok(())
    })
}
