//! Run live: the deck asks the server to run a demo, and the output streams back into
//! the slide as server-sent events while the demo prints it.
//!
//! Only demos in the catalogue built at start-up can run, by name; the request carries
//! no arguments, paths or shell. One run per demo at a time, a few at most overall, a
//! hard time limit that kills the demo's process group, and a run whose page went away
//! is killed too (its response stream is dropped, and with it the run).

use std::collections::{BTreeSet, HashMap};
use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use axum::extract::{Path as UrlPath, State as Extract};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use transcript::Transcript;

use super::server::{State, reject};
use crate::capture;
use crate::runner::{self, Cancel};

/// How many demos may run at once, all pages together.
pub const MAX_CONCURRENT: usize = 3;
/// A live run is killed after this long.
pub const LIMIT: Duration = Duration::from_secs(20);

/// The demos that can run and what is running now.
pub struct Runs {
    bin_dir: PathBuf,
    /// Where "save as captured" writes (the demos crate).
    demos_dir: PathBuf,
    claims: HashMap<String, String>,
    running: Mutex<BTreeSet<String>>,
    /// The last complete live run of each demo, for "save as captured".
    last: Mutex<HashMap<String, Transcript>>,
    limit: Duration,
}

impl Runs {
    pub fn new(
        bin_dir: PathBuf,
        demos_dir: PathBuf,
        catalog: &[deck::DemoInfo],
        limit: Duration,
    ) -> Runs {
        Runs {
            bin_dir,
            demos_dir,
            claims: catalog
                .iter()
                .map(|d| (d.name.clone(), d.claim.clone()))
                .collect(),
            running: Mutex::new(BTreeSet::new()),
            last: Mutex::new(HashMap::new()),
            limit,
        }
    }

    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.claims.keys().cloned().collect();
        names.sort();
        names
    }
}

/// Marks a demo as running; clearing it (and killing the demo, if it still runs)
/// happens when this is dropped, which is also what a closed page causes.
struct Slot {
    state: State,
    name: String,
    cancel: Option<Cancel>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(c) = &self.cancel {
            c.cancel();
        }
        let mut running = self
            .state
            .inner
            .runs
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        running.remove(&self.name);
    }
}

/// `POST /__deck/run/NAME`: runs the demo and streams `chunk` events (a transcript
/// `Chunk` as JSON), then one `exit` event (`{"outcome":…, "duration_ms":…}`).
pub async fn run(Extract(state): Extract<State>, UrlPath(name): UrlPath<String>) -> Response {
    let runs = &state.inner.runs;
    let Some(claim) = runs.claims.get(&name).cloned() else {
        return reject(StatusCode::NOT_FOUND, format!("no demo named {name:?}"));
    };
    {
        let mut running = runs.running.lock().unwrap_or_else(|e| e.into_inner());
        if running.contains(&name) {
            return reject(StatusCode::CONFLICT, format!("{name} is already running"));
        }
        if running.len() >= MAX_CONCURRENT {
            return reject(
                StatusCode::TOO_MANY_REQUESTS,
                format!("{MAX_CONCURRENT} demos are already running"),
            );
        }
        running.insert(name.clone());
    }
    let mut slot = Slot {
        state: state.clone(),
        name: name.clone(),
        cancel: None,
    };
    let bin = runs.bin_dir.join(&name);
    // Recorded like a capture, so that "save as captured" keeps the numbers charts use.
    let metrics = match capture::MetricsFile::new() {
        Ok(m) => m,
        Err(e) => return reject(StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}")),
    };
    let metrics_path = metrics.path_str();
    let envs = [
        ("CLICOLOR_FORCE", "1"),
        (transcript::METRICS_ENV, metrics_path.as_str()),
    ];
    let (events, cancel) = match runner::start(&bin, &[], &envs, runs.limit) {
        Ok(started) => started,
        Err(e) => {
            return reject(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("could not start {name}: {e:#}"),
            );
        }
    };
    slot.cancel = Some(cancel);

    let (tx, rx) = mpsc::channel::<Result<Event, Infallible>>(64);
    // The runner reports on a blocking channel; forward each event the moment it comes.
    tokio::task::spawn_blocking(move || {
        let slot = slot; // dropped when the run ends or the page goes away
        let mut chunks = Vec::new();
        loop {
            let event = match events.recv_timeout(Duration::from_millis(100)) {
                Ok(event) => event,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) if tx.is_closed() => return, // page gone
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => continue,
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
            };
            let last = matches!(event, runner::Event::Exit { .. });
            let sse = match event {
                runner::Event::Output(chunk) => {
                    let e = Event::default().event("chunk").json_data(&chunk);
                    chunks.push(chunk);
                    e
                }
                runner::Event::Exit {
                    outcome,
                    duration_ms,
                } => {
                    // A run whose metrics cannot be read is shown, but not offered for saving.
                    if let Ok(recorded) = metrics.read() {
                        let t = capture::transcript_of(
                            &slot.name,
                            &claim,
                            std::mem::take(&mut chunks),
                            outcome,
                            duration_ms,
                            recorded,
                        );
                        let runs = &slot.state.inner.runs;
                        runs.last
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .insert(slot.name.clone(), t);
                    }
                    Event::default().event("exit").json_data(
                        serde_json::json!({ "outcome": outcome, "duration_ms": duration_ms }),
                    )
                }
            };
            let Ok(sse) = sse else { continue };
            if tx.blocking_send(Ok(sse)).is_err() || last {
                // Done, or the page went away: dropping the slot kills the demo.
                return;
            }
        }
    });
    Sse::new(ReceiverStream::new(rx))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(5)))
        .into_response()
}

/// `POST /__deck/save/NAME`: stores the last live run as the demo's transcript.
pub async fn save(Extract(state): Extract<State>, UrlPath(name): UrlPath<String>) -> Response {
    let runs = &state.inner.runs;
    if !runs.claims.contains_key(&name) {
        return reject(StatusCode::NOT_FOUND, format!("no demo named {name:?}"));
    }
    let Some(t) = runs
        .last
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&name)
        .cloned()
    else {
        return reject(
            StatusCode::CONFLICT,
            format!("{name} has not run live since the server started"),
        );
    };
    let dir = runs.demos_dir.clone();
    match tokio::task::spawn_blocking(move || capture::store_in(&dir, &t)).await {
        Ok(Ok(saved)) if saved.stored => (StatusCode::OK, "saved\n").into_response(),
        Ok(Ok(saved)) => reject(StatusCode::CONFLICT, saved.why),
        Ok(Err(e)) => reject(StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}")),
        Err(e) => reject(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}
