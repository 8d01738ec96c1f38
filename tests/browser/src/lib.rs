//! The harness of the deck's browser tests: build the fixture book, serve it under a
//! sub-path on 127.0.0.1, start chromedriver on a free port and open a headless
//! Chromium session. The tests themselves are in `tests/`; what they do on a page (open
//! it and wait for the player, size it, read the slide showing) is in [`page`], once.
//!
//! Chromium and chromedriver come from the system (`apt-get install chromium
//! chromium-driver`); `CHROMIUM` and `CHROMEDRIVER` point elsewhere.

#![forbid(unsafe_code)]

pub mod page;
pub use page::*;

use std::io::{BufRead, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::{Client, ClientBuilder};
use serde_json::{Value, json};
use tower_http::services::ServeDir;

/// What to do on a machine without the browser.
pub const INSTALL_HINT: &str =
    "Chromium not found; install with: apt-get install chromium chromium-driver";

/// The sub-path the fixture is served under, to prove the deck works below a root.
pub const PREFIX: &str = "/talk";

/// How Chromium runs headless on our machines: the flags `cargo xtask pdf` uses too.
pub use chromium::HEADLESS;

/// The size of the browser window: a 16:9 projector at 720p.
pub const WINDOW: (u32, u32) = (1280, 720);

/// The screen sizes the talk is walked at: a 16:9 projector at 720p and 1080p, and a
/// 4:3 one (the slide letterboxed).
pub const SIZES: &[(u32, u32)] = &[(1280, 720), (1920, 1080), (1024, 768)];

/// The tests of one test binary that write the talk's `book/` (building it, presenting
/// it, printing it) hold this while they do, so they take turns whatever the harness's
/// thread count (cargo runs the binaries one after another).
pub static BOOK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// This package's directory in the checkout the tests run in: the `CARGO_MANIFEST_DIR`
/// cargo sets at run time, since with a shared target dir a test binary built in another
/// checkout may be reused (the compiled-in path would name that checkout).
fn manifest_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
}

pub fn workspace_root() -> PathBuf {
    manifest_dir()
        .ancestors()
        .nth(2)
        .expect("tests/browser is two levels below the workspace root")
        .to_path_buf()
}

pub fn fixture_book() -> PathBuf {
    manifest_dir().join("fixture-book")
}

/// Screenshots and PDFs of a run, under cargo's target directory (not in git).
pub fn artifacts_dir() -> Result<PathBuf> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    let dir = target.join("browser-artifacts");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// A directory of one test's artifacts (`talk`, `ladder`, `look`) under
/// [`artifacts_dir`], created if missing.
pub fn artifacts_subdir(name: &str) -> Result<PathBuf> {
    let dir = artifacts_dir()?.join(name);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// `cargo run --quiet --package xtask --` in the workspace root, with the `cargo` that
/// runs the tests: add xtask's arguments (`build`, `pdf --notes`, ...).
pub fn xtask() -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command
        .args(["run", "--quiet", "--package", "xtask", "--"])
        .current_dir(workspace_root());
    command
}

/// The Chromium and chromedriver binaries (found as `cargo xtask` finds them), or why
/// there are none.
pub fn browser() -> Result<(PathBuf, PathBuf)> {
    let chromium = chromium::chromium().with_context(|| format!("no Chromium. {INSTALL_HINT}"))?;
    let driver =
        chromium::chromedriver().with_context(|| format!("no chromedriver. {INSTALL_HINT}"))?;
    Ok((chromium, driver))
}

/// `cargo xtask present --port 0`, in a process group of its own so that dropping
/// this ends the server and anything it started.
pub struct Present {
    child: Child,
    /// Where it serves the deck, ending in `/`.
    pub url: String,
}

impl Present {
    /// Starts it with `extra` arguments (e.g. `--book DIR`) and waits until it serves.
    pub fn start(extra: &[&std::ffi::OsStr]) -> Result<Present> {
        let mut child = xtask()
            .args(["present", "--port", "0"])
            .args(extra)
            .stdout(Stdio::piped())
            .process_group(0)
            .spawn()
            .context("starting cargo xtask present")?;
        let stdout = child.stdout.take().context("present's stdout")?;
        let mut present = Present {
            child,
            url: String::new(),
        };
        // The first line it prints is the address; the build before it may take a while.
        for line in std::io::BufReader::new(stdout).lines() {
            let line = line.context("reading present's output")?;
            if let Some(rest) = line.strip_prefix("serving the deck at ") {
                present.url = rest
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_string();
                return Ok(present);
            }
        }
        bail!("cargo xtask present exited before serving (see its errors above)")
    }

