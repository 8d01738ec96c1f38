//! The HTTP side of `present`: the built book as static files, an event stream that
//! tells open pages to reload after a rebuild, and the Run-live endpoint.
//!
//! Every request passes [`guard`] first: the server runs programs on the presenter's
//! machine, so it answers only requests addressed to itself by name (a DNS-rebinding
//! page has another Host), and refuses cross-origin requests to its actions. Every
//! response says it may not be framed by another page (a hidden Run live button under
//! a hostile page's click) nor sniffed as another type.
//!
//! Run live and Save as captured are the presenter's alone: on this machine, the peer's
//! socket must belong to the user the server runs as (another local user's browser or
//! curl is refused), see [`peer`].
//!
//! [`serve`] is the accept loop: one request per connection, and separate limits for
//! the three kinds of connection, so that none starves the others ([`Limits`]): those
//! still sending their headers (the one waiting longest is dropped for a newcomer),
//! requests being answered, and event streams (a few per peer, a new one replacing the
//! peer's oldest; a heartbeat drops a peer that stopped reading, and each stream has a
//! time limit). A stop ends every stream.

use std::collections::{HashMap, HashSet, VecDeque};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State as Extract};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::sync::{Notify, broadcast, watch};
use tokio_stream::StreamExt;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_stream::wrappers::{BroadcastStream, ReceiverStream};
use tower_http::services::ServeDir;

use super::live::{self, Runs};
use super::{Notice, peer};

#[derive(Clone)]
pub struct State {
    pub(super) inner: Arc<Inner>,
}

pub(super) struct Inner {
    pub notices: broadcast::Sender<Notice>,
    /// The Host header values that name this server (`127.0.0.1:3000`, `localhost:3000`).
    pub hosts: HashSet<String>,
    pub runs: Arc<Runs>,
    /// Becomes true when the server stops: event streams end then.
    pub stop: watch::Receiver<bool>,
    /// The user whose requests may run and save demos: the one the server runs as.
    pub presenter: u32,
    /// Whether the server listens on loopback, where every peer is on this machine.
    pub loopback: bool,
}

impl State {
    pub fn new(
        notices: broadcast::Sender<Notice>,
        addr: SocketAddr,
        runs: Arc<Runs>,
        stop: watch::Receiver<bool>,
    ) -> State {
        State {
            inner: Arc::new(Inner {
                notices,
                hosts: host_names(addr),
                runs,
                stop,
                presenter: nix::unistd::geteuid().as_raw(),
                loopback: addr.ip().is_loopback(),
            }),
        }
    }

    /// The same server for another presenter (tests: a request from "another user").
    #[cfg(test)]
    pub fn with_presenter(self, uid: u32) -> State {
        let inner = Arc::try_unwrap(self.inner).unwrap_or_else(|_| panic!("state shared"));
        State {
            inner: Arc::new(Inner {
                presenter: uid,
                ..inner
            }),
        }
    }
}

/// The names a browser may use for this server. `localhost` counts only when we
/// listen on loopback, where it can only mean us. On port 80 browsers leave the port
/// out of Host, so the bare name counts too.
fn host_names(addr: SocketAddr) -> HashSet<String> {
    let port = addr.port();
    let mut names = vec![match addr {
        SocketAddr::V4(a) => a.ip().to_string(),
        SocketAddr::V6(a) => format!("[{}]", a.ip()),
    }];
    if addr.ip().is_loopback() {
        names.push("localhost".into());
    }
    let mut hosts = HashSet::new();
    for name in names {
        hosts.insert(format!("{name}:{port}"));
        if port == 80 {
            hosts.insert(name);
        }
    }
    hosts
}

/// Requests are tiny; anything with a body larger than this is not ours.
const MAX_BODY: usize = 4 * 1024;

/// The Content-Security-Policy of every response. `frame-ancestors 'none'` is the
/// point (no other page may frame the deck); scripts come only from the deck itself,
/// but mdBook's pages carry inline scripts (theme and sidebar set-up, generated per
/// page), so those stay allowed; `wasm-unsafe-eval` lets the player's WebAssembly compile.
pub const CSP: &str = "default-src 'self'; script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
    connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; \
    frame-ancestors 'none'";

