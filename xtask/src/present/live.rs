//! Run live: the deck asks the server to run a demo, and the output streams back into
//! the slide as server-sent events while the demo prints it.
//!
//! Only demos in the catalogue built at start-up can run, by name; the request carries
//! no arguments, paths or shell. One run per demo at a time, a few at most overall, a
//! hard time limit that kills the demo's process group, and a run whose page went away
//! is killed too (its response stream is dropped, and with it the run). A page that
//! stops reading is treated the same way: it loses its run at the time limit, and the
//! output waiting for it is bounded (the runner caps output and queues little).
//!
//! The events are [`contract::live`]'s, the one definition the player reads too.

use std::collections::{BTreeSet, HashMap};
use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{Path as UrlPath, State as Extract};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use contract::Transcript;
use contract::live::{LiveEvent, LiveExit};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use super::server::{State, reject};
use crate::capture;
use crate::runner::{self, Cancel};

/// How many demos may run at once, all pages together.
pub const MAX_CONCURRENT: usize = 3;
/// A live run is killed after this long.
pub const LIMIT: Duration = Duration::from_secs(20);
/// How often a run's packet stream is looked at: the most a packet waits on the server.
const PACKET_POLL: Duration = Duration::from_millis(10);
/// The packets one run forwards at most (a ladder shows a few dozen; a demo that sends
/// more still runs, and its recorded connections still come).
const MAX_PACKETS: usize = 10_000;

/// The demos that can run and what is running now.
pub struct Runs {
    /// Where the built demos are, once they are built.
    bin_dir: Mutex<Build>,
    /// Where "save as captured" writes (the demos crate).
    demos_dir: PathBuf,
    claims: HashMap<String, String>,
    running: Mutex<BTreeSet<String>>,
    /// The last complete live run of each demo, for "save as captured".
    last: Mutex<HashMap<String, Transcript>>,
    limit: Duration,
    /// Bytes a run may print before it is stopped.
    max_output: usize,
}

/// The demos' build, which `present` runs in the background after serving the deck.
#[derive(Debug, Clone)]
pub enum Build {
    Running,
    Done(PathBuf),
    Failed(String),
}

impl Runs {
    pub fn new(
        bin_dir: PathBuf,
        demos_dir: PathBuf,
        catalog: &[deck::DemoInfo],
        limit: Duration,
    ) -> Runs {
        Runs {
            bin_dir: Mutex::new(Build::Done(bin_dir)),
            demos_dir,
            claims: catalog
                .iter()
                .map(|d| (d.name.clone(), d.claim.clone()))
                .collect(),
            running: Mutex::new(BTreeSet::new()),
            last: Mutex::new(HashMap::new()),
            limit,
            max_output: runner::max_output(),
        }
    }

    /// Like [`Runs::new`], for demos still being built: runs are refused (503, saying
    /// so) until [`Runs::built`].
    pub fn building(demos_dir: PathBuf, catalog: &[deck::DemoInfo], limit: Duration) -> Runs {
        let runs = Runs::new(PathBuf::new(), demos_dir, catalog, limit);
        *runs.bin_dir.lock().unwrap_or_else(|e| e.into_inner()) = Build::Running;
        runs
    }

    /// Records the end of the background build.
    pub fn built(&self, result: Result<PathBuf, String>) {
        *self.bin_dir.lock().unwrap_or_else(|e| e.into_inner()) = match result {
            Ok(dir) => Build::Done(dir),
            Err(e) => Build::Failed(e),
        };
    }

    pub fn is_building(&self) -> bool {
        matches!(
            *self.bin_dir.lock().unwrap_or_else(|e| e.into_inner()),
            Build::Running
        )
    }

    /// The demo's binary, or the refusal that explains why there is none yet.
    fn binary(&self, name: &str) -> Result<PathBuf, Refusal> {
        match &*self.bin_dir.lock().unwrap_or_else(|e| e.into_inner()) {
            Build::Done(dir) => Ok(dir.join(name)),
            Build::Running => Err((
                StatusCode::SERVICE_UNAVAILABLE,
                "the demos are still building; Run live works as soon as they are built".into(),
            )),
            Build::Failed(e) => Err((
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("the demos did not build: {e}"),
            )),
        }
    }

    /// The same, with another output cap.
    #[cfg(test)]
    pub fn with_max_output(mut self, bytes: usize) -> Runs {
        self.max_output = bytes;
        self
    }

    /// How many runs hold a slot now.
    #[cfg(test)]
    pub fn running_count(&self) -> usize {
        self.running.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.claims.keys().cloned().collect();
        names.sort();
        names
    }
}

/// Why a run is refused, for [`reject`].
type Refusal = (StatusCode, String);

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

