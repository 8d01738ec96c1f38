//! `cargo xtask present`: build the deck, serve it on loopback, rebuild on save, and
//! tell open pages to reload (they come back on the same slide).

mod live;
mod peer;
mod server;
#[cfg(test)]
mod tests;
mod watch;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use tokio::sync::broadcast;

use crate::book::{self, Player};

/// What the server tells open pages.
#[derive(Debug, Clone)]
pub enum Notice {
    /// A rebuild finished; reload.
    Reload(u64),
    /// A rebuild failed; the message says where.
    BuildFailed(String),
}

fn same_dir(a: &Path, b: &Path) -> bool {
    matches!((a.canonicalize(), b.canonicalize()), (Ok(a), Ok(b)) if a == b)
}

pub fn run(port: u16, book: Option<&Path>, listen: Option<IpAddr>) -> Result<ExitCode> {
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    // First: from here on a Ctrl-C or SIGTERM kills every run and stops the server.
    crate::runner::stop::on_stop(move || {
        let _ = stop_tx.send(true);
    })?;
    let root = book::book_root(book)?;
    let ip = listen_ip(listen)?;
    // Bound before building: a second `present` on a busy port must fail before it
    // rebuilds the running one's book.
    let listener = bind(SocketAddr::new(ip, port))?;
    let t0 = std::time::Instant::now();
    // On a fresh clone: serve first, with the diagrams as text until they can be drawn.
    let draw_later = crate::diagrams::defer_first_build();
    if draw_later.is_some() {
        eprintln!("the diagrams show as text until svgbob is built (in the background)");
    }
    let out = book::build(&root, false, Player::Rebuild)?;
    eprintln!("built the deck in {:.1} s", t0.elapsed().as_secs_f64());
    let demos = book::BookConfig::load(&root)?.demos_dir();
    let runs = live_runs(demos.as_deref())?;

    let (notices, _) = broadcast::channel(16);
    let transcripts = demos.map(|d| contract::catalog::transcripts_dir(&d));
    let (_watcher, rebuild) = watch::start(&root, transcripts.as_deref(), notices.clone())?;
    if let Some(build) = draw_later {
        std::thread::spawn(move || match build() {
            // Rebuilt as after a save: open pages reload on the slide they showed.
            Ok(()) => {
                eprintln!("drawing the diagrams: rebuilding the deck");
                let _ = rebuild.send(PathBuf::from("deck-diagram"));
            }
            Err(e) => eprintln!("the diagrams stay as text: {e:#}"),
        });
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener).context("serving")?;
        let local = listener.local_addr()?;
        let host = match local.ip() {
            IpAddr::V6(v6) => format!("[{v6}]:{}", local.port()),
            IpAddr::V4(v4) => format!("{v4}:{}", local.port()),
        };
        println!("serving the deck at http://{host}/  (Ctrl-C to stop)");
        let state = server::State::new(notices, local, Arc::clone(&runs), stop.clone());
        if runs.is_building() {
            build_demos_in_background(runs);
        }
        server::serve(
            listener,
            server::router(state, out),
            stop,
            Default::default(),
        )
        .await;
        anyhow::Ok(())
    })?;
    // Blocking tasks (a run being forwarded) must not hold the exit.
    runtime.shutdown_timeout(std::time::Duration::from_millis(300));
    Ok(ExitCode::SUCCESS)
}

/// The address to listen on: loopback unless told otherwise; never "any" (the server
/// answers only requests that name it, against DNS rebinding, and no browser names a
/// server 0.0.0.0 or ::). A warning when it is not loopback.
fn listen_ip(listen: Option<IpAddr>) -> Result<IpAddr> {
    // An IPv4-mapped IPv6 address (::ffff:127.0.0.1) is the IPv4 address.
    let ip = listen
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
        .to_canonical();
    anyhow::ensure!(
        !ip.is_unspecified(),
        "--listen {ip}: give one of this machine's own addresses, the one browsers will use"
    );
    if !ip.is_loopback() {
        eprintln!(
            "WARNING: listening on {ip}, not loopback: anyone who can reach it can browse the deck and run its demos on this machine"
        );
    }
    Ok(ip)
}

fn bind(addr: SocketAddr) -> Result<std::net::TcpListener> {
    let listener = std::net::TcpListener::bind(addr).map_err(|e| {
        let hint = if e.kind() == std::io::ErrorKind::AddrInUse {
            " (is another `cargo xtask present` running? try --port)"
        } else {
            ""
        };
        anyhow::anyhow!("listening on {addr}: {e}{hint}")
    })?;
    listener
        .set_nonblocking(true)
        .context("a non-blocking listener")?;
    Ok(listener)
}

/// What Run live can run: this repository's demos, built in the background so that
/// the deck is served at once (a run asked for before they are built is refused with
/// a message saying so); nothing for another book's demos.
fn live_runs(demos: Option<&Path>) -> Result<Arc<live::Runs>> {
    let runs = match demos {
        Some(dir) if same_dir(dir, &crate::demos::demos_dir()) => {
            live::Runs::building(dir.to_path_buf(), &crate::demos::catalog()?, live::LIMIT)
        }
        other => {
            // We can build and run only this repository's demos crate.
            eprintln!(
                "Run live is off: {}",
                match other {
                    Some(dir) => format!(
                        "this book's demos ({}) are not this repository's",
                        dir.display()
                    ),
                    None => "this book has no demos".into(),
                }
            );
            live::Runs::new(PathBuf::new(), PathBuf::new(), &[], live::LIMIT)
        }
    };
    Ok(Arc::new(runs))
}

