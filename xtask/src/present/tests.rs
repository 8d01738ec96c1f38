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
use super::server::{Limits, State, router, serve};

struct Server {
    addr: SocketAddr,
    dir: tempfile::TempDir,
    runs: std::sync::Arc<Runs>,
    stop: tokio::sync::watch::Sender<bool>,
    served: tokio::task::JoinHandle<()>,
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
    // One line, a pause of PAUSE, another line: Run live must show the first line
    // while the demo is still pausing, as the talk's slow demos need.
    (
        "pause",
        "echo before the pause; sleep 2.7182; echo after the pause",
    ),
    ("forks", "sleep 31.2718 & echo forked; wait"),
    ("skip", "echo no root; exit 77"),
    ("quiet1", "sleep 31.1111"),
    ("quiet2", "sleep 31.1111"),
    ("quiet3", "sleep 31.1111"),
    ("quiet4", "sleep 31.1111"),
    ("flood", "exec yes 31.9191-flood"),
    // Sixteen megabytes in many pipe reads, then a last line: more than socket buffers
    // and the server's queue hold.
    (
        "megabytes",
        "head -c 16000000 /dev/zero | tr '\\0' x; echo; echo the end",
    ),
    // A capture that sees a SYN, then the demo pauses before its check records the
    // connection: Run live must forward the packet while the demo is still pausing.
    (
        "wirepause",
        r#"echo '{"flow":0,"client":"127.0.0.1:40000","server":"127.0.0.1:8080","start_unix_us":1,"packet":{"at_us":0,"from_client":true,"proto":"tcp","flags":["SYN"],"len":0,"frame":"","frame_len":54}}' >> "$DEMO_PACKETS_FILE"
           sleep 2.7182
           echo '{"flow":0,"client":"127.0.0.1:40000","server":"127.0.0.1:8080","start_unix_us":1,"packet":{"at_us":1000000,"from_client":true,"proto":"tcp","flags":["SYN"],"len":0,"frame":"","frame_len":54}}' >> "$DEMO_PACKETS_FILE"
           echo '{"name":"blocking","client":"127.0.0.1:40000","server":"127.0.0.1:8080","start_unix_us":1,"flow":0,"packets":[]}' >> "$DEMO_WIRE_FILE"
           echo recorded"#,
    ),
];

async fn start(limit: Duration) -> Server {
    start_with(limit, Limits::default()).await
}

async fn start_with(limit: Duration, limits: Limits) -> Server {
    start_capped(limit, limits, crate::runner::MAX_OUTPUT).await
}

async fn start_capped(limit: Duration, limits: Limits, max_output: usize) -> Server {
    start_full(limit, limits, max_output, None).await
}

