//! Fewer system calls move the same data: sendfile() sends a whole file to a socket in over a hundred times fewer calls than read()+write(), sendmmsg() sends 64 datagrams per call, and recvmmsg() takes up to 64.
//!
//! sendfile(2): "copies data between one file descriptor and another. Because this
//! copying is done within the kernel, sendfile() is more efficient than the combination
//! of read(2) and write(2)". sendmmsg(2): "allows the caller to transmit multiple
//! messages on a socket using a single system call"; recvmmsg(2) likewise receives them,
//! with `MSG_WAITFORONE` as many as are queued once the first has come, up to its slots.
//! What the demo counts is calls; that sendfile's copy stays in the kernel is the man
//! page's word, not measured here.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use demos::{Break, Evidence, Observed, Result, brk, net};

const FILE_SIZE: usize = 64 << 20;
const MIB: f64 = (1 << 20) as f64;
/// The buffer of the classic copy loop (what `cp` and most servers use).
const BUF: usize = 64 << 10;
const BATCH: usize = 64;
const DATAGRAMS: usize = BATCH * 100;
const DATAGRAM: usize = 100;

const BREAKS: &[Break] = &[
    brk(
        "sendfile-64k",
        "each sendfile() call is asked for 64 KiB only, like the copy loop",
    ),
    brk(
        "mmsg-one",
        "sendmmsg and recvmmsg are given one message slot at a time",
    ),
    brk(
        "recvmmsg-one",
        "recvmmsg alone is given one message slot at a time (sendmmsg keeps 64)",
    ),
    brk(
        "recvmmsg-4",
        "recvmmsg is given 4 message slots, not 64 (sendmmsg keeps 64)",
    ),
];

/// What each call of one kind returned (bytes, or datagrams for the *mmsg calls).
#[derive(Debug, Clone, Default)]
struct Returns(Vec<u64>);

impl Evidence for Returns {
    fn render(&self) -> String {
        let (min, max) = (
            self.0.iter().min().copied().unwrap_or(0),
            self.0.iter().max().copied().unwrap_or(0),
        );
        let each = if min == max {
            format!("each returned {min}")
        } else {
            format!("returned {min} to {max}")
        };
        format!("{} calls, {each}", self.0.len())
    }
}

/// One way of sending the file: what each system call returned, time taken.
struct Transfer {
    returns: Observed<Returns>,
    took: Duration,
}

/// Receives on `server` until EOF on a thread, while `send` sends the file on `client`.
fn transfer(
    file: &mut File,
    name: &str,
    send: impl FnOnce(&mut File, &mut TcpStream) -> Result<Returns>,
) -> Result<Transfer> {
    let (mut client, mut server) = net::tcp_pair()?;
    std::thread::scope(|s| {
        let receiver = s.spawn(move || -> Result<usize> {
            let mut buf = vec![0u8; 256 << 10];
            let mut total = 0;
            loop {
                match server.read(&mut buf).context("recv")? {
                    0 => return Ok(total),
                    n => total += n,
                }
            }
        });
        let t0 = Instant::now();
        let returns = demos::evidence::read(format_args!("{name} return values"), || {
            send(file, &mut client)
        })?;
        client
            .shutdown(std::net::Shutdown::Write)
            .context("shutdown(SHUT_WR)")?;
        let received = receiver
            .join()
            .map_err(|_| anyhow::anyhow!("the receiver panicked"))??;
        let took = t0.elapsed();
        anyhow::ensure!(
            received == FILE_SIZE,
            "received {received} of {FILE_SIZE} bytes"
        );
        Ok(Transfer { returns, took })
    })
}

/// The classic loop: read(2) a buffer from the file, write(2) it to the socket.
fn read_write(file: &mut File, sock: &mut TcpStream) -> Result<Returns> {
    let mut buf = vec![0u8; BUF];
    let mut returns = Returns::default();
    loop {
        let n = file.read(&mut buf).context("read the file")?;
        returns.0.push(n as u64);
        if n == 0 {
            return Ok(returns);
        }
        let mut sent = 0;
        while sent < n {
            let w = sock.write(&buf[sent..n]).context("write to the socket")?;
            returns.0.push(w as u64);
            sent += w;
        }
    }
}

