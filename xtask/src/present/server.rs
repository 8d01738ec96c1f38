//! The HTTP side of `present`: the built book as static files, an event stream that
//! tells open pages to reload after a rebuild, and the Run-live endpoint.
//!
//! Every request passes [`guard`] first: the server runs programs on the presenter's
//! machine, so it answers only requests addressed to itself by name (a DNS-rebinding
//! page has another Host), and refuses cross-origin requests to its actions.

use std::collections::HashSet;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State as Extract};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::sync::broadcast;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::BroadcastStream;
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
    pub runs: Runs,
}

impl State {
    pub fn new(notices: broadcast::Sender<Notice>, addr: SocketAddr, runs: Runs) -> State {
        State {
            inner: Arc::new(Inner {
                notices,
                hosts: host_names(addr),
                runs,
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

/// The deck's routes, with the built book (`out`) as the fallback.
pub fn router(state: State, out: PathBuf) -> Router {
    Router::new()
        .route("/__deck/events", get(events))
        .route("/__deck/status", get(status))
        .route("/__deck/run/{name}", post(live::run))
        .route("/__deck/save/{name}", post(live::save))
        .fallback_service(ServeDir::new(out).append_index_html_on_directories(true))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(middleware::from_fn_with_state(state.clone(), guard))
        .with_state(state)
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
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    if !state.inner.hosts.contains(&host.to_ascii_lowercase()) {
        return reject(
            StatusCode::MISDIRECTED_REQUEST,
            format!("this server does not answer to Host {host:?}"),
        );
    }
    let is_action = request.method() != Method::GET && request.method() != Method::HEAD;
    if is_action && !same_origin(headers, host) {
        return reject(
            StatusCode::FORBIDDEN,
            "cross-origin requests may not run demos",
        );
    }
    if let Some(len) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
        && len > MAX_BODY
    {
        return reject(StatusCode::PAYLOAD_TOO_LARGE, "request body too large");
    }
    next.run(request).await
}

/// A browser always says where a request comes from (`Origin`, `Sec-Fetch-Site`); a
/// request that names another origin is refused. Tools like curl send neither.
fn same_origin(headers: &HeaderMap, host: &str) -> bool {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = get("sec-fetch-site")
        && site != "same-origin"
        && site != "none"
    {
        return false;
    }
    match get("origin") {
        None => true,
        Some(origin) => origin.eq_ignore_ascii_case(&format!("http://{host}")),
    }
}

/// Server-sent events: `reload` after each rebuild, `build-failed` with the error.
async fn events(
    Extract(state): Extract<State>,
) -> Sse<impl tokio_stream::Stream<Item = Result<Event, Infallible>>> {
    let stream = BroadcastStream::new(state.inner.notices.subscribe()).filter_map(|n| {
        let event = match n.ok()? {
            Notice::Reload(g) => Event::default().event("reload").data(g.to_string()),
            Notice::BuildFailed(msg) => Event::default().event("build-failed").data(msg),
        };
        Some(Ok(event))
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

/// Tells the page it is served by `present`, and which demos it may run live.
async fn status(Extract(state): Extract<State>) -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({
        "present": true,
        "live": state.inner.runs.names(),
    }))
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
        let mut h = HeaderMap::new();
        assert!(
            same_origin(&h, "127.0.0.1:3000"),
            "no browser headers: a tool"
        );
        h.insert("origin", "http://127.0.0.1:3000".parse().unwrap());
        assert!(same_origin(&h, "127.0.0.1:3000"));
        h.insert("origin", "http://evil.example".parse().unwrap());
        assert!(!same_origin(&h, "127.0.0.1:3000"));
        let mut h = HeaderMap::new();
        h.insert("sec-fetch-site", "cross-site".parse().unwrap());
        assert!(!same_origin(&h, "127.0.0.1:3000"));
    }
}
