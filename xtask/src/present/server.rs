//! The HTTP side of `present`: the built book as static files, an event stream that
//! tells open pages to reload after a rebuild, and the Run-live endpoint.
//!
//! Every request passes [`guard`] first: the server runs programs on the presenter's
//! machine, so it answers only requests addressed to itself by name (a DNS-rebinding
//! page has another Host), and refuses cross-origin requests to its actions. Every
//! response says it may not be framed by another page (a hidden Run live button under
//! a hostile page's click) nor sniffed as another type.
//!
//! [`serve`] is the accept loop: a header-read timeout and a connection limit (half-open
//! connections cannot use up the descriptors), and a stop that ends every stream.

use std::collections::HashSet;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State as Extract};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::sync::{Semaphore, broadcast, watch};
use tokio_stream::StreamExt;
use tokio_stream::wrappers::{BroadcastStream, ReceiverStream};
use tower_http::services::ServeDir;

use super::Notice;
use super::live::{self, Runs};

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
            }),
        }
    }
}

/// The names a browser may use for this server. `localhost` counts only when we
/// listen on loopback, where it can only mean us.
fn host_names(addr: SocketAddr) -> HashSet<String> {
    let port = addr.port();
    let mut hosts = HashSet::new();
    match addr {
        SocketAddr::V4(a) => hosts.insert(format!("{}:{port}", a.ip())),
        SocketAddr::V6(a) => hosts.insert(format!("[{}]:{port}", a.ip())),
    };
    if addr.ip().is_loopback() {
        hosts.insert(format!("localhost:{port}"));
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
        .route(&format!("/{}", transcript::live::EVENTS_PATH), get(events))
        .route(&format!("/{}", transcript::live::STATUS_PATH), get(status))
        .route(
            &format!("/{}{{name}}", transcript::live::RUN_PATH),
            post(live::run),
        )
        .route(
            &format!("/{}{{name}}", transcript::live::SAVE_PATH),
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
/// whatever the file service would do with it.
async fn inside_book(
    Extract(book): Extract<Arc<PathBuf>>,
    request: Request,
    next: Next,
) -> Response {
    if !request.uri().path().starts_with("/__deck/")
        && !resolves_inside(&book, request.uri().path())
    {
        return reject(StatusCode::NOT_FOUND, "not found");
    }
    next.run(request).await
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
async fn events(
    Extract(state): Extract<State>,
) -> Sse<impl tokio_stream::Stream<Item = Result<Event, Infallible>>> {
    let mut notices = BroadcastStream::new(state.inner.notices.subscribe()).filter_map(|n| {
        let event = match n.ok()? {
            Notice::Reload(g) => Event::default().event("reload").data(g.to_string()),
            Notice::BuildFailed(msg) => Event::default().event("build-failed").data(msg),
        };
        Some(Ok(event))
    });
    // The stream ends when the server stops: an open page must not hold the server up.
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let mut stop = state.inner.stop.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = stopped(&mut stop) => return,
                n = notices.next() => {
                    let Some(n) = n else { return };
                    if tx.send(n).await.is_err() {
                        return;
                    }
                }
            }
        }
    });
    Sse::new(ReceiverStream::new(rx)).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

/// Tells the page it is served by `present`, and which demos it may run live.
async fn status(Extract(state): Extract<State>) -> axum::Json<transcript::live::ServerStatus> {
    axum::Json(transcript::live::ServerStatus {
        present: true,
        live: state.inner.runs.names(),
        building: state.inner.runs.is_building(),
    })
}

/// How the accept loop protects itself.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// A client must send a request's headers within this (idle keep-alive included).
    pub header_read: Duration,
    /// Open connections at most; more are answered 503 and closed at once.
    pub connections: usize,
    /// After a stop, how long open connections get to finish before they are dropped.
    pub grace: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            header_read: Duration::from_secs(5),
            connections: 256,
            grace: Duration::from_millis(1500),
        }
    }
}

const TOO_MANY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\
    Content-Type: text/plain\r\nContent-Length: 21\r\n\r\ntoo many connections\n";

/// Serves `app` until `stop` becomes true, then gives open connections `grace` to end
/// (event streams end by themselves on the stop) and returns.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    mut stop: watch::Receiver<bool>,
    limits: Limits,
) {
    let slots = Arc::new(Semaphore::new(limits.connections));
    let refusals = Arc::new(Semaphore::new(64));
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let accepted = tokio::select! {
            _ = stopped(&mut stop) => break,
            accepted = listener.accept() => accepted,
        };
        let Ok((stream, _)) = accepted else {
            // Out of descriptors (EMFILE) or a reset: let connections close, go on.
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        };
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            // Said briefly, on a short leash of its own; past that, just closed.
            if let Ok(refusal) = Arc::clone(&refusals).try_acquire_owned() {
                tokio::spawn(refuse(stream, refusal));
            }
            continue;
        };
        let (app, stop) = (app.clone(), stop.clone());
        connections.spawn(async move {
            let _slot = slot;
            connection(stream, app, stop, limits).await;
        });
        while connections.try_join_next().is_some() {}
    }
    let all_done = async { while connections.join_next().await.is_some() {} };
    let _ = tokio::time::timeout(limits.grace, all_done).await;
    connections.abort_all();
}

/// Answers 503 and closes; the request is read first (for at most 100 ms), since
/// closing a socket with unread data resets it and the client would see no answer.
async fn refuse(mut stream: tokio::net::TcpStream, _refusal: tokio::sync::OwnedSemaphorePermit) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = [0u8; 4096];
    let _ = tokio::time::timeout(Duration::from_millis(100), async {
        let _ = stream.write_all(TOO_MANY).await;
        let _ = stream.shutdown().await;
        while matches!(stream.read(&mut buf).await, Ok(n) if n > 0) {}
    })
    .await;
}

/// Resolves once the server is told to stop (or whoever could tell it is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    while !*stop.borrow_and_update() {
        if stop.changed().await.is_err() {
            return;
        }
    }
}

/// One HTTP/1.1 connection, ended gracefully when the server stops.
async fn connection(
    stream: tokio::net::TcpStream,
    app: Router,
    mut stop: watch::Receiver<bool>,
    limits: Limits,
) {
    let service = hyper_util::service::TowerToHyperService::new(app);
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(limits.header_read);
    let conn = builder.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => return,
        _ = stopped(&mut stop) => conn.as_mut().graceful_shutdown(),
    }
    let _ = conn.await;
}

#[cfg(test)]
mod tests {
    use super::*;

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