/// sendfile(2) until the whole file is sent: the kernel moves the pages itself.
/// The most one sendfile() call is asked to send: all that is left, or under
/// `--break` one buffer's worth, as the copy loop does.
static SENDFILE_MAX: std::sync::atomic::AtomicUsize =
    std::sync::atomic::AtomicUsize::new(FILE_SIZE);

fn sendfile(file: &mut File, sock: &mut TcpStream) -> Result<Returns> {
    let mut offset: libc::off_t = 0;
    let mut returns = Returns::default();
    let most = SENDFILE_MAX.load(std::sync::atomic::Ordering::Relaxed);
    while (offset as usize) < FILE_SIZE {
        let left = (FILE_SIZE - offset as usize).min(most);
        let n = nix::sys::sendfile::sendfile(&*sock, &*file, Some(&mut offset), left)
            .context("sendfile")?;
        returns.0.push(n as u64);
        if n == 0 {
            bail!("sendfile sent nothing at offset {offset}");
        }
    }
    Ok(returns)
}

/// Sends `DATAGRAMS` datagrams one sendto(2) at a time, or `BATCH` per sendmmsg(2);
/// the receiver reads them with recvfrom(2) or recvmmsg(2) after each batch.
/// Returns what every send and every receive call returned (datagrams each), the
/// datagrams received, and the time. `send_slots`, `recv_slots`: message slots per
/// sendmmsg and recvmmsg call.
fn datagrams(
    batched: bool,
    send_slots: usize,
    recv_slots: usize,
) -> Result<(Returns, Returns, usize, Duration)> {
    let (rx, rx_addr) = net::udp_socket()?;
    let (tx, _) = net::udp_socket()?;
    tx.connect(rx_addr).context("connect the UDP sender")?;
    let payload = [0x5au8; DATAGRAM];
    let (mut sends, mut recvs, mut received) = (Returns::default(), Returns::default(), 0);
    let mut slots = vec![[0u8; DATAGRAM + 1]; BATCH];
    let t0 = Instant::now();
    for _ in 0..DATAGRAMS / BATCH {
        if batched {
            sends.0.extend(send_batch(&tx, &payload, send_slots)?);
        } else {
            for _ in 0..BATCH {
                let len = tx.send(&payload).context("send")?;
                anyhow::ensure!(len == DATAGRAM, "sent {len} bytes");
                sends.0.push(1);
            }
        }
        let mut got = 0;
        while got < BATCH {
            let n = if batched {
                let room = (BATCH - got).min(recv_slots);
                recv_batch(&rx, &mut slots[..room])?
            } else {
                let len = rx.recv(&mut slots[0]).context("recv")?;
                anyhow::ensure!(len == DATAGRAM, "a datagram of {len} bytes");
                1
            };
            recvs.0.push(n as u64);
            got += n;
        }
        received += got;
    }
    Ok((sends, recvs, received, t0.elapsed()))
}

/// One sendmmsg(2) call (or more, if the kernel sent only part of the batch).
///
/// Raw libc here and in [`recv_batch`], where nix has `sendmmsg`/`recvmmsg`: the count
/// the kernel returns is the evidence, and nix gives it only as an iterator over the
/// headers, whose `next` reads each message's address (never set for a send on a
/// connected socket).
fn send_batch(tx: &UdpSocket, payload: &[u8], slots_per_call: usize) -> Result<Vec<u64>> {
    let mut iovs: Vec<libc::iovec> = (0..BATCH)
        .map(|_| libc::iovec {
            iov_base: payload.as_ptr() as *mut libc::c_void,
            iov_len: payload.len(),
        })
        .collect();
    let mut msgs = headers(&mut iovs);
    let mut done = 0;
    let mut returns = Vec::new();
    while done < BATCH {
        let room = (BATCH - done).min(slots_per_call);
        // SAFETY: msgs[done..done + room] are valid mmsghdrs pointing at live iovecs
        // and buffers.
        let n = unsafe {
            libc::sendmmsg(
                tx.as_raw_fd(),
                msgs[done..].as_mut_ptr(),
                room as libc::c_uint,
                0,
            )
        };
        if n < 0 {
            return Err(std::io::Error::last_os_error()).context("sendmmsg");
        }
        returns.push(n as u64);
        done += n as usize;
    }
    Ok(returns)
}