/// The deck's routes, with the built book (`out`) as the fallback.
pub fn router(state: State, out: PathBuf) -> Router {
    let book = Arc::new(out.canonicalize().unwrap_or_else(|_| out.clone()));
    Router::new()
        .route(&format!("/{}", contract::live::EVENTS_PATH), get(events))
        .route(&format!("/{}", contract::live::STATUS_PATH), get(status))
        .route(
            &format!("/{}{{name}}", contract::live::RUN_PATH),
            post(live::run),
        )
        .route(
            &format!("/{}{{name}}", contract::live::SAVE_PATH),
            post(live::save),
        )
        .fallback_service(ServeDir::new(out).append_index_html_on_directories(true))
        .layer(middleware::from_fn_with_state(book, inside_book))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(middleware::from_fn_with_state(state.clone(), guard))
        .layer(middleware::map_response(protect))
        .with_state(state)
}

/// Headers every response carries, rejections included.
async fn protect(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// Static files only from inside `book/`: a symlink in it that points out is a 404,
/// whatever the file service would do with it. Only the API routes are exempt (they
/// are no files); any other path under `/__deck/` is a file like the rest.
async fn inside_book(
    Extract(book): Extract<Arc<PathBuf>>,
    request: Request,
    next: Next,
) -> Response {
    if !is_api(request.uri().path()) && !resolves_inside(&book, request.uri().path()) {
        return reject(StatusCode::NOT_FOUND, "not found");
    }
    next.run(request).await
}

/// Whether `path` is one of the server's own routes (`/__deck/status`, `/__deck/events`,
/// `/__deck/run/NAME`, `/__deck/save/NAME`), which the router answers before any file.
fn is_api(path: &str) -> bool {
    use contract::live::{EVENTS_PATH, RUN_PATH, SAVE_PATH, STATUS_PATH};
    let Some(path) = path.strip_prefix('/') else {
        return false;
    };
    path == EVENTS_PATH
        || path == STATUS_PATH
        || [RUN_PATH, SAVE_PATH].iter().any(|route| {
            path.strip_prefix(route)
                .is_some_and(|name| !name.is_empty() && !name.contains('/'))
        })
}

/// Whether the file a request path names (if it exists) really lies under `book`.
fn resolves_inside(book: &Path, path: &str) -> bool {
    let decoded = percent_encoding::percent_decode_str(path).decode_utf8_lossy();
    let mut target = book.to_path_buf();
    for part in decoded.split('/').filter(|p| !p.is_empty() && *p != ".") {
        if part == ".." {
            return false;
        }
        target.push(part);
    }
    let mut candidates = vec![target.clone()];
    if target.is_dir() {
        candidates.push(target.join("index.html"));
    }
    candidates.iter().all(|c| match c.canonicalize() {
        Ok(real) => real.starts_with(book),
        // Missing: the file service answers 404 itself.
        Err(_) => !c.is_symlink(),
    })
}

/// A short plain-text error response.
pub fn reject(status: StatusCode, message: impl Into<String>) -> Response {
    let mut body = message.into();
    body.push('\n');
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

/// DNS rebinding, cross-origin actions and oversized requests stop here.
async fn guard(Extract(state): Extract<State>, request: Request, next: Next) -> Response {
    let headers = request.headers();
    let one = |name| single(headers, name);
    let (host, origin, site) = match (
        one(header::HOST.as_str()),
        one(header::ORIGIN.as_str()),
        one("sec-fetch-site"),
    ) {
        (Ok(h), Ok(o), Ok(s)) => (h.unwrap_or(""), o, s),
        (Err(name), _, _) | (_, Err(name), _) | (_, _, Err(name)) => {
            return reject(
                StatusCode::BAD_REQUEST,
                format!("one readable {name} header, please"),
            );
        }
    };
    if !state.inner.hosts.contains(&host.to_ascii_lowercase()) {
        return reject(
            StatusCode::MISDIRECTED_REQUEST,
            format!("this server does not answer to Host {host:?}"),
        );
    }
    let is_action = request.method() != Method::GET && request.method() != Method::HEAD;
    if is_action && !same_origin(origin, site, host) {
        return reject(
            StatusCode::FORBIDDEN,
            "cross-origin requests may not run demos",
        );
    }
    if is_action && !from_presenter(&state, request.extensions().get::<Connection>()) {
        return reject(
            StatusCode::FORBIDDEN,
            "only the user who started `cargo xtask present` may run or save demos",
        );
    }
    if headers.contains_key(header::TRANSFER_ENCODING) {
        // Our requests have no body; a chunked one could be of any size.
        return reject(
            StatusCode::LENGTH_REQUIRED,
            "request bodies must have a length",
        );
    }
    let lengths: Vec<_> = headers.get_all(header::CONTENT_LENGTH).iter().collect();
    let length = match lengths.as_slice() {
        [] => Some(0),
        [one] => one
            .to_str()
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok()),
        _ => None,
    };
    match length {
        None => {
            return reject(
                StatusCode::BAD_REQUEST,
                "one readable Content-Length, please",
            );
        }
        Some(len) if len > MAX_BODY => {
            return reject(StatusCode::PAYLOAD_TOO_LARGE, "request body too large");
        }
        Some(_) => {}
    }
    next.run(request).await
}

/// Whether a request comes from the presenter: its peer's socket, looked up in the
/// kernel's table, belongs to the server's own user. A peer not in the table is on
/// another machine, which only a server told to `--listen` off loopback can see (it
/// warns that anyone who reaches it can run demos); on loopback it is refused.
fn from_presenter(state: &State, conn: Option<&Connection>) -> bool {
    let Some(conn) = conn else {
        return false;
    };
    match peer::uid(conn.peer, conn.local) {
        Some(uid) => uid == state.inner.presenter,
        None => !state.inner.loopback,
    }
}

/// The value of a header that may appear at most once: `Err(name)` if it appears more
/// than once or is not readable text (refused, never taken as absent).
fn single<'a>(headers: &'a HeaderMap, name: &'static str) -> Result<Option<&'a str>, &'static str> {
    let mut values = headers.get_all(name).iter();
    let first = values.next();
    if values.next().is_some() {
        return Err(name);
    }
    first.map(|v| v.to_str().map_err(|_| name)).transpose()
}

