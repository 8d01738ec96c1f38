//! `cargo xtask present`: build the deck, serve it on loopback, rebuild on save, and
//! tell open pages to reload (they come back on the same slide).

mod live;
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
    // First, before any thread starts (threads inherit the blocked signals).
    crate::runner::stop::on_stop(move || {
        let _ = stop_tx.send(true);
    })?;
    let root = book::book_root(book)?;
    let ip = listen
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
        .to_canonical();
    // The server answers only requests that name it (DNS rebinding), and no browser
    // names a server 0.0.0.0 or ::.
    anyhow::ensure!(
        !ip.is_unspecified(),
        "--listen {ip}: give one of this machine's own addresses, the one browsers will use"
    );
    if !ip.is_loopback() {
        eprintln!(
            "WARNING: listening on {ip}, not loopback: anyone who can reach it can browse the deck and run its demos on this machine"
        );
    }
    // Bound before building: a second `present` on a busy port must fail before it
    // rebuilds the running one's book.
    let listener = bind(SocketAddr::new(ip, port))?;
    let t0 = std::time::Instant::now();
    let out = book::build(&root, false, Player::Rebuild)?;
    eprintln!("built the deck in {:.1} s", t0.elapsed().as_secs_f64());
    let demos = book::BookConfig::load(&root)?.demos_dir();
    let runs = live_runs(demos.as_deref())?;

    let (notices, _) = broadcast::channel(16);
    let transcripts = demos.map(|d| transcript::catalog::transcripts_dir(&d));
    let _watcher = watch::start(&root, transcripts.as_deref(), notices.clone())?;

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