/// One recvmmsg(2) call: waits for the first datagram, then takes what is queued.
fn recv_batch(rx: &UdpSocket, slots: &mut [[u8; DATAGRAM + 1]]) -> Result<usize> {
    let mut iovs: Vec<libc::iovec> = slots
        .iter_mut()
        .map(|s| libc::iovec {
            iov_base: s.as_mut_ptr().cast(),
            iov_len: s.len(),
        })
        .collect();
    let mut msgs = headers(&mut iovs);
    // SAFETY: every mmsghdr points at one iovec over a live, writable slot.
    let n = unsafe {
        libc::recvmmsg(
            rx.as_raw_fd(),
            msgs.as_mut_ptr(),
            msgs.len() as libc::c_uint,
            libc::MSG_WAITFORONE,
            std::ptr::null_mut(),
        )
    };
    if n < 0 {
        return Err(std::io::Error::last_os_error()).context("recvmmsg");
    }
    let n = n as usize;
    anyhow::ensure!(
        msgs[..n].iter().all(|m| m.msg_len as usize == DATAGRAM),
        "a datagram of the wrong size"
    );
    Ok(n)
}

/// One mmsghdr per iovec.
fn headers(iovs: &mut [libc::iovec]) -> Vec<libc::mmsghdr> {
    iovs.iter_mut()
        .map(|iov| {
            // SAFETY: an all-zero msghdr is valid (no name, no control data).
            let mut hdr: libc::msghdr = unsafe { std::mem::zeroed() };
            hdr.msg_iov = iov;
            hdr.msg_iovlen = 1;
            libc::mmsghdr {
                msg_hdr: hdr,
                msg_len: 0,
            }
        })
        .collect()
}