/// `POST /__deck/run/NAME`: runs the demo and streams [`LiveEvent`]s: `chunk`s as the
/// demo prints, `packet`s as its capture reads them (within [`PACKET_POLL`]), `wire`
/// connections as it records them, then one `exit`.
pub async fn run(Extract(state): Extract<State>, UrlPath(name): UrlPath<String>) -> Response {
    let runs = &state.inner.runs;
    let Some(claim) = runs.claims.get(&name).cloned() else {
        return reject(StatusCode::NOT_FOUND, format!("no demo named {name:?}"));
    };
    let bin = match runs.binary(&name) {
        Ok(bin) => bin,
        Err((status, why)) => return reject(status, why),
    };
    let mut slot = match Slot::take(&state, &name) {
        Ok(slot) => slot,
        Err((status, why)) => return reject(status, why),
    };
    // Recorded like a capture, so that "save as captured" keeps the numbers charts use.
    let metrics = match capture::MetricsFile::new() {
        Ok(m) => m,
        Err(e) => return reject(StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}")),
    };
    let metrics_path = metrics.path_str();
    let wire_path = metrics.wire_path_str();
    let packets_path = metrics.packets_path().to_string_lossy().into_owned();
    let envs = [
        ("CLICOLOR_FORCE", "1"),
        (contract::METRICS_ENV, metrics_path.as_str()),
        (contract::WIRE_ENV, wire_path.as_str()),
        (contract::PACKETS_ENV, packets_path.as_str()),
    ];
    let (events, cancel) = match runner::start_capped(&bin, &[], &envs, runs.limit, runs.max_output)
    {
        Ok(started) => started,
        Err(e) => {
            return reject(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("could not start {name}: {e:#}"),
            );
        }
    };
    slot.cancel = Some(cancel);
    let deadline = Instant::now() + runs.limit;
    let (tx, rx) = mpsc::channel::<Result<Event, Infallible>>(16);
    // The runner reports on a blocking channel; forward each event the moment it comes.
    tokio::task::spawn_blocking(move || {
        let run = Forward {
            slot, // dropped when the run ends or the page goes away: that kills the demo
            claim,
            metrics,
            tx,
            deadline,
        };
        run.forward(events);
    });
    Sse::new(ReceiverStream::new(rx))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(5)))
        .into_response()
}

impl Slot {
    /// Marks `name` as running, unless it is or too many demos are.
    fn take(state: &State, name: &str) -> Result<Slot, Refusal> {
        let mut running = state
            .inner
            .runs
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if running.contains(name) {
            return Err((StatusCode::CONFLICT, format!("{name} is already running")));
        }
        if running.len() >= MAX_CONCURRENT {
            return Err((
                StatusCode::TOO_MANY_REQUESTS,
                format!("{MAX_CONCURRENT} demos are already running"),
            ));
        }
        running.insert(name.to_string());
        Ok(Slot {
            state: state.clone(),
            name: name.to_string(),
            cancel: None,
        })
    }
}

/// One live run on its way to the page.
struct Forward {
    slot: Slot,
    claim: String,
    metrics: capture::MetricsFile,
    tx: mpsc::Sender<Result<Event, Infallible>>,
    /// A page that has not taken the events by then loses the run.
    deadline: Instant,
}

impl Forward {
    fn forward(mut self, events: std::sync::mpsc::Receiver<runner::Event>) {
        use std::sync::mpsc::RecvTimeoutError;
        let mut chunks = Vec::new();
        let mut packets = Tail::new(self.metrics.packets_path());
        let mut wire = Tail::new(self.metrics.wire_path_str().into());
        let mut forwarded = 0;
        loop {
            let event = events.recv_timeout(PACKET_POLL);
            // Each packet the demo's capture has read, the moment it is written (and
            // all of them before the connections that hold them and before the exit).
            let fresh: Vec<contract::wire::LivePacket> = packets.new_lines();
            for p in fresh {
                if forwarded >= MAX_PACKETS {
                    break;
                }
                forwarded += 1;
                let live = LiveEvent::Packet(Box::new(p));
                if !self.send_in_time(Event::default().event(live.name()).data(live.data())) {
                    return;
                }
            }
            // Each connection the demo has recorded off its capture so far, as it comes
            // (and all of them before the exit).
            for c in wire.new_lines() {
                let live = LiveEvent::Wire(Box::new(c));
                if !self.send_in_time(Event::default().event(live.name()).data(live.data())) {
                    return;
                }
            }
            let event = match event {
                Ok(event) => event,
                Err(RecvTimeoutError::Timeout) if self.tx.is_closed() => return, // page gone
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => return,
            };
            let live = match event {
                runner::Event::Output(chunk) => {
                    chunks.push(chunk.clone());
                    LiveEvent::Chunk(chunk)
                }
                runner::Event::Exit {
                    outcome,
                    duration_ms,
                    truncated,
                } => {
                    let exit = LiveExit {
                        outcome,
                        duration_ms,
                        truncated,
                    };
                    self.keep_for_saving(std::mem::take(&mut chunks), exit);
                    LiveEvent::Exit(exit)
                }
            };
            let last = matches!(live, LiveEvent::Exit(_));
            let sse = Event::default().event(live.name()).data(live.data());
            if !self.send_in_time(sse) || last {
                // Done, or the page went away or stopped reading: dropping the slot
                // kills the demo.
                return;
            }
        }
    }