/// The server, with `presenter` as the only user who may run and save (ours if None).
async fn start_full(
    limit: Duration,
    limits: Limits,
    max_output: usize,
    presenter: Option<u32>,
) -> Server {
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
    let runs =
        Runs::new(bin, dir.path().join("demos"), &catalog, limit).with_max_output(max_output);
    let runs = std::sync::Arc::new(runs);
    let (notices, _) = broadcast::channel(4);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut state = State::new(notices, addr, std::sync::Arc::clone(&runs), stopped.clone());
    if let Some(uid) = presenter {
        state = state.with_presenter(uid);
    }
    let app = router(state, out);
    let served = tokio::spawn(serve(listener, app, stopped, limits));
    Server {
        addr,
        dir,
        runs,
        stop,
        served,
    }
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
    // How fast is measured by `cargo xtask bench`, not asserted here.
    eprintln!("first chunk reached the client {latency_ms:.1} ms after the demo printed it");
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

/// How long the `pause` demo sleeps between its two lines.
const PAUSE: Duration = Duration::from_millis(2718);

#[tokio::test]
async fn run_live_delivers_the_first_line_before_the_demo_pauses() {
    let srv = start(Duration::from_secs(10)).await;
    let t0 = Instant::now();
    let mut s = send(
        srv.addr,
        &request("POST", "/__deck/run/pause", srv.addr, ""),
    )
    .await;
    let text = read_until(&mut s, "before the pause").await;
    let first = t0.elapsed();
    // Held back until the demo went on (or ended), the first line would come with these.
    assert!(
        !text.contains("after the pause") && !text.contains("event: exit"),
        "the first line came only with what followed the pause: {text}"
    );
    assert!(
        first < PAUSE,
        "the first line took {first:?}, longer than the demo's pause of {PAUSE:?}"
    );
    let mut rest = Vec::new();
    tokio::time::timeout(PAUSE * 3, s.read_to_end(&mut rest))
        .await
        .expect("the run ends")
        .unwrap();
    let rest = String::from_utf8_lossy(&rest);
    assert!(rest.contains("after the pause"), "{rest}");
    assert!(rest.contains("event: exit"), "{rest}");
    assert!(
        t0.elapsed() >= PAUSE,
        "the demo really paused: the run took {:?}",
        t0.elapsed()
    );
}

#[tokio::test]
async fn status_lists_the_demos_that_can_run_and_that_none_are_building() {
    let srv = start(Duration::from_secs(5)).await;
    let (code, text) = status_of(srv.addr, &request("GET", "/__deck/status", srv.addr, "")).await;
    assert_eq!(code, 200, "{text}");
    let body = text.split("\r\n\r\n").nth(1).unwrap_or_default();
    let status: contract::live::ServerStatus = serde_json::from_str(body).unwrap();
    let mut names: Vec<String> = DEMOS.iter().map(|(n, _)| n.to_string()).collect();
    names.sort();
    assert_eq!(status.live, names);
    assert!(!status.building, "{body}");
}

#[tokio::test]
async fn a_page_that_reads_late_still_gets_the_whole_run() {
    // An output cap above the demo's sixteen megabytes.
    let srv = start_capped(Duration::from_secs(20), Limits::default(), 64 << 20).await;
    // A small receive buffer, and nothing read for a while: the server's queue fills
    // and it must wait for the page (until the time limit), not drop the run.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut late = socket.connect(srv.addr).await.unwrap();
    late.write_all(request("POST", "/__deck/run/megabytes", srv.addr, "").as_bytes())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let text = read_all(late).await;
    let tail = &text[text.len().saturating_sub(300)..];
    assert!(text.contains("the end"), "the run was cut short: ...{tail}");
    let exit = text.rfind("event: exit").expect("an exit event");
    assert!(text[exit..].contains("\"status\":\"passed\""), "...{tail}");
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
    let t: contract::Transcript = serde_json::from_str(&json).unwrap();
    assert_eq!(t.demo, "clock");
    assert!(t.chunks.iter().any(|c| c.text.contains("err")));
    assert_eq!(
        t.metrics,
        vec![contract::Metric {
            name: "x.ms".into(),
            value: 1.5,
            unit: "ms".into(),
            label: None,
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
    // A hang detector (the sleeper would take 31 s), not a benchmark.
    assert!(t0.elapsed() < Duration::from_secs(15), "{:?}", t0.elapsed());
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
    // And the slot is free again (it is freed once the kill is done, just after the
    // demo is gone).
    let t0 = Instant::now();
    while srv.runs.running_count() > 0 && t0.elapsed() < Duration::from_secs(1) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut s = send(srv.addr, &request("POST", "/__deck/run/slow", srv.addr, "")).await;
    let n = s.read(&mut piece).await.unwrap();
    let answer = String::from_utf8_lossy(&piece[..n]).into_owned();
    drop(s);
    assert!(answer.contains(" 200 "), "{answer}");
    assert!(gone_within("31.4159", Duration::from_secs(2)).await);
}

/// Waits until the server has started `n` runs (requests sent are not yet runs started;
/// a fixed sleep is a race on a loaded machine).
async fn running_reaches(srv: &Server, n: usize) {
    let t0 = Instant::now();
    while srv.runs.running_count() < n {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "{} of {n} runs started in 10 s",
            srv.runs.running_count()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
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
    running_reaches(&srv, 1).await;
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
    running_reaches(&srv, MAX_CONCURRENT).await;
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

/// Reads until `needle` shows up (or fails after 5 s); returns what was read.
async fn read_until(s: &mut TcpStream, needle: &str) -> String {
    let mut seen = String::new();
    let mut piece = [0u8; 4096];
    while !seen.contains(needle) {
        let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut piece))
            .await
            .expect("data in time")
            .unwrap();
        assert!(n > 0, "closed before {needle:?}: {seen}");
        seen.push_str(&String::from_utf8_lossy(&piece[..n]));
    }
    seen
}

/// Whether the server closes `s` within `within` (reading and dropping anything sent).
async fn closed_within(s: &mut TcpStream, within: Duration) -> bool {
    let mut piece = [0u8; 4096];
    let t0 = Instant::now();
    while t0.elapsed() < within {
        match tokio::time::timeout(within, s.read(&mut piece)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => {}
            Err(_) => return false,
        }
    }
    false
}

#[tokio::test]
async fn stopping_ends_open_event_streams_and_runs_within_2s() {
    let srv = start(Duration::from_secs(20)).await;
    let mut events = send(srv.addr, &request("GET", "/__deck/events", srv.addr, "")).await;
    read_until(&mut events, "text/event-stream").await;
    let mut run = send(srv.addr, &request("POST", "/__deck/run/slow", srv.addr, "")).await;
    read_until(&mut run, "started").await;
    let t0 = Instant::now();
    srv.stop.send(true).unwrap();
    let served = tokio::time::timeout(Duration::from_secs(2), srv.served).await;
    let stopped_in = t0.elapsed();
    let events_closed = closed_within(&mut events, Duration::from_millis(200)).await;
    let demo_gone = gone_within("31.4159", Duration::from_millis(500)).await;
    eprintln!("stopped in {stopped_in:?}; events closed {events_closed}, demo gone {demo_gone}");
    assert!(served.is_ok(), "the server still served 2 s after the stop");
    assert!(events_closed, "an open event stream outlived the stop");
    assert!(demo_gone, "a live run outlived the stop");
}

#[tokio::test]
async fn a_client_that_stops_reading_loses_its_run_at_the_limit() {
    let limit = Duration::from_secs(1);
    // A cap far above what socket buffers hold, so the client's stall is what counts.
    let srv = start_capped(limit, Limits::default(), 256 << 20).await;
    let rss = || {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let kb = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok());
        kb.unwrap_or(0)
    };
    let before = rss();
    // Asks for a run of a demo that prints as fast as it can, and reads nothing.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stalled = socket.connect(srv.addr).await.unwrap();
    stalled
        .write_all(request("POST", "/__deck/run/flood", srv.addr, "").as_bytes())
        .await
        .unwrap();
    let t0 = Instant::now();
    let mut freed = None;
    while t0.elapsed() < limit + Duration::from_secs(2) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let (code, _) =
            status_of(srv.addr, &request("POST", "/__deck/run/nope", srv.addr, "")).await;
        assert_eq!(code, 404);
        let running = srv.runs.running_count();
        if running == 0 {
            freed = Some(t0.elapsed());
            break;
        }
    }
    let grown_mb = rss().saturating_sub(before) as f64 / 1024.0;
    let gone = gone_within("31.9191", Duration::from_millis(500)).await;
    eprintln!(
        "stalled client: slot freed after {freed:?}, server grew {grown_mb:.1} MB, demo gone {gone}"
    );
    drop(stalled);
    assert!(
        freed.is_some(),
        "the stalled client still holds its slot past the limit"
    );
    assert!(gone, "the flooding demo still runs");
    assert!(
        grown_mb < 64.0,
        "the server buffered {grown_mb:.0} MB for a client that does not read"
    );
}

#[tokio::test]
async fn every_response_forbids_framing_and_sniffing() {
    let srv = start(Duration::from_secs(5)).await;
    let a = srv.addr;
    for raw in [
        request("GET", "/", a, ""),
        request("GET", "/missing.html", a, ""),
        request("GET", "/__deck/status", a, ""),
        "GET / HTTP/1.0\r\n\r\n".to_string(),
        request("POST", "/__deck/run/skip", a, ""),
    ] {
        let text = read_all(send(a, &raw).await).await.to_ascii_lowercase();
        let head = &text[..text.find("\r\n\r\n").unwrap_or(text.len())];
        assert!(
            head.contains("x-content-type-options: nosniff"),
            "{raw:?} -> {head}"
        );
        assert!(head.contains("x-frame-options: deny"), "{raw:?} -> {head}");
        let csp = head
            .lines()
            .find_map(|l| l.strip_prefix("content-security-policy: "))
            .unwrap_or_else(|| panic!("no CSP: {raw:?} -> {head}"));
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    }
}

#[tokio::test]
async fn half_open_and_excess_connections_cannot_freeze_the_deck() {
    let limits = Limits {
        header_read: Duration::from_millis(300),
        waiting: 8,
        grace: Duration::from_millis(500),
        ..Limits::default()
    };
    let srv = start_with(Duration::from_secs(5), limits).await;
    let a = srv.addr;
    // Fill every place for waiting connections with requests whose headers never end.
    let mut half_open = Vec::new();
    for _ in 0..limits.waiting {
        half_open.push(send(a, &format!("GET / HTTP/1.1\r\nHost: {a}\r\n")).await);
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    // One more is served: the longest-waiting one makes room.
    let (code, _) = status_of(a, &request("GET", "/", a, "")).await;
    assert_eq!(code, 200);
    let t0 = Instant::now();
    for s in &mut half_open {
        assert!(
            closed_within(s, Duration::from_secs(2)).await,
            "a half-open connection was kept"
        );
    }
    eprintln!("half-open connections closed after {:?}", t0.elapsed());
    let (code, _) = status_of(a, &request("GET", "/", a, "")).await;
    assert_eq!(code, 200, "the deck is served again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn defect_1_300_slowloris_and_300_event_streams_leave_a_page_and_a_run_within_1s() {
    let srv = start(Duration::from_secs(10)).await;
    let a = srv.addr;
    let mut held = Vec::new();
    for _ in 0..300 {
        held.push(send(a, &format!("GET / HTTP/1.1\r\nHost: {a}\r\nX-Slow: ")).await);
    }
    for _ in 0..300 {
        held.push(send(a, &request("GET", "/__deck/events", a, "")).await);
    }
    // Let the server take them all in.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let t0 = Instant::now();
    let (code, text) = tokio::time::timeout(
        Duration::from_secs(1),
        status_of(a, &request("GET", "/", a, "")),
    )
    .await
    .expect("the page within 1 s");
    let page = t0.elapsed();
    assert_eq!(code, 200, "{text}");
    let t0 = Instant::now();
    let text = tokio::time::timeout(
        Duration::from_secs(1),
        read_all(send(a, &request("POST", "/__deck/run/skip", a, "")).await),
    )
    .await
    .expect("the run within 1 s");
    let run = t0.elapsed();
    assert!(text.contains(" 200 ") && text.contains("no root"), "{text}");
    // A fresh event stream is served too (it replaces this peer's oldest).
    let mut events = send(a, &request("GET", "/__deck/events", a, "")).await;
    tokio::time::timeout(
        Duration::from_secs(1),
        read_until(&mut events, "text/event-stream"),
    )
    .await
    .expect("an event stream within 1 s");
    eprintln!("with 600 held: page in {page:?}, run in {run:?}");
    drop(held);
}

#[tokio::test]
async fn event_streams_are_capped_per_peer_and_end_at_their_time_limit() {
    let limits = Limits {
        streams_per_peer: 2,
        stream_life: Duration::from_millis(800),
        heartbeat: Duration::from_millis(100),
        ..Limits::default()
    };
    let srv = start_with(Duration::from_secs(5), limits).await;
    let a = srv.addr;
    let mut streams = Vec::new();
    for _ in 0..3 {
        let mut s = send(a, &request("GET", "/__deck/events", a, "")).await;
        read_until(&mut s, "text/event-stream").await;
        streams.push(s);
    }
    let t0 = Instant::now();
    assert!(
        closed_within(&mut streams[0], Duration::from_millis(500)).await,
        "the peer's oldest stream was kept past the cap"
    );
    // The heartbeat keeps coming to the others, until their time is up.
    read_until(&mut streams[2], ":").await;
    for s in &mut streams[1..] {
        assert!(closed_within(s, Duration::from_secs(2)).await);
    }
    assert!(
        t0.elapsed() >= Duration::from_millis(500),
        "{:?}",
        t0.elapsed()
    );
}

#[tokio::test]
async fn defect_5_another_users_run_and_save_are_refused() {
    let me = nix::unistd::geteuid().as_raw();
    // The server belongs to someone else: our requests are a stranger's.
    let srv = start_full(
        Duration::from_secs(5),
        Limits::default(),
        crate::runner::MAX_OUTPUT,
        Some(me + 1),
    )
    .await;
    let a = srv.addr;
    for path in ["/__deck/run/skip", "/__deck/save/clock"] {
        let (code, text) = status_of(a, &request("POST", path, a, "")).await;
        assert_eq!(code, 403, "{path}: {text}");
        assert!(text.contains("only the user"), "{text}");
    }
    let (code, _) = status_of(a, &request("GET", "/", a, "")).await;
    assert_eq!(code, 200, "reading the deck is open to all");
    // A real other user, where we can be one: root runs curl as nobody.
    let srv = start(Duration::from_secs(5)).await;
    let a = srv.addr;
    let runuser = std::path::Path::new("/usr/sbin/runuser");
    let curl = ["/usr/bin/curl", "/bin/curl"]
        .into_iter()
        .find(|c| std::path::Path::new(c).exists());
    match curl {
        Some(curl) if me == 0 && runuser.exists() => {
            for path in ["run/skip", "save/clock"] {
                let mut cmd = std::process::Command::new(runuser);
                cmd.args(["-u", "nobody", "--", curl, "-sS", "-m", "5", "-X", "POST"])
                    .arg(format!("http://{a}/__deck/{path}"));
                // Off the runtime's thread: the server answers on it.
                let out = tokio::task::spawn_blocking(move || cmd.output())
                    .await
                    .unwrap()
                    .unwrap();
                let body = String::from_utf8_lossy(&out.stdout);
                assert!(
                    body.contains("only the user"),
                    "nobody's {path}: {body} ({}; {})",
                    out.status,
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            let mut cmd = std::process::Command::new(curl);
            cmd.args(["-s", "-m", "5", "-X", "POST"])
                .arg(format!("http://{a}/__deck/run/skip"));
            let out = tokio::task::spawn_blocking(move || cmd.output())
                .await
                .unwrap()
                .unwrap();
            let body = String::from_utf8_lossy(&out.stdout);
            assert!(body.contains("no root"), "the presenter's own run: {body}");
        }
        _ => eprintln!("not root, or no runuser/curl: the run as another user is skipped"),
    }
}

#[tokio::test]
async fn defect_6_port_80_answers_a_host_without_a_port() {
    // Port 80 needs root (or CAP_NET_BIND_SERVICE) and may be taken: tried when free.
    let Ok(listener) = tokio::net::TcpListener::bind("127.0.0.1:80").await else {
        eprintln!("port 80 is not ours to bind: checked through host_names only");
        return;
    };
    let srv = start(Duration::from_secs(5)).await;
    let addr = listener.local_addr().unwrap();
    let (notices, _) = broadcast::channel(4);
    let (_stop, stopped) = tokio::sync::watch::channel(false);
    let state = State::new(
        notices,
        addr,
        std::sync::Arc::clone(&srv.runs),
        stopped.clone(),
    );
    tokio::spawn(serve(
        listener,
        router(state, srv.dir.path().join("book")),
        stopped,
        Limits::default(),
    ));
    for host in ["127.0.0.1", "localhost", "127.0.0.1:80"] {
        let (code, text) =
            status_of(addr, &format!("GET / HTTP/1.0\r\nHost: {host}\r\n\r\n")).await;
        assert_eq!(code, 200, "Host: {host} -> {text}");
    }
    let (code, _) = status_of(addr, "GET / HTTP/1.0\r\nHost: evil.example\r\n\r\n").await;
    assert_eq!(code, 421);
}

#[tokio::test]
async fn defect_14_a_symlink_under_deck_that_leads_out_is_not_served() {
    let srv = start(Duration::from_secs(5)).await;
    let a = srv.addr;
    let deck = srv.dir.path().join("book/__deck");
    std::fs::create_dir_all(&deck).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", deck.join("leak")).unwrap();
    std::os::unix::fs::symlink("/etc", deck.join("etc")).unwrap();
    std::fs::write(deck.join("own.txt"), "inside").unwrap();
    for path in ["/__deck/leak", "/__deck/etc/passwd", "/__deck/%6ceak"] {
        let (code, text) = status_of(a, &request("GET", path, a, "")).await;
        assert_eq!(code, 404, "{path}: {text}");
        assert!(!text.contains("root:x:0:0"), "{path} served a system file");
    }
    let (code, text) = status_of(a, &request("GET", "/__deck/own.txt", a, "")).await;
    assert_eq!(code, 200, "a real file under __deck is served: {text}");
    let (code, _) = status_of(a, &request("GET", "/__deck/status", a, "")).await;
    assert_eq!(code, 200, "the API still answers");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn defect_4_no_404_for_a_file_that_exists_before_and_after_20_rebuilds() {
    let book = crate::book::tests::fixture(
        "",
        "- [One](one.md)\n- [Two](two.md)\n",
        &[
            ("one.md", "# One\n\nfirst\n"),
            ("two.md", "# Two\n\nsecond\n"),
        ],
    );
    let root = book.path().to_path_buf();
    let out = crate::book::build(&root, false, crate::book::Player::Reuse).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let a = listener.local_addr().unwrap();
    let runs = std::sync::Arc::new(Runs::new(
        root.clone(),
        root.clone(),
        &[],
        Duration::from_secs(5),
    ));
    let (notices, _) = broadcast::channel(4);
    let (_stop, stopped) = tokio::sync::watch::channel(false);
    let state = State::new(notices, a, runs, stopped.clone());
    tokio::spawn(serve(
        listener,
        router(state, out),
        stopped,
        Limits::default(),
    ));
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut pollers = Vec::new();
    for path in [
        "/one.html",
        "/two.html",
        "/index.html",
        "/deck/player.js",
        "/deck/player_bg.wasm",
        "/deck/deck.js",
    ] {
        let done = std::sync::Arc::clone(&done);
        pollers.push(tokio::spawn(async move {
            let (mut asked, mut missing) = (0, Vec::new());
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                let (code, _) = status_of(a, &request("HEAD", path, a, "")).await;
                asked += 1;
                if code != 200 {
                    missing.push(code);
                }
            }
            (path, asked, missing)
        }));
    }
    let rebuilds = tokio::task::spawn_blocking(move || {
        let t0 = Instant::now();
        for i in 0..20 {
            std::fs::write(root.join("src/two.md"), format!("# Two\n\nedit {i}\n")).unwrap();
            crate::book::build(&root, false, crate::book::Player::Reuse).unwrap();
        }
        t0.elapsed()
    })
    .await
    .unwrap();
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut failures = Vec::new();
    for p in pollers {
        let (path, asked, missing) = p.await.unwrap();
        eprintln!("{path}: {asked} requests, {} not 200", missing.len());
        assert!(
            asked > 20,
            "{path}: only {asked} requests during the rebuilds"
        );
        if !missing.is_empty() {
            failures.push(format!("{path}: {missing:?}"));
        }
    }
    eprintln!("20 rebuilds in {rebuilds:?}");
    assert!(failures.is_empty(), "missing during rebuilds: {failures:?}");
}

#[tokio::test]
async fn ambiguous_headers_chunked_bodies_and_symlinks_out_of_the_book_are_refused() {
    let srv = start(Duration::from_secs(5)).await;
    let a = srv.addr;
    let book = srv.dir.path().join("book");
    std::os::unix::fs::symlink("/etc/passwd", book.join("leak.html")).unwrap();
    std::os::unix::fs::symlink("/etc", book.join("etc")).unwrap();
    let cases: Vec<(String, u16)> = vec![
        (request("GET", "/", a, &format!("Host: {a}\r\n")), 400),
        (request("GET", "/", a, "Host: evil.example\r\n"), 400),
        (
            request(
                "POST",
                "/__deck/run/skip",
                a,
                &format!("Origin: http://{a}\r\nOrigin: http://evil.example\r\n"),
            ),
            400,
        ),
        (
            request(
                "POST",
                "/__deck/run/skip",
                a,
                "Sec-Fetch-Site: same-origin\r\nSec-Fetch-Site: cross-site\r\n",
            ),
            400,
        ),
        (
            request(
                "POST",
                "/__deck/run/skip",
                a,
                "Origin: http://ev\u{e9}l.example\r\n",
            ),
            400,
        ),
        (
            format!(
                "POST /__deck/run/skip HTTP/1.1\r\nHost: {a}\r\nConnection: close\r\n\
                 Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
            ),
            411,
        ),
        (request("GET", "/leak.html", a, ""), 404),
        (request("GET", "/etc/passwd", a, ""), 404),
        (request("GET", "/index.html", a, ""), 200),
    ];
    for (raw, want) in cases {
        let (code, text) = status_of(a, &raw).await;
        assert_eq!(code, want, "{raw:?} -> {text}");
        assert!(
            !text.contains("root:x:0:0"),
            "a symlink served a system file"
        );
    }
}

#[tokio::test]
async fn while_the_demos_build_run_live_says_so() {
    let srv = start(Duration::from_secs(5)).await;
    let a = srv.addr;
    let bin = srv.dir.path().join("bin");
    srv.runs.built(Err("pretend".into()));
    let building = std::sync::Arc::new(Runs::building(
        srv.dir.path().join("demos"),
        &[deck::DemoInfo {
            name: "skip".into(),
            claim: "c".into(),
            source: bin.join("skip"),
        }],
        Duration::from_secs(5),
    ));
    let (notices, _) = broadcast::channel(4);
    let (_stop, stopped) = tokio::sync::watch::channel(false);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let b = listener.local_addr().unwrap();
    let state = State::new(
        notices,
        b,
        std::sync::Arc::clone(&building),
        stopped.clone(),
    );
    tokio::spawn(serve(
        listener,
        router(state, srv.dir.path().join("book")),
        stopped,
        Limits::default(),
    ));
    let (code, text) = status_of(b, &request("GET", "/__deck/status", b, "")).await;
    assert_eq!(code, 200);
    assert!(text.contains("\"building\":true"), "{text}");
    let (code, text) = status_of(b, &request("POST", "/__deck/run/skip", b, "")).await;
    assert_eq!(code, 503, "{text}");
    assert!(text.contains("still building"), "{text}");
    building.built(Ok(bin));
    let text = read_all(send(b, &request("POST", "/__deck/run/skip", b, "")).await).await;
    assert!(text.contains("no root"), "runs once built: {text}");
    let (code, text) = status_of(a, &request("POST", "/__deck/run/skip", a, "")).await;
    assert_eq!(code, 500, "a failed build says so: {text}");
}

/// Run live streams each packet the demo's capture reads as its own event, the moment
/// it is written: the first packet arrives while the demo still pauses, before the
/// connection it belongs to is recorded and before the exit. A server that held the
/// packets until the demo recorded its connection, or until it ended, fails this.
#[tokio::test]
async fn run_live_forwards_a_packet_before_the_demo_pauses() {
    let srv = start(Duration::from_secs(10)).await;
    let t0 = Instant::now();
    let mut s = send(
        srv.addr,
        &request("POST", "/__deck/run/wirepause", srv.addr, ""),
    )
    .await;
    let text = read_until(&mut s, "event: packet\ndata: ").await;
    let first = t0.elapsed();
    assert!(
        !text.contains("event: wire") && !text.contains("event: exit"),
        "the first packet came only with the recorded connection or the end: {text}"
    );
    assert!(
        first < PAUSE,
        "the first packet took {first:?}, longer than the demo's pause of {PAUSE:?}"
    );
    eprintln!("the first packet reached the client {first:?} after the request");
    let mut rest = Vec::new();
    tokio::time::timeout(PAUSE * 3, s.read_to_end(&mut rest))
        .await
        .expect("the run ends")
        .unwrap();
    let all = format!("{text}{}", String::from_utf8_lossy(&rest));
    let events: Vec<(String, String)> = all
        .split("\n\n")
        .map(contract::live::parse_sse)
        .filter(|(name, _)| name != "message")
        .collect();
    let packets: Vec<contract::wire::LivePacket> = events
        .iter()
        .filter(|(name, _)| name == contract::live::PACKET_EVENT)
        .map(|(_, data)| serde_json::from_str(data).unwrap())
        .collect();
    assert_eq!(
        packets.iter().map(|p| p.packet.at_us).collect::<Vec<_>>(),
        [0, 1_000_000],
        "each packet once, in order: {all}"
    );
    let order: Vec<&str> = events.iter().map(|(name, _)| name.as_str()).collect();
    let at = |name: &str| order.iter().position(|n| *n == name).unwrap_or(usize::MAX);
    assert!(
        order.iter().rposition(|n| *n == "packet") < Some(at("wire")) && at("wire") < at("exit"),
        "packets, then the connection, then the exit: {order:?}"
    );
}

/// Replaces the stand-in demo `name` of this server with `script`.
fn rewrite_demo(srv: &Server, name: &str, script: &str) {
    let path = srv.dir.path().join("bin").join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{script}\n")).unwrap();
}

/// Runs `name` live to its end, then asks to save it: the status and the body.
async fn run_then_save(srv: &Server, name: &str) -> (u16, String) {
    let run = format!("/__deck/run/{name}");
    let text = read_all(send(srv.addr, &request("POST", &run, srv.addr, "")).await).await;
    assert!(text.contains("event: exit"), "the run ended: {text}");
    let save = format!("/__deck/save/{name}");
    let (code, text) = status_of(srv.addr, &request("POST", &save, srv.addr, "")).await;
    let body = text
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .to_string();
    (code, body)
}

#[tokio::test]
async fn saving_a_failed_run_writes_it_over_nothing_with_the_reason_and_never_over_a_pass() {
    let srv = start(Duration::from_secs(10)).await;
    let stored = srv.dir.path().join("demos/transcripts/quiet4.json");
    let status_on_disk = || {
        let json = std::fs::read_to_string(&stored).unwrap();
        serde_json::from_str::<contract::Transcript>(&json)
            .unwrap()
            .outcome
            .status
    };

    // A failed run with no transcript yet: written, and the answer says why.
    rewrite_demo(&srv, "quiet4", "echo it broke; exit 1");
    let (code, body) = run_then_save(&srv, "quiet4").await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body, "stored (no earlier transcript)\n");
    assert_eq!(status_on_disk(), contract::Status::Failed);

    // A passing run is stored over it, and the answer is just "saved".
    rewrite_demo(&srv, "quiet4", "echo it works; exit 0");
    let (code, body) = run_then_save(&srv, "quiet4").await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body, "saved\n");
    assert_eq!(status_on_disk(), contract::Status::Passed);

    // A failed run over a passing transcript: refused, and the pass is kept.
    rewrite_demo(&srv, "quiet4", "echo it broke again; exit 1");
    let (code, body) = run_then_save(&srv, "quiet4").await;
    assert_eq!(code, 409, "{body}");
    assert_eq!(body, "kept the previous transcript\n");
    assert_eq!(status_on_disk(), contract::Status::Passed);
}

#[tokio::test]
async fn a_closed_page_stops_a_demo_that_prints_without_pausing() {
    // No pause of 100 ms for the idle check to notice the page is gone, and an output
    // cap far above what it prints in the test: only the failed send can stop it.
    let srv = start_capped(Duration::from_secs(15), Limits::default(), 1 << 30).await;
    rewrite_demo(&srv, "quiet3", "while :; do echo 31.7071-tick; done");
    let marker = srv.dir.path().join("bin/quiet3");
    let marker = marker.to_str().unwrap();
    let mut s = send(
        srv.addr,
        &request("POST", "/__deck/run/quiet3", srv.addr, ""),
    )
    .await;
    let mut piece = [0u8; 4096];
    let mut seen = String::new();
    while !seen.contains("31.7071-tick") {
        let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut piece))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0);
        seen.push_str(&String::from_utf8_lossy(&piece[..n]));
    }
    assert_eq!(processes_with(marker), 1, "the demo is running");
    drop(s);
    assert!(
        gone_within(marker, Duration::from_secs(3)).await,
        "a demo printing to a closed page kept running"
    );
}

#[tokio::test]
async fn a_body_of_4_kib_is_accepted_and_one_byte_more_is_refused() {
    let srv = start(Duration::from_secs(5)).await;
    let a = srv.addr;
    for (len, expected) in [(4096, 409), (4097, 413)] {
        let head = request(
            "POST",
            "/__deck/save/clock",
            a,
            &format!("Content-Length: {len}\r\n"),
        );
        let raw = format!("{head}{}", "x".repeat(len));
        let (code, text) = status_of(a, &raw).await;
        // 409: past the guard, and nothing has run yet to save.
        assert_eq!(code, expected, "a body of {len} bytes: {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_symlink_out_of_the_book_is_refused_however_the_path_spells_it() {
    let srv = start(Duration::from_secs(5)).await;
    let a = srv.addr;
    let book = srv.dir.path().join("book");
    std::os::unix::fs::symlink("/etc/passwd", book.join("leak.html")).unwrap();
    std::os::unix::fs::symlink("/etc", book.join("etc")).unwrap();
    // The file service drops empty and `.` parts of a path (`leak.html/.` is
    // `leak.html`), so the guard must judge the file it will open.
    for path in [
        "/leak.html/.",
        "/leak.html/./",
        "/./leak.html",
        "//leak.html",
        "/%2e/leak.html",
        "/leak.html%2f.",
        "/etc/./passwd",
        "/etc//passwd",
        "/etc/passwd/.",
    ] {
        let (code, text) = status_of(a, &request("GET", path, a, "")).await;
        assert_eq!(code, 404, "{path}: {text}");
        assert!(!text.contains("root:x:0:0"), "{path} served a system file");
    }
    let (code, text) = status_of(a, &request("GET", "/./index.html", a, "")).await;
    assert_eq!(
        code, 200,
        "a file inside, spelt with a `.`, is served: {text}"
    );
}
