//! Workers waiting in epoll on one shared listening socket all wake for a single connection, and only one gets it; EPOLLEXCLUSIVE wakes fewer.
//!
//! epoll_ctl(2), EPOLLEXCLUSIVE (Linux 4.5): "When a wakeup event occurs and multiple
//! epoll file descriptors are attached to the same target file using EPOLLEXCLUSIVE,
//! one or more of the epoll file descriptors will receive an event with epoll_wait(2).
//! The default in this scenario (when EPOLLEXCLUSIVE is not set) is for all epoll file
//! descriptors to receive an event."
//!
//! A woken worker that finds the connection already taken may go back to sleep inside
//! epoll_wait without ever returning to user space, so the workers cannot count their
//! own wakeups. The demo counts them where the kernel does: a worker's voluntary
//! context switches (`/proc/PID/status`) rise by one each time it is woken and sleeps
//! again. It knows a worker is asleep in epoll_wait from `/proc/PID/syscall`, which
//! names the system call a blocked task is in and says `running` otherwise.

use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use demos::peer::{self, Exit, Peer};
use demos::{Break, Demo, Evidence, IO_TIMEOUT, Observed, Result, brk, exit, fd, net};
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags};

/// Workers forked per round, as a small pre-fork server would.
const BREAKS: &[Break] = &[
    brk(
        "no-exclusive",
        "the second round also registers without EPOLLEXCLUSIVE",
    ),
    brk(
        "exclusive-both",
        "the first round registers with EPOLLEXCLUSIVE too",
    ),
    brk(
        "two-clients",
        "two clients connect in the EPOLLEXCLUSIVE round, not one: two workers get one",
    ),
];

const WORKERS: usize = 4;
/// How long a worker waits in epoll_wait; the parent ends the round well before.
const WAIT_MS: u16 = 2000;
/// How long the parent waits for the workers to fall asleep, and later to settle.
const SETTLE: Duration = Duration::from_secs(1);

/// How many workers EPOLLEXCLUSIVE may wake for one connection and still be "one or a
/// few" (epoll_ctl(2) promises "one or more"; one in every run seen here).
const MOST_EXCLUSIVE: usize = 2;

/// A worker's exit code says what its epoll_wait and accept() returned.
const SLEPT: i32 = 10;
const GOT_EAGAIN: i32 = 11;
const ACCEPTED: i32 = 12;

/// One worker: its own epoll instance on the shared listener, one wait, one accept().
fn worker(listener: &TcpListener, flags: EpollFlags) -> Result<i32> {
    let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC).context("epoll_create1")?;
    epoll
        .add(listener, EpollEvent::new(flags, 0))
        .context("epoll_ctl(EPOLL_CTL_ADD)")?;
    let mut events = [EpollEvent::empty()];
    if epoll.wait(&mut events, WAIT_MS).context("epoll_wait")? == 0 {
        return Ok(SLEPT);
    }
    match listener.accept() {
        Ok(_) => Ok(ACCEPTED),
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(GOT_EAGAIN),
        Err(e) => Err(e).context("accept"),
    }
}

/// Where a worker is, as /proc tells the parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Where {
    /// Asleep inside epoll_wait (or epoll_pwait, which some C libraries call instead).
    InEpoll,
    /// Running, runnable, or blocked somewhere else.
    Elsewhere,
    /// Exited (a zombie until reaped).
    Exited,
}

fn where_is(worker: &Peer) -> Result<Where> {
    let pid = worker.pid();
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("reading /proc/{pid}/stat"))?;
    // The state follows the command name, which is in parentheses and may hold spaces.
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.trim().chars().next());
    if matches!(state, Some('Z' | 'X')) {
        return Ok(Where::Exited);
    }
    let syscall = match std::fs::read_to_string(format!("/proc/{pid}/syscall")) {
        Ok(text) => text,
        // An exiting task has dropped its memory but is not yet a zombie; /proc then
        // gives its files to root, so an ordinary user may not read them for a moment.
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            return Ok(Where::Elsewhere);
        }
        Err(e) => return Err(e).with_context(|| format!("reading /proc/{pid}/syscall")),
    };
    let nr = syscall
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok());
    #[cfg(target_arch = "x86_64")]
    let epoll_calls = [libc::SYS_epoll_wait, libc::SYS_epoll_pwait, 441];
    #[cfg(not(target_arch = "x86_64"))]
    let epoll_calls = [libc::SYS_epoll_pwait, 441];
    // 441 is epoll_pwait2 on every architecture.
    Ok(match nr {
        Some(nr) if epoll_calls.contains(&nr) => Where::InEpoll,
        _ => Where::Elsewhere,
    })
}

