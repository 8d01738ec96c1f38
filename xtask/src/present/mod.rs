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
    let root = book::book_root(book)?;
    let ip = listen.unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
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
    let t0 = std::time::Instant::now();
    let out = book::build(&root, false, Player::Rebuild)?;
    eprintln!("built the deck in {:.1} s", t0.elapsed().as_secs_f64());
    let demos = book::BookConfig::load(&root)?.demos_dir();
    let runs = match &demos {
        // Built now, so the first "Run live" click does not wait for a compile.
        Some(dir) if same_dir(dir, &crate::demos::demos_dir()) => live::Runs::new(
            crate::demos::build_all()?,
            dir.clone(),
            &crate::demos::catalog()?,
            live::LIMIT,
        ),
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

    let (notices, _) = broadcast::channel(16);
    let transcripts = demos.map(|d| transcript::catalog::transcripts_dir(&d));
    let _watcher = watch::start(&root, transcripts.as_deref(), notices.clone())?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let addr = SocketAddr::new(ip, port);
        let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| {
            format!("listening on {addr} (is another `cargo xtask present` running? try --port)")
        })?;
        let local = listener.local_addr()?;
        let host = match local.ip() {
            IpAddr::V6(v6) => format!("[{v6}]:{}", local.port()),
            IpAddr::V4(v4) => format!("{v4}:{}", local.port()),
        };
        println!("serving the deck at http://{host}/  (Ctrl-C to stop)");
        let app = server::router(server::State::new(notices, local, runs), out);
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .context("serving")
    })?;
    Ok(ExitCode::SUCCESS)
}