    /// Waits until the demos, built in the background after the deck is served, are
    /// ready (a fresh clone compiles them all first).
    pub fn wait_for_demos(&self) -> Result<()> {
        let t0 = std::time::Instant::now();
        while t0.elapsed() < Duration::from_secs(900) {
            if !get(&format!("{}__deck/status", self.url))?.contains("\"building\":true") {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        bail!("the demos were still building after 15 minutes")
    }
}

/// A plain HTTP/1.0 GET on loopback; the response's body.
pub fn get(url: &str) -> Result<String> {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").context("an http URL")?;
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let mut s =
        std::net::TcpStream::connect(host).with_context(|| format!("connecting to {host}"))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(s, "GET /{path} HTTP/1.0\r\nHost: {host}\r\n\r\n")?;
    let mut text = String::new();
    s.read_to_string(&mut text)?;
    Ok(text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default())
}

impl Drop for Present {
    fn drop(&mut self) {
        // The whole group: cargo, xtask and whatever the server started.
        kill_group(&mut self.child);
    }
}

/// Kills a child started in a process group of its own, with everything in the group,
/// and reaps it.
fn kill_group(child: &mut Child) {
    let group = nix::unistd::Pid::from_raw(child.id() as i32);
    let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
    let _ = child.wait();
}

/// Builds the talk itself (`cargo xtask build`) and returns its `book/`.
pub fn build_talk() -> Result<PathBuf> {
    let status = xtask()
        .arg("build")
        .status()
        .context("running cargo xtask build")?;
    ensure!(status.success(), "cargo xtask build failed ({status})");
    Ok(workspace_root().join("book"))
}

/// Builds the real talk (`cargo xtask build`, into `book/`), serves it, opens one
/// browser session and runs `f` in it; the session is closed whatever `f` returned.
/// Without Chromium it fails before building.
pub async fn on_the_talk<T>(f: impl AsyncFnOnce(&Client, &Server) -> Result<T>) -> Result<T> {
    let browser = browser()?;
    let site = build_talk()?;
    session_on(browser, &site, f).await
}

/// [`on_the_talk`] for the fixture book ([`build_fixture`]).
pub async fn on_the_fixture<T>(f: impl AsyncFnOnce(&Client, &Server) -> Result<T>) -> Result<T> {
    let browser = browser()?;
    let site = build_fixture()?;
    session_on(browser, &site, f).await
}

/// Serves `site`, a book built already, opens one browser session and runs `f` in it;
/// the session is closed whatever `f` returned.
pub async fn on_site<T>(
    site: &Path,
    f: impl AsyncFnOnce(&Client, &Server) -> Result<T>,
) -> Result<T> {
    session_on(browser()?, site, f).await
}

async fn session_on<T>(
    (chromium, chromedriver): (PathBuf, PathBuf),
    site: &Path,
    f: impl AsyncFnOnce(&Client, &Server) -> Result<T>,
) -> Result<T> {
    let server = Server::start(site).await?;
    let driver = Driver::start(&chromedriver)?;
    let c = driver.session(&chromium).await?;
    let outcome = f(&c, &server).await;
    let _ = c.close().await;
    outcome
}

/// Starts `cargo xtask present` (with `extra` arguments), waits until its demos are
/// built, opens one browser session and runs `f` in it; the session is closed whatever
/// `f` returned, and the server is stopped.
pub async fn on_present<T>(
    extra: &[&std::ffi::OsStr],
    f: impl AsyncFnOnce(&Client, &Present) -> Result<T>,
) -> Result<T> {
    let (chromium, chromedriver) = browser()?;
    let present = Present::start(extra)?;
    present.wait_for_demos()?;
    let driver = Driver::start(&chromedriver)?;
    let c = driver.session(&chromium).await?;
    let outcome = f(&c, &present).await;
    let _ = c.close().await;
    outcome
}

/// The chapter page of the built talk (`book/`) that embeds `demo`'s terminal (its
/// `<figure>` of class `demo`, whatever the order of its attributes; a chart or a ladder
/// of the same demo may be on another page), and the number of the slide that holds it.
pub fn slide_of_demo(demo: &str) -> Result<(String, usize)> {
    chapter_pages(&workspace_root().join("book"))?
        .into_iter()
        .find_map(|(page, html)| Some((page, demo_slide(&html, demo)?)))
        .with_context(|| format!("no page of the talk embeds {demo}"))
}

/// The number of the slide of a chapter page's `html` that holds `demo`'s terminal.
fn demo_slide(html: &str, demo: &str) -> Option<usize> {
    let marker = format!("data-demo=\"{demo}\"");
    let at = html.match_indices("<figure ").find_map(|(at, _)| {
        let tag = html[at..].split('>').next().unwrap_or_default();
        let terminal = tag.split_whitespace().any(|a| a == "class=\"demo\"");
        (terminal && tag.contains(&marker)).then_some(at)
    })?;
    Some(html[..at].matches("<section class=\"slide\"").count())
}

/// The talk's chapters in reading order with the talk-wide number of each one's first
/// slide, from a page's contract ([`contract::page::Page`], which every chapter page
/// carries); `None` when `html` has none.
pub fn chapter_order(html: &str) -> Option<Vec<(String, usize)>> {
    let page = contract::page::Page::in_html(html).ok()?;
    Some(
        page.chapters
            .into_iter()
            .map(|c| (c.page, c.first))
            .collect(),
    )
}

/// Presses S in the deck and switches to the speaker window it opens, waiting at most
/// [`WAIT`] (5 s) for the window (not for its player: [`ready`]); returns the main
/// window's handle, to switch back.
pub async fn open_speaker_window(c: &Client) -> Result<fantoccini::wd::WindowHandle> {
    let main = c.window().await?;
    press(c, 's').await?;
    let t0 = Instant::now();
    let speaker = loop {
        if let Some(w) = c.windows().await?.into_iter().find(|w| *w != main) {
            break w;
        }
        ensure!(
            t0.elapsed() < WAIT,
            "S opened no speaker window in {WAIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    c.switch_to_window(speaker).await?;
    Ok(main)
}

/// Makes the page (not the window around it) `w`×`h`: the window is grown by whatever
/// the browser's own frame takes. A page must be open.
pub async fn set_viewport(c: &Client, w: u32, h: u32) -> Result<()> {
    c.set_window_size(w, h).await?;
    // A resize may take effect late on a busy machine: measure and correct a few times.
    let mut inner = Value::Null;
    for _ in 0..10 {
        let m = js(
            c,
            "return [innerWidth, innerHeight, outerWidth - innerWidth, outerHeight - innerHeight];",
        )
        .await?;
        let at = |i: usize| m[i].as_u64().unwrap_or(0) as u32;
        inner = json!([at(0), at(1)]);
        if inner == json!([w, h]) {
            return Ok(());
        }
        c.set_window_size(w + at(2), h + at(3)).await?;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("the viewport is {inner}, not {w}×{h}")
}

/// Builds the fixture book with the deck engine (`cargo xtask build --book`) and returns
/// its output directory (`target/browser-fixture-book`).
pub fn build_fixture() -> Result<PathBuf> {
    let book = fixture_book();
    let status = xtask()
        .args(["build", "--book"])
        .arg(&book)
        .status()
        .context("running cargo xtask build")?;
    ensure!(
        status.success(),
        "cargo xtask build --book {} failed ({status})",
        book.display()
    );
    // Where fixture-book/book.toml puts it: outside theme/, which `present` watches.
    let out = workspace_root().join("target/browser-fixture-book");
    ensure!(
        out.join("index.html").is_file(),
        "the fixture book was built, but not into {}",
        out.display()
    );
    Ok(out)
}

/// The chapter pages of a built book, with their HTML: every `.html` file at its top
/// level except mdbook's own pages (print, table of contents, the index redirect).
pub fn chapter_pages(site: &Path) -> Result<Vec<(String, String)>> {
    let mut pages = Vec::new();
    for entry in std::fs::read_dir(site).with_context(|| format!("listing {}", site.display()))? {
        let path = entry?.path();
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        if !name.ends_with(".html")
            || ["print.html", "index.html", "toc.html"].contains(&name.as_str())
        {
            continue;
        }
        let html = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        pages.push((name, html));
    }
    pages.sort();
    Ok(pages)
}

/// A static server for a directory, below [`PREFIX`], on 127.0.0.1 and a free port.
pub struct Server {
    pub addr: SocketAddr,
    dir: PathBuf,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    pub async fn start(dir: &Path) -> Result<Server> {
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .context("listening on 127.0.0.1")?;
        let addr = listener.local_addr()?;
        let app = axum::Router::new().nest_service(PREFIX, ServeDir::new(dir));
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                eprintln!("fixture server stopped: {e}");
            }
        });
        Ok(Server {
            addr,
            dir: dir.to_path_buf(),
            task,
        })
    }

    /// The directory it serves (the built book).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The URL of a page of the book.
    pub fn url(&self, page: &str) -> String {
        format!("http://{}{PREFIX}/{page}", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A chromedriver process of ours, killed (by its own pid) when dropped.
pub struct Driver {
    child: Child,
    pub url: String,
    profile: PathBuf,
}

impl Driver {
    pub fn start(chromedriver: &Path) -> Result<Driver> {
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|l| l.local_addr())
            .context("finding a free port")?
            .port();
        let child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // A group of its own: the Chromium it starts goes with it, even when a
            // test fails before it closes its session.
            .process_group(0)
            .spawn()
            .with_context(|| format!("starting {}", chromedriver.display()))?;
        let profile =
            std::env::temp_dir().join(format!("deck-browser-tests-{}-{port}", std::process::id()));
        let mut driver = Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
            profile,
        };
        let t0 = Instant::now();
        while std::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err() {
            if let Some(status) = driver.child.try_wait()? {
                bail!("chromedriver exited at start ({status})");
            }
            ensure!(
                t0.elapsed() < Duration::from_secs(20),
                "chromedriver did not listen on port {port} in 20 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(driver)
    }

    /// A new headless Chromium session with a fresh profile.
    pub async fn session(&self, chromium: &Path) -> Result<Client> {
        self.session_with(chromium, &[]).await
    }

    /// [`Driver::session`] with `extra` Chromium flags after ours (a proxy, features
    /// turned off).
    pub async fn session_with(&self, chromium: &Path, extra: &[String]) -> Result<Client> {
        let args = HEADLESS
            .iter()
            .chain(&["--disable-dev-shm-usage"])
            .map(|s| s.to_string())
            .chain([
                format!("--window-size={},{}", WINDOW.0, WINDOW.1),
                // Headless Chromium's screen is 1920×1080 unless told: a 1920×1080 page
                // in a window with its frame needs a larger one.
                "--screen-info={0,0 3840x2160}".to_string(),
                format!("--user-data-dir={}", self.profile.display()),
            ])
            .chain(extra.iter().cloned())
            .collect::<Vec<_>>();
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("chrome"));
        caps.insert(
            "goog:chromeOptions".into(),
            json!({ "binary": chromium, "args": args }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&self.url)
            .await
            .with_context(|| {
                format!(
                    "opening a Chromium session through chromedriver at {}",
                    self.url
                )
            })
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // Chromedriver and the Chromium it started.
        kill_group(&mut self.child);
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// Presses one key (a character, or a [`fantoccini::key::Key`] as char) the way a
/// user does: WebDriver's trusted key events to the focused page.
pub async fn press(client: &Client, key: char) -> Result<()> {
    let keys = KeyActions::new("keyboard".into())
        .then(KeyAction::Down { value: key })
        .then(KeyAction::Up { value: key });
    client
        .perform_actions(keys)
        .await
        .with_context(|| format!("pressing {key:?}"))
}

/// Runs a script in the page and returns its value.
pub async fn js(client: &Client, script: &str) -> Result<Value> {
    client
        .execute(script, vec![])
        .await
        .with_context(|| format!("running `{script}`"))
}

/// The test assets from npm (`package.json` and `package-lock.json` beside this crate,
/// each version pinned): axe-core, the accessibility audit the tests inject into pages,
/// and reveal.js, whose white theme the look test sets the talk's words in. Installed
/// here with `npm ci` when one of them is missing or at another version; nothing is
/// fetched when the pages run. Returns the `node_modules` directory.
pub fn node_modules() -> Result<PathBuf> {
    let dir = manifest_dir();
    let modules = dir.join("node_modules");
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("package.json")).context("reading package.json")?,
    )
    .context("parsing package.json")?;
    let installed = |name: &str, version: &str| {
        std::fs::read_to_string(modules.join(name).join("package.json"))
            .ok()
            .and_then(|text| serde_json::from_str::<Value>(&text).ok())
            .is_some_and(|m| m["version"] == version)
    };
    let missing: Vec<String> = manifest["dependencies"]
        .as_object()
        .context("package.json has no dependencies")?
        .iter()
        .filter(|(name, version)| !installed(name, version.as_str().unwrap_or_default()))
        .map(|(name, version)| format!("{name}@{}", version.as_str().unwrap_or_default()))
        .collect();
    if !missing.is_empty() {
        eprintln!(
            "installing {} (tests/browser/package-lock.json) with npm ci",
            missing.join(", ")
        );
        let status = Command::new("npm")
            .args(["ci", "--ignore-scripts", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .status()
            .context("running npm ci in tests/browser (apt-get install npm)")?;
        ensure!(
            status.success(),
            "npm ci in {} failed ({status})",
            dir.display()
        );
    }
    Ok(modules)
}

/// axe-core's source, to inject into pages (see [`node_modules`]).
pub fn axe_source() -> Result<String> {
    let file = node_modules()?.join("axe-core/axe.min.js");
    std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))
}

/// Runs axe-core (WCAG 2.0 and 2.1, levels A and AA) on the open page, or on what
/// `selector` matches: each violation as "rule (impact): N node(s): the first targets".
pub async fn axe(client: &Client, source: &str, selector: Option<&str>) -> Result<Vec<String>> {
    let loaded = client
        .execute("return typeof axe === 'object';", vec![])
        .await?;
    if loaded != Value::Bool(true) {
        client
            .execute(&format!("{source}\n;return true;"), vec![])
            .await
            .context("loading axe-core into the page")?;
    }
    let context = selector.map_or_else(
        || "document".to_string(),
        |s| format!("{{include: [{}]}}", json!(s)),
    );
    let found = client
        .execute_async(
            &format!(
                "const done = arguments[arguments.length - 1]; \
                 axe.run({context}, {{runOnly: {{type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}}}}) \
                 .then(r => done(r.violations.map(v => `${{v.id}} (${{v.impact}}): ${{v.nodes.length}} node(s): ` + \
                   v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '))), \
                   e => done([`axe-core failed: ${{e}}`]));"
            ),
            vec![],
        )
        .await
        .context("running axe-core")?;
    Ok(found
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect())
}

/// What the checks of the talk found: (rule, slide or page URL) → what is wrong there
/// (at which size and theme).
pub type Findings = std::collections::BTreeMap<(String, String), Vec<String>>;

/// One exemption: a rule, the URL of a slide (`page.html#slide-N`) or a page, and why
/// it cannot comply yet.
pub type Exemption = (&'static str, &'static str, &'static str);

/// Judges what a test found against the exemption list, the one mechanism for every
/// rule: a finding that is not exempt fails, and so does an exemption whose slide now
/// complies (the list only shrinks), one naming a rule that does not exist, or one
/// naming a slide or page that was not checked. `measured` are the rules this test
/// measures (exemptions of other rules are another test's), `rules` every rule there
/// is, `checked` every slide or page URL the test walked. Returns the failures, one
/// line each; none means the test passes.
pub fn judge(
    exempt: &[Exemption],
    rules: &[&str],
    measured: &[&str],
    checked: &std::collections::BTreeSet<String>,
    found: &Findings,
) -> Vec<String> {
    let mut failures = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for &(rule, url, reason) in exempt {
        if !rules.contains(&rule) {
            failures.push(format!(
                "the exemption list names the rule {rule} ({url}), which is none of {rules:?}"
            ));
        } else if !seen.insert((rule, url)) {
            failures.push(format!("the exemption list names {url} for {rule} twice"));
        } else if !measured.contains(&rule) {
            // Another test measures this rule.
        } else if !checked.contains(url) {
            failures.push(format!(
                "the exemption list names {url} for {rule}, which is not a slide or page of the talk (any more)"
            ));
        } else if !found.contains_key(&(rule.to_string(), url.to_string())) {
            failures.push(format!(
                "{url} is exempt from {rule} ({reason}) but complies now: remove it from the exemption list"
            ));
        }
    }
    for ((rule, url), what) in found {
        if !seen.contains(&(rule.as_str(), url.as_str())) {
            failures.push(format!("{url}: {rule}: {}", what.join("; ")));
        }
    }
    failures
}

/// Waits until `condition` (a JS expression) is true, or fails saying which.
pub async fn wait_for(client: &Client, condition: &str, timeout: Duration) -> Result<()> {
    let t0 = Instant::now();
    let script = format!("return !!({condition});");
    loop {
        if js(client, &script).await?.as_bool() == Some(true) {
            return Ok(());
        }
        if t0.elapsed() > timeout {
            bail!("still false after {timeout:?}: {condition}");
        }
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
}

/// Saves a screenshot of the current window as `NAME.png` under [`artifacts_dir`]
/// (`name` may name a directory of it: `talk/tcp-03`, created if missing); returns its
/// path.
pub async fn screenshot(client: &Client, name: &str) -> Result<PathBuf> {
    let png = client.screenshot().await.context("taking a screenshot")?;
    let path = artifacts_dir()?.join(format!("{name}.png"));
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(&path, png).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// `outcome` as it is; when it is an error, first a [`screenshot`] named `name` of the
/// window as the error left it, printed with the error on stderr.
pub async fn screenshot_on_error<T>(client: &Client, name: &str, outcome: Result<T>) -> Result<T> {
    if let Err(e) = &outcome {
        let shot = screenshot(client, name).await;
        eprintln!("failed: {e:#}\nscreenshot: {shot:?}");
    }
    outcome
}

/// Copies a directory tree (a book) to `to`, so that a test can edit or break the copy.
pub fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    for entry in std::fs::read_dir(from).with_context(|| format!("listing {}", from.display()))? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)
                .with_context(|| format!("copying {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// Gzipped size of some bytes (what a static host with compression serves).
pub fn gzip_size(bytes: &[u8]) -> Result<usize> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(bytes)?;
    Ok(gz.finish()?.len())
}

/// Prints the fixture book with xtask's own PDF code (`cargo xtask pdf --book`, the
/// command a presenter runs), copies the PDF to `pdf` and returns its bytes.
pub fn xtask_pdf(notes: bool, pdf: &Path) -> Result<Vec<u8>> {
    let book = fixture_book();
    let mut command = xtask();
    command.args(["pdf", "--book"]).arg(&book);
    if notes {
        command.arg("--notes");
    }
    let status = command.status().context("running cargo xtask pdf")?;
    ensure!(
        status.success(),
        "cargo xtask pdf --book {} failed ({status})",
        book.display()
    );
    let written = workspace_root().join("target/browser-fixture-book/talk.pdf");
    std::fs::copy(&written, pdf)
        .with_context(|| format!("copying {} to {}", written.display(), pdf.display()))?;
    std::fs::read(pdf).with_context(|| format!("reading {}", pdf.display()))
}

/// Pages in a PDF, counted as `cargo xtask pdf` counts them.
pub use chromium::pdf_page_count as page_count;

/// The page size of a PDF's first page, in points.
pub fn media_box(pdf: &[u8]) -> Option<(f64, f64)> {
    let text = String::from_utf8_lossy(pdf);
    let at = text.find("/MediaBox [")? + "/MediaBox [".len();
    let numbers: Vec<f64> = text[at..]
        .split(']')
        .next()?
        .split_whitespace()
        .filter_map(|n| n.parse().ok())
        .collect();
    match numbers.as_slice() {
        [x0, y0, x1, y1] => Some((x1 - x0, y1 - y0)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pdf_pages_and_size() {
        let pdf = b"<< /Type /Pages /Count 2 >> << /Type /Page /MediaBox [0 0 960 540] >> << /Type /Page\n>>";
        assert_eq!(page_count(pdf), 2);
        assert_eq!(media_box(pdf), Some((960.0, 540.0)));
        assert_eq!(media_box(b"none"), None);
    }

    fn findings(list: &[(&str, &str)]) -> Findings {
        list.iter()
            .map(|&(rule, url)| ((rule.into(), url.into()), vec!["too small".into()]))
            .collect()
    }

    #[test]
    fn an_exemption_holds_only_while_its_slide_breaks_its_rule() {
        const RULES: &[&str] = &["size", "contrast", "axe"];
        let checked = ["a.html#slide-1", "a.html#slide-2"]
            .map(String::from)
            .into_iter()
            .collect();
        let exempt: &[Exemption] = &[("size", "a.html#slide-1", "the reason")];
        // Exempt and still breaking the rule: passes; another slide breaking it fails.
        let found = findings(&[("size", "a.html#slide-1")]);
        assert!(judge(exempt, RULES, &["size"], &checked, &found).is_empty());
        let found = findings(&[("size", "a.html#slide-1"), ("size", "a.html#slide-2")]);
        let failures = judge(exempt, RULES, &["size"], &checked, &found);
        assert_eq!(failures, ["a.html#slide-2: size: too small"]);
        // The exempt slide complies now: the list must shrink.
        let failures = judge(exempt, RULES, &["size"], &checked, &Findings::new());
        assert_eq!(failures.len(), 1);
        assert!(failures[0].contains("complies now"), "{failures:?}");
        // Exempt from another rule than the one broken: no cover.
        let found = findings(&[("contrast", "a.html#slide-1")]);
        let failures = judge(exempt, RULES, &["size", "contrast"], &checked, &found);
        assert_eq!(failures.len(), 2, "{failures:?}");
        // A rule another test measures is that test's business.
        assert!(judge(exempt, RULES, &["axe"], &checked, &Findings::new()).is_empty());
        // Misspelt rules, unknown slides and duplicates are errors.
        let bad: &[Exemption] = &[
            ("sise", "a.html#slide-1", "r"),
            ("size", "b.html#slide-9", "r"),
            ("contrast", "a.html#slide-1", "r"),
            ("contrast", "a.html#slide-1", "r"),
        ];
        let found = findings(&[("contrast", "a.html#slide-1")]);
        let failures = judge(bad, RULES, &["size", "contrast"], &checked, &found);
        assert!(failures[0].contains("names the rule sise"), "{failures:?}");
        assert!(failures[1].contains("not a slide or page"), "{failures:?}");
        assert!(failures[2].contains("twice"), "{failures:?}");
        assert_eq!(failures.len(), 3, "{failures:?}");
    }

    #[test]
    fn a_demo_is_found_by_its_terminal_not_its_chart() {
        let html = "<section class=\"slide\"><figure class=\"chart\" data-demo=\"a\"></figure></section>\
                    <section class=\"slide\"><figure data-demo=\"b\" class=\"demo\"></figure></section>\
                    <section class=\"slide\"><figure class=\"demo\" data-demo=\"a\" data-focus=\"1\"></figure></section>";
        assert_eq!(demo_slide(html, "a"), Some(3));
        assert_eq!(demo_slide(html, "b"), Some(2));
        assert_eq!(demo_slide(html, "c"), None);
    }

    #[test]
    fn the_chapters_are_read_in_order_with_their_first_slides() {
        use contract::page::{ChapterStart, Page};
        let page = Page {
            chapters: vec![
                ChapterStart {
                    page: "title.html".into(),
                    first: 0,
                },
                ChapterStart {
                    page: "files, and more.html".into(),
                    first: 4,
                },
            ],
            ..Page::default()
        };
        assert_eq!(
            chapter_order(&format!("<main>{}</main>", page.to_html())),
            Some(vec![
                ("title.html".into(), 0),
                ("files, and more.html".into(), 4)
            ])
        );
        assert_eq!(chapter_order("<p>no deck</p>"), None);
    }

    #[test]
    fn gzip_shrinks_repetition() {
        let size = gzip_size(&[b'a'; 10_000]).unwrap();
        assert!(size < 100, "{size}");
    }
}
