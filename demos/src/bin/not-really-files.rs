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
use demos::{fd, human, net};
use nix::unistd::{Whence, lseek};

fn main() {
    demos::run(|d| {
        d.expect("/dev/null is empty and bottomless; pipes and sockets are files without bytes or a path");

        d.step("open /dev/null, read 4096 bytes, write 1 MiB");
        let mut null = File::options()
            .read(true)
            .write(true)
            .open("/dev/null")
            .context("opening /dev/null")?;
        let meta = null.metadata().context("fstat /dev/null")?;
        let t0 = Instant::now();
        let got = null.read(&mut [0u8; 4096]).context("read /dev/null")?;
        let took = t0.elapsed();
        let wrote = null
            .write(&vec![b'x'; 1 << 20])
            .context("write /dev/null")?;
        d.saw(format_args!(
            "read = {got} bytes in {}, write = {wrote} bytes; it is a character device: {}",
            human(took),
            meta.file_type().is_char_device()
        ));
        d.check(
            got == 0 && wrote == 1 << 20,
            "/dev/null reads EOF at once and swallows every byte written",
        )?;

        d.step("make a pipe and lseek its read end to byte 0");
        let (pipe_r, pipe_w) = std::io::pipe().context("pipe")?;
        let dir = demos::private_dir()?;
        let seeked = if d.breaks("a regular file stands in for the pipe's read end") {
            let file = File::create(dir.path().join("stand-in")).context("a regular file")?;
            lseek(&file, 0, Whence::SeekSet)
        } else {
            lseek(&pipe_r, 0, Whence::SeekSet)
        };
        match seeked {
            Ok(pos) => {
                d.key(format_args!("lseek = {pos}"));
                d.check(false, "lseek on a pipe fails")?;
            }
            Err(e) => {
                d.key(format_args!(
                    "lseek failed: {}",
                    net::errno_name(&std::io::Error::from(e))
                ));
                d.check(
                    e == nix::errno::Errno::ESPIPE,
                    "a pipe cannot seek (ESPIPE): it is a stream, not stored bytes",
                )?;
            }
        }

        d.step("ask /proc/self/fd what a file, a pipe and a TCP socket are");
        let (socket, _server) = net::tcp_pair()?;
        let null_link = fd::proc_link(&null)?;
        let pipe_link = fd::proc_link(&pipe_r)?;
        let sock_link = fd::proc_link(&socket)?;
        d.saw(format_args!("/dev/null -> {null_link}"));
        d.saw(format_args!("pipe      -> {pipe_link}"));
        d.saw(format_args!("socket    -> {sock_link}"));
        let pipe_ino = fd::inode(&pipe_r)?;
        let sock_ino = fd::inode(&socket)?;
        d.detail(format_args!(
            "fstat: pipe inode {pipe_ino}, socket inode {sock_ino}; write end -> {}",
            fd::proc_link(&pipe_w)?
        ));
        d.check(
            pipe_link == format!("pipe:[{pipe_ino}]") && fd::proc_link(&pipe_w)? == pipe_link,
            "a pipe shows as pipe:[inode], both ends the same inode",
        )?;
        d.check(
            sock_link == format!("socket:[{sock_ino}]"),
            "a socket shows as socket:[inode], not a path",
        )?;
        d.check(
            null_link == "/dev/null" && !pipe_link.starts_with('/') && !sock_link.starts_with('/'),
            "the device has a path; the pipe and the socket have none, they live only in the kernel",
        )?;
        Ok(())
    })
}