/// A browser always says where a request comes from (`Origin`, `Sec-Fetch-Site`); a
/// request that names another origin is refused. Tools like curl send neither.
fn same_origin(origin: Option<&str>, site: Option<&str>, host: &str) -> bool {
    if let Some(site) = site
        && site != "same-origin"
        && site != "none"
    {
        return false;
    }
    match origin {
        None => true,
        Some(origin) => origin.eq_ignore_ascii_case(&format!("http://{host}")),
    }
}

/// Server-sent events: `reload` after each rebuild, `build-failed` with the error.
///
/// A stream counts against the event-stream limits ([`Limits::streams`]), sends a
/// heartbeat (an SSE comment) every [`Limits::heartbeat`]: a peer that has not taken
/// one by the next loses its connection (a dead or stalled page frees its place), and
/// ends after [`Limits::stream_life`] (the page's `EventSource` reconnects by itself).
async fn events(Extract(state): Extract<State>, request: Request) -> Response {
    let Some(conn) = request.extensions().get::<Connection>().cloned() else {
        return reject(StatusCode::INTERNAL_SERVER_ERROR, "no connection");
    };
    let key = match peer::uid(conn.peer, conn.local) {
        Some(uid) => format!("uid {uid}"),
        None => format!("address {}", conn.peer.ip()),
    };
    if let Err(why) = conn.registry.stream(conn.id, key) {
        return reject(StatusCode::SERVICE_UNAVAILABLE, why);
    }
    let limits = conn.registry.limits;
    let mut notices = BroadcastStream::new(state.inner.notices.subscribe());
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Event, Infallible>>(4);
    let mut stop = state.inner.stop.clone();
    tokio::spawn(async move {
        let end = tokio::time::Instant::now() + limits.stream_life;
        let mut beat = tokio::time::interval(limits.heartbeat);
        beat.tick().await;
        let first = Event::default()
            .retry(Duration::from_secs(1))
            .comment("deck");
        let mut next = Some(first);
        loop {
            if let Some(event) = next.take() {
                // The peer must take each event within a heartbeat, or it is gone.
                match tokio::time::timeout(limits.heartbeat, tx.send(Ok(event))).await {
                    Ok(Ok(())) => {}
                    Ok(Err(_)) => return, // the connection ended
                    Err(_) => {
                        conn.kill.notify_one();
                        return;
                    }
                }
            }
            next = tokio::select! {
                _ = stopped(&mut stop) => return,
                _ = tokio::time::sleep_until(end) => return,
                _ = beat.tick() => Some(Event::default().comment("")),
                n = notices.next() => match n {
                    None => return,
                    Some(Err(BroadcastStreamRecvError::Lagged(_))) => None,
                    Some(Ok(Notice::Reload(g))) => {
                        Some(Event::default().event(contract::live::RELOAD_EVENT).data(g.to_string()))
                    }
                    Some(Ok(Notice::BuildFailed(msg))) => {
                        Some(Event::default().event(contract::live::BUILD_FAILED_EVENT).data(msg))
                    }
                },
            };
        }
    });
    Sse::new(ReceiverStream::new(rx)).into_response()
}