fn main() {
    demos::run(BREAKS, |d| {
        d.expect(
            "sendfile needs far fewer system calls per MiB than read+write; sendmmsg sends 64 \
             datagrams per call, recvmmsg takes up to 64",
        );
        let dir = demos::private_dir()?;
        let path = dir.path().join("payload.bin");
        {
            let mut f = File::create(&path).context("creating the payload file")?;
            let chunk: Vec<u8> = (0..BUF).map(|i| (i % 251) as u8).collect();
            for _ in 0..FILE_SIZE / BUF {
                f.write_all(&chunk).context("writing the payload file")?;
            }
        }
        let mut file = File::open(&path).context("opening the payload file")?;
        if d.breaks("sendfile-64k") {
            SENDFILE_MAX.store(BUF, std::sync::atomic::Ordering::Relaxed);
        }
        let mib = FILE_SIZE as f64 / MIB;
        d.step(format_args!(
            "send a {mib:.0} MiB file over loopback TCP: read+write with a {} KiB buffer, then sendfile",
            BUF >> 10
        ));
        // Warm the page cache, so neither method pays for the disk.
        std::io::copy(&mut file, &mut std::io::sink()).context("reading the file once")?;

        let mut runs = Vec::new();
        for (name, method) in [
            (
                "read+write",
                read_write as fn(&mut File, &mut TcpStream) -> Result<Returns>,
            ),
            ("sendfile", sendfile),
        ] {
            use std::io::Seek;
            file.rewind().context("rewind")?;
            let t = transfer(&mut file, name, method)?;
            let rate = mib / t.took.as_secs_f64();
            let syscalls = t.returns.value().0.len();
            let per_mib = syscalls as f64 / mib;
            d.key(&t.returns);
            d.derived(format_args!(
                "{name:>10}: {per_mib:>5.2} calls per MiB, {rate:>6.0} MiB/s"
            ));
            let key = name.replace('+', "_");
            let label = name.replace('+', " + ");
            d.chart_metric(
                &format!("{key}.syscalls_per_mib"),
                &label,
                per_mib,
                "calls/MiB",
            );
            d.chart_metric(&format!("{key}.rate"), &label, rate, "MiB/s");
            runs.push(t);
        }
        let (rw, sf) = (&runs[0], &runs[1]);
        d.detail(format_args!(
            "read+write took {}, sendfile {}",
            demos::human(rw.took),
            demos::human(sf.took)
        ));
        d.check(
            sf.returns.value().0.len() * 100 <= rw.returns.value().0.len()
                && sf.returns.value().0.iter().sum::<u64>() == FILE_SIZE as u64,
            format_args!(
                "sendfile moved all {mib:.0} MiB in {} system call(s), read+write needed {} (at least 100x fewer)",
                sf.returns.value().0.len(),
                rw.returns.value().0.len()
            ),
        )?;

        d.step(format_args!(
            "{DATAGRAMS} UDP datagrams of {DATAGRAM} bytes: sendto/recvfrom, then {BATCH} per sendmmsg/recvmmsg"
        ));
        let one = d.breaks("mmsg-one");
        let send_slots = if one { 1 } else { BATCH };
        let recv_slots = if one || d.breaks("recvmmsg-one") {
            1
        } else if d.breaks("recvmmsg-4") {
            4
        } else {
            BATCH
        };
        let mut calls = Vec::new();
        for (name, batched) in [("one by one", false), ("mmsg", true)] {
            let (sends, recvs, received, took) = datagrams(batched, send_slots, recv_slots)?;
            let rate = received as f64 / took.as_secs_f64();
            let (sends, recvs) = if batched {
                let s = demos::evidence::read("sendmmsg return values", || Ok(sends))?;
                let r = demos::evidence::read("recvmmsg return values", || Ok(recvs))?;
                d.key(&s);
                d.key(&r);
                (s.into_value(), r.into_value())
            } else {
                (sends, recvs)
            };
            d.derived(format_args!(
                "{name:>10}: {:>4} send calls, {:>4} receive calls, {received} datagrams, {:.0}k/s",
                sends.0.len(),
                recvs.0.len(),
                rate / 1e3
            ));
            anyhow::ensure!(
                received == DATAGRAMS,
                "{name}: {received} of {DATAGRAMS} received"
            );
            let (sends, recvs) = (sends.0, recvs.0);
            let (key, label) = if batched {
                ("mmsg", "sendmmsg + recvmmsg")
            } else {
                ("single", "sendto + recvfrom")
            };
            d.chart_metric(
                &format!("{key}.calls"),
                label,
                (sends.len() + recvs.len()) as f64,
                "calls",
            );
            d.chart_metric(&format!("{key}.rate"), label, rate, "datagrams/s");
            calls.push((sends, recvs));
        }
        let ((s1, r1), (s64, r64)) = (&calls[0], &calls[1]);
        d.check(
            s64.iter().all(|&n| n == BATCH as u64) && s64.len() * BATCH == s1.len(),
            format_args!(
                "sendmmsg: every call sent {BATCH} datagrams: {} calls instead of {}",
                s64.len(),
                s1.len()
            ),
        )?;
        d.check(
            r64.iter().all(|&n| n <= BATCH as u64) && r64.len() * (BATCH / 2) <= r1.len(),
            format_args!(
                "recvmmsg: {} calls instead of {} (up to {BATCH} datagrams a call, at least {} on average)",
                r64.len(),
                r1.len(),
                BATCH / 2
            ),
        )?;
        Ok(())
    })
}
