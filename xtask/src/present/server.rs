//! The HTTP side of `present`: the built book as static files, and an event stream
//! that tells open pages to reload after a rebuild.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State as Extract;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use tokio::sync::broadcast;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::BroadcastStream;
use tower_http::services::ServeDir;

use super::Notice;

#[derive(Clone)]
pub struct State {
    inner: Arc<Inner>,
}

struct Inner {
    notices: broadcast::Sender<Notice>,
    #[allow(dead_code)]
    addr: SocketAddr,
}

impl State {
    pub fn new(notices: broadcast::Sender<Notice>, addr: SocketAddr) -> State {
        State { inner: Arc::new(Inner { notices, addr }) }
    }
}

/// The deck's routes, with the built book (`out`) as the fallback.
pub fn router(state: State, out: PathBuf) -> Router {
    Router::new()
        .route("/__deck/events", get(events))
        .route("/__deck/status", get(status))
        .with_state(state)
        .fallback_service(ServeDir::new(out).append_index_html_on_directories(true))
}

/// Server-sent events: `reload` after each rebuild, `build-failed` with the error.
async fn events(Extract(state): Extract<State>) -> Sse<impl tokio_stream::Stream<Item = Result<Event, Infallible>>> {
    let stream = BroadcastStream::new(state.inner.notices.subscribe()).filter_map(|n| {
        let event = match n.ok()? {
            Notice::Reload(g) => Event::default().event("reload").data(g.to_string()),
            Notice::BuildFailed(msg) => Event::default().event("build-failed").data(msg),
        };
        Some(Ok(event))
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

/// Tells the page it is served by `present` (so it can offer live features).
async fn status() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({ "present": true }))
}