/// Tells the page it is served by `present`, and which demos it may run live.
async fn status(Extract(state): Extract<State>) -> axum::Json<contract::live::ServerStatus> {
    axum::Json(contract::live::ServerStatus {
        present: true,
        live: state.inner.runs.names(),
        building: state.inner.runs.is_building(),
    })
}

/// How the accept loop protects itself: each kind of connection has its own limit, so
/// that no kind can take the places of another.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// A client must send a request's headers within this.
    pub header_read: Duration,
    /// Connections still sending their headers, at most; for one more, the one that has
    /// waited longest is dropped (a slow or stalled client loses to a new one, whose
    /// headers come at once).
    pub waiting: usize,
    /// Requests being answered at once (event streams apart); more are answered 503.
    pub requests: usize,
    /// A request other than an event stream is dropped after this (a peer that does
    /// not read its answer). Longer than a live run's time limit.
    pub request_life: Duration,
    /// Event streams in all; more are answered 503.
    pub streams: usize,
    /// Event streams of one peer (one user on this machine, or one address); a new one
    /// replaces the peer's oldest (a reloading page leaves its old stream behind).
    pub streams_per_peer: usize,
    /// How often an event stream sends a heartbeat; a peer that has not taken one by
    /// the next loses its connection.
    pub heartbeat: Duration,
    /// An event stream ends after this; the page reconnects.
    pub stream_life: Duration,
    /// After a stop, how long open connections get to finish before they are dropped.
    pub grace: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            header_read: Duration::from_secs(5),
            waiting: 128,
            requests: 256,
            request_life: live::LIMIT + Duration::from_secs(40),
            streams: 32,
            streams_per_peer: 4,
            heartbeat: Duration::from_secs(10),
            stream_life: Duration::from_secs(600),
            grace: Duration::from_millis(1500),
        }
    }
}

/// What a connection is doing, for the limits.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
    /// Accepted; its request's headers have not all come.
    Waiting,
    /// Its request is being answered.
    Request,
    /// It holds an event stream, counted for this peer.
    Stream(String),
}

/// Every open connection's phase, and how to drop it.
pub(super) struct Registry {
    limits: Limits,
    table: std::sync::Mutex<Table>,
}

#[derive(Default)]
struct Table {
    next: u64,
    phases: HashMap<u64, (Phase, Arc<Notify>)>,
    /// Waiting connections, oldest first (ids of connections no longer waiting are
    /// skipped when met).
    waiting: VecDeque<u64>,
    waiting_count: usize,
    requests: usize,
    /// Event streams, oldest first.
    streams: VecDeque<u64>,
}

/// A connection, as the handlers see it (a request extension).
#[derive(Clone)]
pub(super) struct Connection {
    id: u64,
    pub peer: SocketAddr,
    pub local: SocketAddr,
    kill: Arc<Notify>,
    registry: Arc<Registry>,
}

