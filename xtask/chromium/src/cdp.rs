//! Just enough of the Chrome DevTools Protocol to print a page once it says it is
//! ready: headless Chromium's `--print-to-pdf` prints as soon as the page loads
//! (before the player has laid out the slides), and its `--virtual-time-budget`,
//! the old way to wait, makes Chromium 156 print nothing at all.
//!
//! Four commands over one WebSocket (tungstenite, blocking, no TLS): open a tab,
//! attach to it, evaluate a promise that resolves when the page is ready, print.
//! A full CDP client (headless_chrome, chromiumoxide) compiles the whole generated
//! protocol for these four calls.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use base64::Engine;
use serde_json::{Value, json};
use tungstenite::{Message, WebSocket};

/// A headless Chromium driven through its DevTools endpoint.
pub struct Browser {
    // Fields drop in order: the socket closes before the process is killed.
    socket: WebSocket<TcpStream>,
    next_id: u64,
    _process: Process,
}

/// The browser process: killed, and its profile removed, on drop.
struct Process {
    child: Child,
    profile: PathBuf,
    stderr: mpsc::Receiver<String>,
}

impl Browser {
    /// Starts `chromium` headless and connects to its DevTools endpoint.
    pub fn launch(chromium: &Path, timeout: Duration) -> Result<Browser> {
        let profile = tempfile::Builder::new()
            .prefix("deck-chromium-")
            .tempdir()
            .context("creating a Chromium profile directory")?
            .keep();
        let mut child = Command::new(chromium)
            .args(crate::HEADLESS)
            .arg("--remote-debugging-port=0")
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {}", chromium.display()))?;
        let stderr = child.stderr.take().context("Chromium's stderr")?;
        let (tx, rx) = mpsc::channel();
        // Chromium names its endpoint on stderr; the thread then keeps draining the
        // pipe so that the browser never blocks on a full one.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let process = Process {
            child,
            profile,
            stderr: rx,
        };
        let url = process.endpoint(chromium, timeout)?;
        Ok(Browser {
            socket: connect(&url, timeout)?,
            next_id: 0,
            _process: process,
        })
    }

    /// Opens `url` in a new tab and returns the session that drives it.
    pub fn open(&mut self, url: &str) -> Result<String> {
        let target = self.call(None, "Target.createTarget", json!({ "url": url }))?;
        let target_id = target["targetId"]
            .as_str()
            .context("createTarget: no targetId")?;
        let attached = self.call(
            None,
            "Target.attachToTarget",
            json!({ "targetId": target_id, "flatten": true }),
        )?;
        Ok(attached["sessionId"]
            .as_str()
            .context("attachToTarget: no sessionId")?
            .to_string())
    }

    /// Evaluates `expression` (a promise is awaited) and returns its value.
    pub fn eval(&mut self, session: &str, expression: &str) -> Result<Value> {
        let result = self.call(
            Some(session),
            "Runtime.evaluate",
            json!({ "expression": expression, "awaitPromise": true, "returnByValue": true }),
        )?;
        if let Some(exception) = result.get("exceptionDetails") {
            let text = exception["exception"]["description"]
                .as_str()
                .or(exception["text"].as_str())
                .unwrap_or("an exception");
            bail!("the page threw: {text}");
        }
        Ok(result["result"]["value"].clone())
    }

    /// [`Browser::eval`] in the page a new tab is navigating to: a new tab starts
    /// on about:blank, and an evaluation there fails when the navigation replaces it.
    pub fn eval_after_navigation(&mut self, session: &str, expression: &str) -> Result<Value> {
        for _ in 0..NAVIGATION_RETRIES {
            match self.eval(session, expression) {
                Err(e) if is_navigation(&e) => std::thread::sleep(Duration::from_millis(50)),
                other => return other,
            }
        }
        bail!("the page kept navigating ({NAVIGATION_RETRIES} tries)")
    }

    /// Prints the page with its own CSS page size and backgrounds; returns the PDF.
    pub fn print_pdf(&mut self, session: &str) -> Result<Vec<u8>> {
        let result = self.call(
            Some(session),
            "Page.printToPDF",
            json!({
                "printBackground": true,
                "preferCSSPageSize": true,
                "displayHeaderFooter": false,
                "marginTop": 0, "marginBottom": 0, "marginLeft": 0, "marginRight": 0,
            }),
        )?;
        let data = result["data"].as_str().context("printToPDF: no data")?;
        base64::engine::general_purpose::STANDARD
            .decode(data)
            .context("printToPDF: data is not base64")
    }

    /// Sends one command and waits for its answer, skipping the events in between.
    fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Result<Value> {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({ "id": id, "method": method, "params": params });
        if let Some(session) = session {
            message["sessionId"] = json!(session);
        }
        self.socket
            .send(Message::text(message.to_string()))
            .with_context(|| format!("sending {method} to Chromium"))?;
        loop {
            let frame = self
                .socket
                .read()
                .with_context(|| format!("waiting for Chromium's answer to {method}"))?;
            let Message::Text(text) = frame else { continue };
            let answer: Value = serde_json::from_str(&text)
                .with_context(|| format!("Chromium's answer to {method} is not JSON"))?;
            if answer["id"] != json!(id) {
                continue;
            }
            if let Some(error) = answer.get("error") {
                return Err(anyhow!(
                    "{method}: {}",
                    error["message"].as_str().unwrap_or("failed")
                ));
            }
            return Ok(answer["result"].clone());
        }
    }
}

impl Process {
    /// The `ws://` address Chromium prints as "DevTools listening on ...".
    fn endpoint(&self, chromium: &Path, timeout: Duration) -> Result<String> {
        let deadline = Instant::now() + timeout;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr.recv_timeout(left) {
                Ok(line) => {
                    if let Some(url) = line.strip_prefix("DevTools listening on ") {
                        return Ok(url.trim().to_string());
                    }
                    seen.push(line);
                }
                Err(_) => bail!(
                    "{} did not open its DevTools endpoint within {timeout:?}{}",
                    chromium.display(),
                    tail(&seen)
                ),
            }
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// Connects to a `ws://127.0.0.1:PORT/...` endpoint with a read timeout on every call.
fn connect(url: &str, timeout: Duration) -> Result<WebSocket<TcpStream>> {
    let host = url
        .strip_prefix("ws://")
        .and_then(|rest| rest.split('/').next())
        .with_context(|| format!("not a ws:// endpoint: {url}"))?;
    let stream = TcpStream::connect(host).with_context(|| format!("connecting to {host}"))?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    let (socket, _) = tungstenite::client(url, stream)
        .map_err(|e| anyhow!("the DevTools handshake with {url}: {e}"))?;
    Ok(socket)
}

/// How often an evaluation is retried while a tab navigates.
const NAVIGATION_RETRIES: u32 = 100;

/// Chromium's errors for an evaluation whose document went away under it.
fn is_navigation(error: &anyhow::Error) -> bool {
    let text = format!("{error:#}");
    [
        "Execution context was destroyed",
        "Cannot find context",
        "Inspected target navigated",
    ]
    .iter()
    .any(|m| text.contains(m))
}

fn tail(lines: &[String]) -> String {
    let last: Vec<&str> = lines
        .iter()
        .rev()
        .take(5)
        .rev()
        .map(String::as_str)
        .collect();
    if last.is_empty() {
        String::new()
    } else {
        format!("; it said:\n{}", last.join("\n"))
    }
}
