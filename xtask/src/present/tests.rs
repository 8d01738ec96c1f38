//! The presenter's server, started for real on 127.0.0.1:0 with stand-in demos (small
//! shell scripts), and spoken to over raw HTTP/1.0 so every byte is under the test's
//! control: streaming, time limits, the run limits, and every rejection.

use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::broadcast;

use super::live::{MAX_CONCURRENT, Runs};
use super::server::{State, router};

struct Server {
    addr: SocketAddr,
    dir: tempfile::TempDir,
}

const DEMOS: &[(&str, &str)] = &[
    // Prints the time it printed (to measure delivery latency) and records a metric.
    (
        "clock",
        "echo \"at $(date +%s%N)\"; \
         echo '{\"name\":\"x.ms\",\"value\":1.5,\"unit\":\"ms\"}' >> \"$DEMO_METRICS_FILE\"; \
         sleep 0.3; echo err >&2; exit 0",
    ),
    ("slow", "echo started; sleep 31.4159; echo never"),
    ("forks", "sleep 31.2718 & echo forked; wait"),
    ("skip", "echo no root; exit 77"),
    ("quiet1", "sleep 31.1111"),
    ("quiet2", "sleep 31.1111"),
    ("quiet3", "sleep 31.1111"),
    ("quiet4", "sleep 31.1111"),
];

async fn start(limit: Duration) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let mut catalog = Vec::new();
    for (name, script) in DEMOS {
        let path = bin.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{script}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        catalog.push(deck::DemoInfo {
            name: name.to_string(),
            claim: format!("{name} claim"),
            source: path,
        });
    }
    let out = dir.path().join("book");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("index.html"), "<h1>deck</h1>").unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let runs = Runs::new(bin, dir.path().join("demos"), &catalog, limit);
    let (notices, _) = broadcast::channel(4);
    let app = router(State::new(notices, addr, runs), out);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Server { addr, dir }
}

/// Sends a raw request; returns the connection to read the answer from.
async fn send(addr: SocketAddr, raw: &str) -> TcpStream {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(raw.as_bytes()).await.unwrap();
    s
}

fn request(method: &str, path: &str, addr: SocketAddr, extra: &str) -> String {
    format!("{method} {path} HTTP/1.0\r\nHost: {addr}\r\n{extra}\r\n")
}

async fn read_all(mut s: TcpStream) -> String {
    let mut buf = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut buf))
        .await
        .expect("response in time")
        .unwrap();
    String::from_utf8_lossy(&buf).into_owned()
}

async fn status_of(addr: SocketAddr, raw: &str) -> (u16, String) {
    let text = read_all(send(addr, raw).await).await;
    let code = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (code, text)
}

/// Processes whose command line contains `marker` (our sleepers have odd durations).
fn processes_with(marker: &str) -> usize {
    crate::runner::tests::pids_with(marker).len()
}

async fn gone_within(marker: &str, within: Duration) -> bool {
    let t0 = Instant::now();
    while t0.elapsed() < within {
        if processes_with(marker) == 0 {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[tokio::test]
async fn run_streams_chunks_while_the_demo_runs_then_the_exit() {
    let srv = start(Duration::from_secs(10)).await;
    let mut s = send(
        srv.addr,
        &request("POST", "/__deck/run/clock", srv.addr, ""),
    )
    .await;
    // Read until the first chunk arrives and measure how late it is.
    let mut buf = Vec::new();
    let mut piece = [0u8; 4096];
    let latency_ms = loop {
        let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut piece))
            .await
            .expect("first chunk in time")
            .unwrap();
        assert!(
            n > 0,
            "stream ended early: {}",
            String::from_utf8_lossy(&buf)
        );
        buf.extend_from_slice(&piece[..n]);
        let text = String::from_utf8_lossy(&buf);
        if let Some(at) = text.find("at ") {
            let digits: String = text[at + 3..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            if digits.len() >= 19 {
                let printed: u128 = digits.parse().unwrap();
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos();
                break (now - printed) as f64 / 1e6;
            }
        }
    };
    eprintln!("first chunk reached the client {latency_ms:.1} ms after the demo printed it");
    assert!(latency_ms < 150.0, "first chunk took {latency_ms} ms");
    let mut rest = Vec::new();
    s.read_to_end(&mut rest).await.unwrap();
    buf.extend_from_slice(&rest);
    let text = String::from_utf8_lossy(&buf);
    assert!(
        text.starts_with("HTTP/1.0 200") || text.starts_with("HTTP/1.1 200"),
        "{text}"
    );
    assert!(text.contains("content-type: text/event-stream"), "{text}");
    assert!(text.contains("event: chunk\ndata: {\"at_ms\""), "{text}");
    assert!(
        text.contains("\"stream\":\"stderr\",\"text\":\"err\\n\""),
        "stderr is told apart: {text}"
    );
    let exit = text.find("event: exit").expect("an exit event");
    assert!(text[exit..].contains("\"status\":\"passed\""), "{text}");
    assert!(
        exit > text.rfind("event: chunk").unwrap(),
        "exit comes last"
    );
}

#[tokio::test]
async fn save_stores_the_last_live_run_as_the_transcript() {
    let srv = start(Duration::from_secs(10)).await;
    let (code, _) = status_of(
        srv.addr,
        &request("POST", "/__deck/save/clock", srv.addr, ""),
    )
    .await;
    assert_eq!(code, 409, "nothing to save before a run");
    read_all(
        send(
            srv.addr,
            &request("POST", "/__deck/run/clock", srv.addr, ""),
        )
        .await,
    )
    .await;
    let (code, text) = status_of(
        srv.addr,
        &request("POST", "/__deck/save/clock", srv.addr, ""),
    )
    .await;
    assert_eq!(code, 200, "{text}");
    let json =
        std::fs::read_to_string(srv.dir.path().join("demos/transcripts/clock.json")).unwrap();
    let t: transcript::Transcript = serde_json::from_str(&json).unwrap();
    assert_eq!(t.demo, "clock");
    assert!(t.chunks.iter().any(|c| c.text.contains("err")));
    assert_eq!(
        t.metrics,
        vec![transcript::Metric {
            name: "x.ms".into(),
            value: 1.5,
            unit: "ms".into()
        }],
        "the live run's metrics are saved with it, so charts still build"
    );
}

#[tokio::test]
async fn a_demo_past_its_limit_is_killed_with_everything_it_forked() {
    let srv = start(Duration::from_millis(400)).await;
    let t0 = Instant::now();
    let text = read_all(
        send(
            srv.addr,
            &request("POST", "/__deck/run/forks", srv.addr, ""),
        )
        .await,
    )
    .await;
    assert!(text.contains("forked"), "{text}");
    assert!(text.contains("\"status\":\"timed-out\""), "{text}");
    assert!(t0.elapsed() < Duration::from_secs(3));
    assert!(
        gone_within("31.2718", Duration::from_secs(2)).await,
        "the forked sleeper outlived the run"
    );
}

#[tokio::test]
async fn a_closed_page_stops_its_run() {
    let srv = start(Duration::from_secs(20)).await;
    let mut s = send(srv.addr, &request("POST", "/__deck/run/slow", srv.addr, "")).await;
    let mut piece = [0u8; 4096];
    let mut seen = String::new();
    while !seen.contains("started") {
        let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut piece))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0);
        seen.push_str(&String::from_utf8_lossy(&piece[..n]));
    }
    let t0 = Instant::now();
    while processes_with("31.4159") == 0 && t0.elapsed() < Duration::from_secs(2) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(processes_with("31.4159"), 1, "the demo is running");
    drop(s);
    assert!(
        gone_within("31.4159", Duration::from_secs(2)).await,
        "the demo kept running after its page closed"
    );
    // And the slot is free again.
    let mut s = send(srv.addr, &request("POST", "/__deck/run/slow", srv.addr, "")).await;
    let n = s.read(&mut piece).await.unwrap();
    assert!(String::from_utf8_lossy(&piece[..n]).contains(" 200 "));
}

