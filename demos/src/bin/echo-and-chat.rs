//! A server is a few lines: an echo server serves one client, and a chat server with one thread and poll() serves three at once.
//!
//! poll(2): "waits for one of a set of file descriptors to become ready to perform
//! I/O"; a listening socket is readable when accept(2) will not block, a connected one
//! when recv(2) will not block (and returns 0 when the peer has closed).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use demos::{Break, Bytes, IO_TIMEOUT, Result, brk, net, peer};

const BREAKS: &[Break] = &[
    brk("no-echo", "the echo server reads but sends nothing back"),
    brk(
        "two-threads",
        "the chat server starts a second thread beside its poll loop",
    ),
    brk(
        "no-half-close",
        "the echo client never shuts down its sending side",
    ),
    brk(
        "to-sender-too",
        "the chat server sends each line to its sender too, not only to the others",
    ),
];

/// The most threads /proc/PID/status showed for `pid` while `busy` ran, sampled.
fn max_threads(
    pid: i32,
    done: &std::sync::atomic::AtomicBool,
) -> Result<demos::evidence::Observed<u64>> {
    // Sampled every millisecond while the clients chat; the most the kernel reported.
    demos::evidence::read("/proc/PID/status Threads, sampled while it served", || {
        let mut most = 0;
        while !done.load(std::sync::atomic::Ordering::Relaxed) {
            if let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status"))
                && let Some(n) = status
                    .lines()
                    .find_map(|l| l.strip_prefix("Threads:"))
                    .and_then(|n| n.trim().parse().ok())
            {
                most = most.max(n);
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        Ok(most)
    })
}
use nix::poll::{PollFd, PollFlags, poll};

/// The echo server: accept one client, send back every byte until it closes. (`echo`
/// false, `--break`: it reads everything and sends nothing back.)
fn echo_server(listener: &TcpListener, echo: bool) -> Result<()> {
    let (mut conn, _) = net::accept_timeout(listener)?;
    net::with_timeouts(&conn)?;
    if !echo {
        conn.shutdown(Shutdown::Write)
            .context("shutdown(SHUT_WR)")?;
        std::io::copy(&mut conn, &mut std::io::sink()).context("recv")?;
        return Ok(());
    }
    let mut buf = [0u8; 4096];
    loop {
        let n = conn.read(&mut buf).context("recv")?;
        if n == 0 {
            return Ok(()); // the client closed its side
        }
        conn.write_all(&buf[..n]).context("send")?;
    }
}

/// One chat client as the server sees it: its socket, its name, its unfinished line.
struct Member {
    conn: TcpStream,
    name: Option<String>,
    pending: Vec<u8>,
}

/// The chat server: one thread, one poll() over the listener and every client. The first
/// line of a client is its name; every later line goes to all the others. It stops when
/// `expected` clients have come and gone, and returns how many it served.
fn chat_server(listener: &TcpListener, expected: usize, to_sender: bool) -> Result<usize> {
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut members: HashMap<RawFd, Member> = HashMap::new();
    let mut served = 0;
    while served < expected || !members.is_empty() {
        let left = deadline.saturating_duration_since(Instant::now());
        anyhow::ensure!(!left.is_zero(), "the chat did not finish within 3 s");
        let mut fds = vec![PollFd::new(listener.as_fd(), PollFlags::POLLIN)];
        let order: Vec<RawFd> = members.keys().copied().collect();
        fds.extend(
            order
                .iter()
                .map(|fd| PollFd::new(members[fd].conn.as_fd(), PollFlags::POLLIN)),
        );
        let ms = u16::try_from(left.as_millis()).unwrap_or(u16::MAX);
        poll(&mut fds, ms).context("poll")?;
        let ready: Vec<bool> = fds
            .iter()
            .map(|p| p.revents().is_some_and(|r| !r.is_empty()))
            .collect();
        drop(fds);

        if ready[0] {
            let (conn, _) = listener.accept().context("accept")?;
            net::with_timeouts(&conn)?;
            served += 1;
            let member = Member {
                conn,
                name: None,
                pending: Vec::new(),
            };
            members.insert(member.conn.as_raw_fd(), member);
        }
        for (i, fd) in order.iter().enumerate() {
            if !ready[i + 1] {
                continue;
            }
            let mut buf = [0u8; 1024];
            let member = members.get_mut(fd).context("a polled client vanished")?;
            // A reset counts as leaving, like an orderly close (recv returns 0).
            let n = member.conn.read(&mut buf).unwrap_or(0);
            if n == 0 {
                let gone = members.remove(fd).context("a closed client vanished")?;
                let name = gone.name.unwrap_or_else(|| "?".into());
                broadcast_except(&mut members, Some(*fd), &format!("* {name} left\n"));
                continue;
            }
            member.pending.extend_from_slice(&buf[..n]);
            let mut outgoing = Vec::new();
            while let Some(end) = member.pending.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = member.pending.drain(..=end).collect();
                let text = String::from_utf8_lossy(&line).trim_end().to_owned();
                match &member.name {
                    // The first line is the name; everyone hears of the arrival.
                    None => {
                        member.name = Some(text.clone());
                        outgoing.push((true, None, text));
                    }
                    // Any later line goes to everyone else.
                    Some(name) => {
                        let skip = (!to_sender).then_some(*fd);
                        outgoing.push((false, skip, format!("{name}: {text}")));
                    }
                }
            }
            for (joined, skip, text) in outgoing {
                let line = if joined {
                    format!("* {text} joined ({} online)\n", members_named(&members))
                } else {
                    format!("{text}\n")
                };
                broadcast_except(&mut members, skip, &line);
            }
        }
    }
    Ok(served)
}

fn members_named(members: &HashMap<RawFd, Member>) -> usize {
    members.values().filter(|m| m.name.is_some()).count()
}

/// Sends `line` to every named member except `skip`.
fn broadcast_except(members: &mut HashMap<RawFd, Member>, skip: Option<RawFd>, line: &str) {
    for (fd, m) in members.iter_mut() {
        if Some(*fd) != skip && m.name.is_some() {
            // A client that is leaving may refuse (EPIPE); its close is handled when
            // poll reports it.
            let _ = m.conn.write_all(line.as_bytes());
        }
    }
}

/// A scripted chat client: say its name, wait until all three are in, say one line,
/// read the others' two lines, leave. Returns the lines it saw.
fn chat_client(addr: std::net::SocketAddr, name: &str, room: usize) -> Result<Vec<String>> {
    let mut conn = TcpStream::connect_timeout(&addr, IO_TIMEOUT).context("connect")?;
    net::with_timeouts(&conn)?;
    conn.write_all(format!("{name}\n").as_bytes())
        .context("send the name")?;
    let mut lines = BufReader::new(conn.try_clone().context("dup")?).lines();
    let mut seen = Vec::new();
    let mut said = false;
    while seen
        .iter()
        .filter(|l: &&String| !l.starts_with('*'))
        .count()
        < room - 1
    {
        let line = match lines.next() {
            Some(l) => l.context("recv")?,
            None => bail!("{name}: the server closed the connection"),
        };
        if !said && line.contains(&format!("({room} online)")) {
            conn.write_all(format!("hi, {name} here\n").as_bytes())
                .context("send a line")?;
            said = true;
        }
        seen.push(line);
    }
    // Leave politely: end our side, then read what is left until the server closes.
    conn.shutdown(Shutdown::Write)
        .context("shutdown(SHUT_WR)")?;
    for line in lines {
        line.context("recv after shutdown")?;
    }
    Ok(seen.into_iter().filter(|l| !l.starts_with('*')).collect())
}

fn main() {
    demos::run(BREAKS, |d| {
        d.expect("the echo server returns every byte; each chat client sees the other two lines");

        let echo = !d.breaks("no-echo");
        let (listener, addr) = net::tcp_listener()?;
        let server = peer::fork(|| match echo_server(&listener, echo) {
            Ok(()) => 0,
            Err(_) => 2,
        })?;
        drop(listener);
        d.step(format_args!(
            "echo server (pid {}) on {addr}; the client sends 3 lines, then shutdown(SHUT_WR)",
            server.pid()
        ));
        let mut client = TcpStream::connect_timeout(&addr, IO_TIMEOUT).context("connect")?;
        net::with_timeouts(&client)?;
        let sent = "one\ntwo\nthree\n";
        for line in sent.split_inclusive('\n') {
            client.write_all(line.as_bytes()).context("send")?;
        }
        if !d.breaks("no-half-close") {
            client
                .shutdown(Shutdown::Write)
                .context("shutdown(SHUT_WR)")?;
        }
        let back = d.syscall("recv until EOF", || {
            let mut back = Vec::new();
            client.read_to_end(&mut back).map(|_| Bytes(back))
        });
        d.key(&back);
        let status = server.wait(Duration::from_secs(3))?;
        d.derived(format_args!("the echo server exited: {status:?}"));
        d.check(
            back.value().as_ref().is_ok_and(|b| b.0 == sent.as_bytes())
                && status == peer::Exit::Code(0),
            "every byte came back, and the half-close ended the session",
        )?;

        let names = ["alice", "bob", "carol"];
        let (listener, addr) = net::tcp_listener()?;
        let second_thread = d.breaks("two-threads");
        let to_sender = d.breaks("to-sender-too");
        let server = peer::fork(|| {
            if second_thread {
                std::thread::spawn(|| std::thread::sleep(Duration::from_secs(5)));
            }
            match chat_server(&listener, names.len(), to_sender) {
                Ok(served) => i32::try_from(served).unwrap_or(2) + 10,
                Err(e) => {
                    eprintln!("chat server: {e:#}");
                    2
                }
            }
        })?;
        drop(listener);
        d.step(format_args!(
            "chat server (pid {}, one thread, poll()); {} clients connect at once",
            server.pid(),
            names.len()
        ));
        let done = std::sync::atomic::AtomicBool::new(false);
        let pid = server.pid().as_raw();
        let (seen, threads): (Vec<Result<Vec<String>>>, _) = std::thread::scope(|s| {
            let sampler = s.spawn(|| max_threads(pid, &done));
            let clients: Vec<_> = names
                .iter()
                .map(|name| s.spawn(move || chat_client(addr, name, names.len())))
                .collect();
            let seen = clients
                .into_iter()
                .map(|c| c.join().unwrap_or_else(|_| bail!("a client panicked")))
                .collect();
            done.store(true, std::sync::atomic::Ordering::Relaxed);
            let threads = sampler
                .join()
                .unwrap_or_else(|_| bail!("the thread sampler panicked"));
            (seen, threads)
        });
        let threads = threads?;
        d.key_that(&threads, "the most threads the chat server had");
        let status = server.wait(Duration::from_secs(2))?;
        let mut everyone_saw_the_others = true;
        for (name, lines) in names.iter().zip(seen) {
            let lines = lines.with_context(|| format!("chat client {name}"))?;
            d.derived(format_args!("{name} saw {lines:?}"));
            let others: Vec<&str> = names.iter().copied().filter(|n| n != name).collect();
            everyone_saw_the_others &= lines.len() == others.len()
                && others
                    .iter()
                    .all(|o| lines.contains(&format!("{o}: hi, {o} here")));
        }
        d.check(
            everyone_saw_the_others,
            "each client saw exactly the other two clients' lines",
        )?;
        // Its exit code is 10 + the clients it served, or 2 when it failed: a failed
        // server served none of the claim, and fails the check below.
        let served = match status {
            peer::Exit::Code(c) => c - 10,
            other => bail!("the chat server was stopped: {other:?}"),
        };
        d.check(
            served == names.len() as i32,
            format_args!("one server process served all {served} clients, all 3 online at once"),
        )?;
        d.check(
            *threads.value() == 1,
            "with one thread: /proc never showed the chat server with a second",
        )?;
        d.metric("chat.clients", f64::from(served), "clients");
        Ok(())
    })
}