impl Registry {
    fn new(limits: Limits) -> Registry {
        Registry {
            limits,
            table: std::sync::Mutex::new(Table::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new connection, waiting for its headers; drops the longest-waiting one when
    /// there are too many.
    fn admit(&self, kill: Arc<Notify>) -> u64 {
        let mut t = self.lock();
        while t.waiting_count >= self.limits.waiting {
            let Some(oldest) = t.waiting.pop_front() else {
                break;
            };
            if let Some((Phase::Waiting, kill)) = t.phases.remove(&oldest) {
                t.waiting_count -= 1;
                kill.notify_one();
            }
        }
        let id = t.next;
        t.next += 1;
        t.phases.insert(id, (Phase::Waiting, kill));
        t.waiting.push_back(id);
        t.waiting_count += 1;
        id
    }

    /// The connection's headers have come: it is a request now, if there is room.
    fn request(&self, id: u64) -> bool {
        let mut t = self.lock();
        let room = t.requests < self.limits.requests;
        let Some((phase, _)) = t.phases.get_mut(&id) else {
            return false; // already dropped
        };
        if *phase != Phase::Waiting {
            return true;
        }
        if room {
            *phase = Phase::Request;
            t.waiting_count -= 1;
            t.waiting.retain(|w| *w != id);
            t.requests += 1;
        }
        room
    }

    /// The request becomes an event stream of `peer`.
    fn stream(&self, id: u64, peer: String) -> Result<(), String> {
        let mut t = self.lock();
        let mine: Vec<u64> = t
            .streams
            .iter()
            .copied()
            .filter(|s| matches!(t.phases.get(s), Some((Phase::Stream(p), _)) if *p == peer))
            .collect();
        if mine.len() >= self.limits.streams_per_peer {
            // The peer's oldest stream makes room (a page reloaded, or left open).
            for old in &mine[..=mine.len() - self.limits.streams_per_peer] {
                if let Some((_, kill)) = t.phases.get(old) {
                    kill.notify_one();
                }
                t.forget(*old);
            }
        } else if t.streams.len() >= self.limits.streams {
            return Err(format!(
                "{} event streams are open already; close a tab",
                self.limits.streams
            ));
        }
        if let Some((phase, _)) = t.phases.get_mut(&id)
            && *phase == Phase::Request
        {
            *phase = Phase::Stream(peer);
            t.requests -= 1;
            t.streams.push_back(id);
        }
        Ok(())
    }

    /// Whether the connection holds an event stream.
    fn is_stream(&self, id: u64) -> bool {
        matches!(self.lock().phases.get(&id), Some((Phase::Stream(_), _)))
    }

    /// The connection is closed.
    fn gone(&self, id: u64) {
        self.lock().forget(id);
    }
}

impl Table {
    fn forget(&mut self, id: u64) {
        match self.phases.remove(&id) {
            Some((Phase::Waiting, _)) => {
                self.waiting_count -= 1;
                self.waiting.retain(|w| *w != id);
            }
            Some((Phase::Request, _)) => self.requests -= 1,
            Some((Phase::Stream(_), _)) => self.streams.retain(|s| *s != id),
            None => {}
        }
    }
}

/// Serves `app` until `stop` becomes true, then gives open connections `grace` to end
/// (event streams end by themselves on the stop) and returns.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    mut stop: watch::Receiver<bool>,
    limits: Limits,
) {
    let registry = Arc::new(Registry::new(limits));
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let accepted = tokio::select! {
            _ = stopped(&mut stop) => break,
            accepted = listener.accept() => accepted,
        };
        let Ok((stream, peer)) = accepted else {
            // Out of descriptors (EMFILE) or a reset: let connections close, go on.
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        };
        let Ok(local) = stream.local_addr() else {
            continue;
        };
        let kill = Arc::new(Notify::new());
        let conn = Connection {
            id: registry.admit(Arc::clone(&kill)),
            peer,
            local,
            kill,
            registry: Arc::clone(&registry),
        };
        let (app, stop) = (app.clone(), stop.clone());
        connections.spawn(async move {
            let (registry, id) = (Arc::clone(&conn.registry), conn.id);
            connection(stream, app, conn, stop, limits).await;
            registry.gone(id);
        });
        while connections.try_join_next().is_some() {}
    }
    let all_done = async { while connections.join_next().await.is_some() {} };
    let _ = tokio::time::timeout(limits.grace, all_done).await;
    connections.abort_all();
}

/// Resolves once the server is told to stop (or whoever could tell it is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    while !*stop.borrow_and_update() {
        if stop.changed().await.is_err() {
            return;
        }
    }
}