#[tokio::test]
async fn one_run_per_demo_and_a_global_limit() {
    let srv = start(Duration::from_secs(20)).await;
    let mut open = Vec::new();
    let first = send(
        srv.addr,
        &request("POST", "/__deck/run/quiet1", srv.addr, ""),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (code, text) = status_of(
        srv.addr,
        &request("POST", "/__deck/run/quiet1", srv.addr, ""),
    )
    .await;
    assert_eq!(code, 409, "{text}");
    open.push(first);
    for name in ["quiet2", "quiet3", "quiet4"]
        .iter()
        .take(MAX_CONCURRENT - 1)
    {
        open.push(
            send(
                srv.addr,
                &request("POST", &format!("/__deck/run/{name}"), srv.addr, ""),
            )
            .await,
        );
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (code, text) = status_of(
        srv.addr,
        &request("POST", "/__deck/run/quiet4", srv.addr, ""),
    )
    .await;
    assert_eq!(code, 429, "{text}");
    drop(open);
    assert!(gone_within("31.1111", Duration::from_secs(2)).await);
}

#[tokio::test]
async fn bad_requests_get_a_clear_4xx() {
    let srv = start(Duration::from_secs(5)).await;
    let a = srv.addr;
    let cases: Vec<(String, u16, &str)> = vec![
        (request("GET", "/__deck/status", a, ""), 200, "\"live\""),
        (request("GET", "/", a, ""), 200, "<h1>deck</h1>"),
        (
            format!("GET / HTTP/1.0\r\nHost: evil.example:{}\r\n\r\n", a.port()),
            421,
            "does not answer to Host",
        ),
        ("GET / HTTP/1.0\r\n\r\n".to_string(), 421, "does not answer"),
        (
            request(
                "POST",
                "/__deck/run/clock",
                a,
                "Origin: http://evil.example\r\n",
            ),
            403,
            "cross-origin",
        ),
        (
            request(
                "POST",
                "/__deck/run/clock",
                a,
                "Sec-Fetch-Site: cross-site\r\n",
            ),
            403,
            "cross-origin",
        ),
        (request("GET", "/__deck/run/clock", a, ""), 405, ""),
        (
            request("POST", "/__deck/run/nope", a, ""),
            404,
            "no demo named",
        ),
        (
            request("POST", "/__deck/run/..%2F..%2Fbin%2Fsh", a, ""),
            404,
            "no demo named",
        ),
        (
            request("POST", "/__deck/run/clock", a, "Content-Length: 100000\r\n"),
            413,
            "too large",
        ),
        (request("GET", "/../../../../etc/passwd", a, ""), 404, ""),
        (
            request("GET", "/%2e%2e/%2e%2e/%2e%2e/etc/passwd", a, ""),
            404,
            "",
        ),
        ("NOT A REQUEST\r\n\r\n".to_string(), 400, ""),
    ];
    for (raw, want, body) in cases {
        let (code, text) = status_of(a, &raw).await;
        assert_eq!(code, want, "{raw:?} -> {text}");
        assert!(text.contains(body), "{raw:?} -> {text}");
        assert!(
            !text.contains("root:x:0:0"),
            "path traversal served a system file"
        );
    }
    // The server is still up after all that.
    let (code, _) = status_of(a, &request("GET", "/__deck/status", a, "")).await;
    assert_eq!(code, 200);
}