fn build_demos_in_background(runs: Arc<live::Runs>) {
    std::thread::spawn(move || {
        let t0 = std::time::Instant::now();
        eprintln!("building the demos for Run live…");
        let result = crate::demos::build_all().map_err(|e| format!("{e:#}"));
        match &result {
            Ok(_) => eprintln!(
                "demos built in {:.1} s: Run live is on",
                t0.elapsed().as_secs_f64()
            ),
            Err(e) => eprintln!("the demos did not build, Run live is off: {e}"),
        }
        runs.built(result);
    });
}

/// For `cargo xtask bench`: how long after a demo prints its first line the line
/// reaches a Run-live client, through the real server on loopback, `n` times. The
/// stand-in demo prints the time it printed, so only delivery is measured.
pub fn first_chunk_latencies(n: usize) -> Result<Vec<std::time::Duration>> {
    use std::io::{Read, Write};
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().context("a directory for the stand-in demo")?;
    let bin = dir.path().join("clock");
    std::fs::write(&bin, "#!/bin/sh\necho \"at $(date +%s%N)\"\n")?;
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755))?;
    let catalog = [deck::DemoInfo {
        name: "clock".into(),
        claim: "prints the time".into(),
        source: bin.clone(),
    }];
    let runs = Arc::new(live::Runs::new(
        dir.path().to_path_buf(),
        dir.path().join("demos"),
        &catalog,
        live::LIMIT,
    ));
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let addr = listener.local_addr()?;
    let (notices, _) = broadcast::channel(1);
    let (_stop_tx, stop) = tokio::sync::watch::channel(false);
    let state = server::State::new(notices, addr, runs, stop.clone());
    let app = server::router(state, dir.path().to_path_buf());
    runtime.spawn(server::serve(listener, app, stop, Default::default()));
    let mut latencies = Vec::new();
    for _ in 0..n {
        let mut s = std::net::TcpStream::connect(addr)?;
        s.set_read_timeout(Some(std::time::Duration::from_secs(5)))?;
        write!(s, "POST /__deck/run/clock HTTP/1.0\r\nHost: {addr}\r\n\r\n")?;
        let mut seen = Vec::new();
        let mut piece = [0u8; 4096];
        let printed = loop {
            let k = s.read(&mut piece).context("reading the live run")?;
            anyhow::ensure!(k > 0, "the run ended before its first line");
            seen.extend_from_slice(&piece[..k]);
            let text = String::from_utf8_lossy(&seen);
            let digits: String = text
                .split_once("at ")
                .map(|(_, rest)| rest.chars().take_while(char::is_ascii_digit).collect())
                .unwrap_or_default();
            if digits.len() >= 19 {
                break digits.parse::<u128>()?;
            }
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_nanos();
        latencies.push(std::time::Duration::from_nanos(
            now.saturating_sub(printed) as u64
        ));
        // Let the run end and free its slot before the next.
        let _ = s.read_to_end(&mut seen);
    }
    Ok(latencies)
}

#[cfg(test)]
mod address_tests {
    use super::*;

    #[test]
    fn a_mapped_loopback_address_is_loopback_and_any_is_refused() {
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        assert_eq!(
            listen_ip(Some(mapped)).unwrap(),
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        );
        assert!(listen_ip(Some("0.0.0.0".parse().unwrap())).is_err());
        assert!(listen_ip(Some("::".parse().unwrap())).is_err());
    }

    #[test]
    fn only_a_busy_port_suggests_another_present() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let err = bind(taken.local_addr().unwrap()).unwrap_err().to_string();
        assert!(err.contains("another `cargo xtask present`"), "{err}");
        // An address this machine does not have (TEST-NET-1) is another problem.
        let err = bind("192.0.2.1:0".parse().unwrap())
            .unwrap_err()
            .to_string();
        assert!(!err.contains("another"), "{err}");
    }
}

#[cfg(test)]
mod live_runs_tests {
    use super::*;

    #[test]
    fn a_directory_is_the_same_by_another_path_and_a_missing_one_is_never_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let demos = dir.path().join("demos");
        std::fs::create_dir(&demos).unwrap();
        assert!(same_dir(&demos, &dir.path().join("demos/../demos")));
        assert!(!same_dir(&demos, dir.path()));
        let missing = dir.path().join("missing");
        assert!(!same_dir(&missing, &missing));
    }

    #[test]
    fn only_this_repositorys_demos_are_built_for_run_live() {
        let ours = live_runs(Some(&crate::demos::demos_dir())).unwrap();
        assert!(ours.is_building(), "this repository's demos are built");
        assert!(!ours.names().is_empty(), "and can run once built");
        let dir = tempfile::tempdir().unwrap();
        for other in [Some(dir.path()), None] {
            let runs = live_runs(other).unwrap();
            assert!(!runs.is_building(), "{other:?}: nothing to build");
            assert!(runs.names().is_empty(), "{other:?}: nothing can run");
        }
    }

    #[test]
    fn the_bench_measures_the_first_line_of_each_run_in_time() {
        let latencies = first_chunk_latencies(2).unwrap();
        assert_eq!(latencies.len(), 2);
        for l in latencies {
            assert!(
                l > std::time::Duration::ZERO && l < std::time::Duration::from_secs(5),
                "{l:?}"
            );
        }
    }
}