/// One HTTP/1.1 connection for one request, ended gracefully when the server stops,
/// at once when the registry drops it, and after [`Limits::request_life`] unless it
/// became an event stream (which ends itself).
async fn connection(
    stream: tokio::net::TcpStream,
    app: Router,
    conn: Connection,
    mut stop: watch::Receiver<bool>,
    limits: Limits,
) {
    let kill = Arc::clone(&conn.kill);
    let (registry, id) = (Arc::clone(&conn.registry), conn.id);
    // Past its time a connection is dropped, unless it is an event stream (which ends
    // itself, after its own time limit).
    let expired = async move {
        tokio::time::sleep(limits.request_life).await;
        if registry.is_stream(id) {
            std::future::pending::<()>().await;
        }
    };
    tokio::pin!(expired);
    let service = hyper::service::service_fn(move |mut request: Request<hyper::body::Incoming>| {
        let mut app = app.clone();
        let conn = conn.clone();
        async move {
            if !conn.registry.request(conn.id) {
                let busy = reject(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "too many requests at once; try again",
                );
                return Ok::<_, Infallible>(protect(busy).await);
            }
            request.extensions_mut().insert(conn);
            tower_service::Service::call(&mut app, request).await
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(limits.header_read)
        .keep_alive(false);
    let conn = builder.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => return,
        _ = kill.notified() => return,
        _ = &mut expired => return,
        _ = stopped(&mut stop) => conn.as_mut().graceful_shutdown(),
    }
    tokio::select! {
        _ = conn => {}
        _ = kill.notified() => {}
        _ = expired => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defect_6_on_port_80_a_host_without_a_port_is_us() {
        let h = host_names("127.0.0.1:80".parse().unwrap());
        for name in ["127.0.0.1", "localhost", "127.0.0.1:80", "localhost:80"] {
            assert!(h.contains(name), "{name}: {h:?}");
        }
        let h = host_names("[::1]:80".parse().unwrap());
        assert!(h.contains("[::1]") && h.contains("localhost"), "{h:?}");
        // On another port the port is part of the name.
        let h = host_names("127.0.0.1:3000".parse().unwrap());
        assert!(
            !h.contains("127.0.0.1") && !h.contains("localhost"),
            "{h:?}"
        );
    }

    #[test]
    fn defect_14_only_the_api_routes_skip_the_symlink_guard() {
        for api in [
            "/__deck/status",
            "/__deck/events",
            "/__deck/run/tcp-demo",
            "/__deck/save/tcp-demo",
        ] {
            assert!(is_api(api), "{api}");
        }
        for file in [
            "/__deck/leak",
            "/__deck/run/",
            "/__deck/run/a/b",
            "/__deck/status/x",
            "/__deck/events.html",
            "/deck/player.js",
        ] {
            assert!(!is_api(file), "{file}");
        }
    }

    #[test]
    fn hosts_are_the_listening_address_and_localhost_on_loopback() {
        let h = host_names("127.0.0.1:3000".parse().unwrap());
        assert!(h.contains("127.0.0.1:3000") && h.contains("localhost:3000"));
        let h = host_names("[::1]:8080".parse().unwrap());
        assert!(h.contains("[::1]:8080") && h.contains("localhost:8080"));
        let h = host_names("192.0.2.7:3000".parse().unwrap());
        assert!(
            !h.contains("localhost:3000"),
            "localhost is not us off loopback"
        );
    }

    #[test]
    fn origins_must_match() {
        let us = "127.0.0.1:3000";
        assert!(same_origin(None, None, us), "no browser headers: a tool");
        assert!(same_origin(Some("http://127.0.0.1:3000"), None, us));
        assert!(!same_origin(Some("http://evil.example"), None, us));
        assert!(!same_origin(None, Some("cross-site"), us));
    }
}

#[cfg(test)]
mod registry_tests {
    use super::*;

    fn kill() -> Arc<Notify> {
        Arc::new(Notify::new())
    }

    #[test]
    fn one_connection_over_the_waiting_limit_drops_only_the_oldest_still_waiting() {
        let r = Registry::new(Limits {
            waiting: 2,
            ..Limits::default()
        });
        let a = r.admit(kill());
        let b = r.admit(kill());
        // `a` goes away by itself: `b` is now the oldest waiting.
        r.gone(a);
        let c = r.admit(kill());
        let d = r.admit(kill());
        let t = r.lock();
        assert!(!t.phases.contains_key(&b), "the oldest waiting is dropped");
        assert!(t.phases.contains_key(&c), "the one after it stays");
        assert!(t.phases.contains_key(&d), "the new one stays");
        assert_eq!(t.waiting_count, 2);
    }

    #[test]
    fn a_peer_over_its_stream_limit_loses_only_its_oldest_stream() {
        let r = Registry::new(Limits {
            streams_per_peer: 3,
            ..Limits::default()
        });
        let open = |peer: &str| {
            let id = r.admit(kill());
            assert!(r.request(id), "room for the request");
            r.stream(id, peer.into()).unwrap();
            id
        };
        let other = open("another peer");
        let mine: Vec<u64> = (0..4).map(|_| open("a peer")).collect();
        assert!(!r.is_stream(mine[0]), "the oldest stream is closed");
        for id in &mine[1..] {
            assert!(r.is_stream(*id), "stream {id} stays");
        }
        assert!(r.is_stream(other), "another peer's stream stays");
    }

    #[test]
    fn a_peer_the_kernel_does_not_list_may_act_only_on_a_server_off_loopback() {
        let runs = Arc::new(Runs::new(
            std::path::PathBuf::new(),
            std::path::PathBuf::new(),
            &[],
            crate::present::live::LIMIT,
        ));
        let (_stop, stopped) = watch::channel(false);
        let state = |addr: &str| {
            let (notices, _) = broadcast::channel(1);
            State::new(
                notices,
                addr.parse().unwrap(),
                Arc::clone(&runs),
                stopped.clone(),
            )
        };
        // TEST-NET addresses: no socket of this machine has them, so the kernel's
        // table has no line for this connection.
        let conn = |local: &str| Connection {
            id: 0,
            peer: "192.0.2.7:50000".parse().unwrap(),
            local: local.parse().unwrap(),
            kill: kill(),
            registry: Arc::new(Registry::new(Limits::default())),
        };
        let off = state("192.0.2.1:3000");
        assert!(from_presenter(&off, Some(&conn("192.0.2.1:3000"))));
        let on = state("127.0.0.1:3000");
        assert!(!from_presenter(&on, Some(&conn("127.0.0.1:3000"))));
        assert!(!from_presenter(&off, None), "no connection, no action");
    }

    #[test]
    fn requests_past_the_limit_are_refused_until_one_ends() {
        let r = Registry::new(Limits {
            requests: 2,
            ..Limits::default()
        });
        let ids: Vec<u64> = (0..3).map(|_| r.admit(kill())).collect();
        assert!(r.request(ids[0]), "the first request");
        assert!(r.request(ids[1]), "the second request: the limit");
        assert!(!r.request(ids[2]), "a third at once is refused");
        r.gone(ids[0]);
        assert!(r.request(ids[2]), "one that ended makes room");
    }

    #[test]
    fn a_connection_whose_request_began_leaves_the_waiting_queue_and_the_others_keep_their_places()
    {
        let r = Registry::new(Limits {
            waiting: 2,
            ..Limits::default()
        });
        let a = r.admit(kill());
        let b = r.admit(kill());
        assert!(r.request(a), "room for the request");
        // `b` is the only one waiting; `c` fills the queue, `d` is one over it.
        let c = r.admit(kill());
        let d = r.admit(kill());
        let t = r.lock();
        assert!(
            t.phases.contains_key(&a),
            "a request is never dropped as waiting"
        );
        assert!(
            !t.phases.contains_key(&b),
            "the oldest still waiting is dropped"
        );
        assert!(t.phases.contains_key(&c), "the one after it stays");
        assert!(t.phases.contains_key(&d), "the new one stays");
        assert_eq!(t.waiting_count, 2);
    }

    #[test]
    fn a_stream_that_ends_leaves_the_other_streams_counted() {
        let r = Registry::new(Limits {
            streams_per_peer: 2,
            ..Limits::default()
        });
        let open = |peer: &str| {
            let id = r.admit(kill());
            assert!(r.request(id), "room for the request");
            r.stream(id, peer.into()).unwrap();
            id
        };
        let (a1, a2) = (open("a peer"), open("a peer"));
        let other = open("another peer");
        r.gone(other);
        // The peer's third stream still finds its two, and closes the oldest.
        let a3 = open("a peer");
        assert!(!r.is_stream(a1), "the oldest stream is closed");
        assert!(r.is_stream(a2) && r.is_stream(a3));
        assert_eq!(r.lock().streams, [a2, a3], "the streams, oldest first");
    }
}