/// Voluntary context switches: one more each time the task went to sleep.
fn sleeps(worker: &Peer) -> Result<u64> {
    let pid = worker.pid();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
        .and_then(|n| n.trim().parse().ok())
        .with_context(|| format!("no voluntary_ctxt_switches in /proc/{pid}/status"))
}

/// Polls until `done` holds for what /proc says of the workers, or fails at `SETTLE`.
fn wait_until(workers: &[Peer], what: &str, done: impl Fn(&[Where]) -> bool) -> Result<()> {
    let deadline = Instant::now() + SETTLE;
    loop {
        let seen = workers.iter().map(where_is).collect::<Result<Vec<_>>>()?;
        if done(&seen) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!("{what} within {SETTLE:?}: workers are {seen:?}");
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// What the kernel showed of one worker after the connection: still asleep in
/// epoll_wait, with its voluntary context switches (/proc/PID/status) before and after,
/// or gone, with the exit code waitpid returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seen {
    Waiting { before: u64, after: u64 },
    Exited(i32),
}

/// The workers of one round, as the kernel showed them.
struct Workers(Vec<Seen>);

impl Evidence for Workers {
    fn render(&self) -> String {
        let each: Vec<String> = self
            .0
            .iter()
            .map(|w| match w {
                Seen::Waiting { before, after } => format!("{before}→{after}"),
                Seen::Exited(code) => format!("exit {code}"),
            })
            .collect();
        each.join(", ")
    }
}

/// What one round's workers did, worked out from what the kernel showed.
struct Round {
    woke: usize,
    accepted: usize,
}

impl Round {
    fn of(workers: &Workers) -> Round {
        let mut seen = Round {
            woke: 0,
            accepted: 0,
        };
        for w in &workers.0 {
            match *w {
                // Still waiting: it woke only if it slept again since.
                Seen::Waiting { before, after } => seen.woke += usize::from(after > before),
                Seen::Exited(code) => {
                    seen.woke += 1;
                    seen.accepted += usize::from(code == ACCEPTED);
                }
            }
        }
        seen
    }
}

/// Forks the workers on one shared non-blocking listener, connects once, and counts.
fn round(flags: EpollFlags, clients: usize) -> Result<Workers> {
    let (listener, addr) = net::tcp_listener()?;
    // A worker that loses the race must get EAGAIN, not block in accept().
    fd::set_nonblocking(&listener, true)?;
    let mut workers = (0..WORKERS)
        .map(|_| {
            peer::fork(|| {
                worker(&listener, flags).unwrap_or_else(|e| {
                    eprintln!("worker: {e:#}");
                    exit::ERROR
                })
            })
        })
        .collect::<Result<Vec<_>>>()?;
    wait_until(
        &workers,
        "the workers did not all fall asleep in epoll_wait",
        |w| w.iter().all(|&w| w == Where::InEpoll),
    )?;
    let before = workers.iter().map(sleeps).collect::<Result<Vec<_>>>()?;

    let _clients = (0..clients)
        .map(|_| {
            TcpStream::connect_timeout(&addr, IO_TIMEOUT)
                .with_context(|| format!("connecting to {addr}"))
        })
        .collect::<Result<Vec<_>>>()?;
    // The winner leaves epoll_wait; then every woken loser either returns (and gets
    // EAGAIN) or is back asleep, and nobody is left running.
    wait_until(&workers, "no worker woke for the connection", |w| {
        w.iter().any(|&w| w != Where::InEpoll)
    })?;
    wait_until(&workers, "the workers did not settle", |w| {
        w.iter().all(|&w| w != Where::Elsewhere)
    })?;

    let mut seen = Vec::new();
    for (worker, before) in workers.drain(..).zip(before) {
        if where_is(&worker)? == Where::InEpoll {
            let after = sleeps(&worker)?;
            drop(worker);
            seen.push(Seen::Waiting { before, after });
            continue;
        }
        match worker.wait(IO_TIMEOUT)? {
            Exit::Code(code @ (ACCEPTED | GOT_EAGAIN)) => seen.push(Seen::Exited(code)),
            other => bail!("a worker ended {other:?}"),
        }
    }
    Ok(Workers(seen))
}

/// One round, as the kernel showed it: each worker's sleeps in /proc/PID/status if it
/// is still in epoll_wait (/proc/PID/syscall), else its exit code from waitpid (which
/// carries what its accept() returned).
fn observed_round(flags: EpollFlags, clients: usize) -> Result<Observed<Workers>> {
    demos::evidence::read(
        "workers: voluntary_ctxt_switches before→after (/proc/PID/status), or exit code (waitpid)",
        || round(flags, clients),
    )
}

/// Prints the kernel's answer and the counts that follow from it.
fn report(d: &Demo, r: &Observed<Workers>, round: &Round) {
    d.saw(r);
    let eagain = r
        .value()
        .0
        .iter()
        .filter(|w| **w == Seen::Exited(GOT_EAGAIN))
        .count();
    d.key_derived(format_args!(
        "{} of {WORKERS} workers woke: {} accepted (exit {ACCEPTED}), {} EAGAIN, {} slept again",
        round.woke,
        round.accepted,
        eagain,
        round.woke.saturating_sub(round.accepted + eagain)
    ));
}

fn main() {
    demos::run(BREAKS, |d| {
        d.expect("one connection wakes every worker in epoll; EPOLLEXCLUSIVE wakes fewer");
        d.step(format_args!(
            "listen() on 127.0.0.1 and fork {WORKERS} workers; each adds the socket to \
             its own epoll and waits"
        ));
        d.step("when /proc shows all asleep in epoll_wait, one client connects");
        let first = if d.breaks("exclusive-both") {
            EpollFlags::EPOLLIN | EpollFlags::EPOLLEXCLUSIVE
        } else {
            EpollFlags::EPOLLIN
        };
        let seen = observed_round(first, 1)?;
        let plain = Round::of(seen.value());
        report(d, &seen, &plain);

        let (exclusive, label) = if d.breaks("no-exclusive") {
            (EpollFlags::EPOLLIN, "EPOLLIN again")
        } else {
            (
                EpollFlags::EPOLLIN | EpollFlags::EPOLLEXCLUSIVE,
                "EPOLLEXCLUSIVE",
            )
        };
        d.step(format_args!(
            "again, each worker adding the socket with {label}"
        ));
        let clients = if d.breaks("two-clients") { 2 } else { 1 };
        let seen = observed_round(exclusive, clients)?;
        let excl = Round::of(seen.value());
        report(d, &seen, &excl);
        d.chart_metric("herd.woke.plain", "EPOLLIN", plain.woke as f64, "workers");
        d.chart_metric(
            "herd.woke.exclusive",
            "EPOLLEXCLUSIVE",
            excl.woke as f64,
            "workers",
        );

        d.check(
            plain.woke == WORKERS,
            "without EPOLLEXCLUSIVE, one connection woke every worker (all 4)",
        )?;
        d.check(
            plain.accepted == 1 && excl.accepted == 1,
            "each time exactly one worker accepted it",
        )?;
        d.check(
            (1..=MOST_EXCLUSIVE).contains(&excl.woke),
            format_args!(
                "with EPOLLEXCLUSIVE, one or a few woke: at most {MOST_EXCLUSIVE} of {WORKERS}"
            ),
        )?;
        Ok(())
    })
}