    /// Sends unless the page has stopped reading until the deadline.
    fn send_in_time(&self, sse: Event) -> bool {
        let mut sse = Ok(sse);
        loop {
            match self.tx.try_send(sse) {
                Ok(()) => return true,
                Err(mpsc::error::TrySendError::Closed(_)) => return false,
                Err(mpsc::error::TrySendError::Full(back)) => {
                    if Instant::now() >= self.deadline {
                        return false;
                    }
                    sse = back;
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
        }
    }

    /// A run whose metrics cannot be read is shown, but not offered for saving.
    fn keep_for_saving(&mut self, chunks: Vec<contract::Chunk>, exit: LiveExit) {
        if let (Ok(recorded), Ok(wire)) = (self.metrics.read(), self.metrics.read_wire()) {
            let mut t = capture::transcript_of(
                &self.slot.name,
                &self.claim,
                chunks,
                exit.outcome,
                exit.duration_ms,
                recorded,
            );
            t.wire = wire;
            let runs = &self.slot.state.inner.runs;
            runs.last
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(self.slot.name.clone(), t);
        }
    }
}

/// A file of JSON lines a running demo appends to, read as its lines are completed:
/// the connections it recorded (`contract::WIRE_ENV`, written when the demo has read a
/// connection off its capture) and the packets its capture read
/// (`contract::PACKETS_ENV`, written the moment each is read).
struct Tail {
    path: std::path::PathBuf,
    /// The file, once the demo has made it.
    file: Option<std::fs::File>,
    /// The start of a line not yet finished.
    partial: Vec<u8>,
}

impl Tail {
    fn new(path: std::path::PathBuf) -> Tail {
        Tail {
            path,
            file: None,
            partial: Vec::new(),
        }
    }

    /// The values whose lines were completed since the last call; a line that does not
    /// parse is skipped (the saved transcript reads the wire file again and says so).
    fn new_lines<T: serde::de::DeserializeOwned>(&mut self) -> Vec<T> {
        use std::io::Read;
        if self.file.is_none() {
            self.file = std::fs::File::open(&self.path).ok();
        }
        let Some(file) = self.file.as_mut() else {
            return Vec::new(); // nothing written yet
        };
        if file.read_to_end(&mut self.partial).is_err() {
            return Vec::new();
        }
        let mut out = Vec::new();
        while let Some(end) = self.partial.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=end).collect();
            if let Ok(v) = serde_json::from_slice(&line) {
                out.push(v);
            }
        }
        out
    }
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
        // A failed run, written because nothing good was there: saved, and it says so.
        Ok(Ok(saved)) if saved.written => {
            (StatusCode::OK, format!("{}\n", saved.why)).into_response()
        }
        Ok(Ok(saved)) => reject(StatusCode::CONFLICT, saved.why),
        Ok(Err(e)) => reject(StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}")),
        Err(e) => reject(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

#[cfg(test)]
mod wire_tail_tests {
    use super::Tail;
    use std::io::Write;

    /// Run live forwards each connection once its line is complete, and only once.
    #[test]
    fn the_wire_file_is_read_a_finished_line_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wire.jsonl");
        let mut tail = Tail::new(path.clone());
        let names = |tail: &mut Tail| -> Vec<String> {
            let lines: Vec<contract::wire::Connection> = tail.new_lines();
            lines.into_iter().map(|c| c.name).collect()
        };
        assert!(names(&mut tail).is_empty(), "no file yet");
        let line = r#"{"name":"unread","client":"127.0.0.1:1","server":"127.0.0.1:2","start_unix_us":1,"packets":[{"at_us":0,"from_client":true,"proto":"tcp","flags":["SYN"],"len":0,"frame":"","frame_len":54}]}"#;
        let mut f = std::fs::File::create(&path).unwrap();
        f.write_all(&line.as_bytes()[..40]).unwrap();
        f.flush().unwrap();
        assert!(names(&mut tail).is_empty(), "half a line");
        f.write_all(&line.as_bytes()[40..]).unwrap();
        f.write_all(b"\n").unwrap();
        f.write_all(line.replace("unread", "linger").as_bytes())
            .unwrap();
        f.write_all(b"\n").unwrap();
        f.flush().unwrap();
        assert_eq!(names(&mut tail), ["unread", "linger"]);
        assert!(names(&mut tail).is_empty(), "each once");
    }
}
