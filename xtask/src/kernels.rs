//! `cargo xtask kernels`: every demo on every kernel of `book.toml`'s list, each kernel
//! booted once.
//!
//! The list is `kernels = ["host", "6.1", "6.12"]` under `[preprocessor.deck]`: `host`
//! is the running kernel (the demos run here, as `capture` runs them); `X.Y` is the
//! newest Debian package `linux-image-X.Y…-amd64-unsigned`, booted with virtme-ng in
//! QEMU. The guest sees this machine's root filesystem read-only (virtme-ng's default:
//! 9p, with tmpfs overlays inside the guest for /etc, /tmp, /var…), so the host's built
//! demos run as they are; the one directory it may write is a fresh run directory under
//! the target dir, passed with `--rwdir`. The guest has no network device: only its own
//! loopback and the namespaces the demos make.
//!
//! Inside, the same xtask binary runs `kernels-guest`, which runs each demo the way
//! `capture` does (its own jail, time limit and metrics file) and writes one transcript
//! per demo; back on the host each is checked (format, demo, the guest's kernel) and
//! stored as `demos/transcripts/kernels/SERIES/NAME.json`, with `run.json` beside them
//! saying which kernel ran and whether it was emulated (TCG): timings from an emulated
//! guest are not the host's and are never compared with them. QEMU runs under `nice`,
//! inside a jail of its own (see [`crate::runner`]) with a time limit: a stuck guest is
//! killed with everything it started, and reported.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use contract::{Status, Transcript};
use xshell::{Shell, cmd};

use crate::book::BookConfig;
use crate::capture::{self, MetricsFile};
use crate::demos::{self, demos_dir};
use crate::runner::{self, Event};
use crate::{project_root, wasm};
use deck::config::KernelEntry;

/// The virtme-ng release installed into the private virtual environment (tried here).
const VIRTME_NG: &str = "virtme-ng==1.42";

/// What a guest needs besides the kernel: QEMU, and busybox for virtme-ng's initramfs
/// (Debian's kernels load virtio and 9p as modules).
const GUEST_PACKAGES: &[(&str, &str)] = &[
    ("qemu-system-x86", "/usr/bin/qemu-system-x86_64"),
    ("busybox-static", "/bin/busybox"),
];

/// Time a guest may take to boot and shut down, besides its demos (TCG on a two-core
/// machine under a load of 20-30: 6.1 reached its init in 133 s, 6.12 in 635 s).
const BOOT_ALLOWANCE: Duration = Duration::from_secs(900);

/// Each demo's own hard limit in an emulated guest (`DEMO_LIMIT_SECS`; 5 s on the
/// host): under TCG on a loaded machine, starting a binary over 9p took up to 20 s and
/// building a network namespace seconds, so the host's limit would stop demos that are only slow. The
/// runner's limit per demo grows with it.
const EMULATED_DEMO_LIMIT: u64 = 60;

use deck::kernels::{MANIFEST, Manifest, last_line, series_of, version_key};

pub struct Options {
    pub names: Vec<String>,
    /// Only these entries of the list (`host`, `6.1`…).
    pub only: Vec<String>,
    /// Per demo, as `capture --timeout`.
    pub demo_timeout: Duration,
    /// Per guest; default: boot allowance plus each demo's limit.
    pub guest_timeout: Option<Duration>,
}

/// One entry of the list, resolved on this machine.
#[derive(Debug, Clone)]
enum Kernel {
    Host { release: String },
    Guest { release: String, vmlinuz: PathBuf },
}

impl Kernel {
    fn release(&self) -> &str {
        match self {
            Kernel::Host { release } | Kernel::Guest { release, .. } => release,
        }
    }
}

pub fn run(opts: &Options) -> Result<ExitCode> {
    runner::stop::on_stop(|| {})?;
    let t_all = Instant::now();
    let root = project_root();
    let config = BookConfig::load(&root)?;
    let mut list = config.deck.kernels.clone();
    if list.is_empty() {
        list.push(KernelEntry::host());
    }
    for o in &opts.only {
        anyhow::ensure!(
            list.iter().any(|k| k.as_str() == o),
            "--only {o}: not in the kernel list of book.toml ({})",
            list.iter()
                .map(KernelEntry::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    list.retain(|k| opts.only.is_empty() || opts.only.iter().any(|o| o == k.as_str()));
    let catalog = demos::catalog()?;
    let chosen: Vec<(String, String)> = if opts.names.is_empty() {
        catalog
            .iter()
            .map(|d| (d.name.clone(), d.claim.clone()))
            .collect()
    } else {
        opts.names
            .iter()
            .map(|n| demos::resolve(&catalog, n).map(|d| (d.name.clone(), d.claim.clone())))
            .collect::<Result<_>>()?
    };

    let sh = Shell::new()?;
    let target = wasm::target_dir(&sh)?;
    let work = target.join("kernels");
    let kernels: Vec<(String, Kernel)> = list
        .iter()
        .map(|entry| Ok((entry.to_string(), resolve_kernel(&sh, entry)?)))
        .collect::<Result<_>>()?;
    let vng = if kernels
        .iter()
        .any(|(_, k)| matches!(k, Kernel::Guest { .. }))
    {
        Some(ensure_guest_tools(&sh, &work)?)
    } else {
        None
    };
    eprintln!("building {} demo(s)…", chosen.len());
    let bin_dir = demos::build_all()?;
    let accel = Accel::detect();

    let mut table: BTreeMap<String, BTreeMap<String, Status>> = BTreeMap::new();
    let mut problems = Vec::new();
    for (entry, kernel) in &kernels {
        if runner::jail::stopping() {
            break;
        }
        let series = series_of(kernel.release());
        let run_dir = tempfile::Builder::new()
            .prefix(&format!("run-{series}-"))
            .tempdir_in({
                std::fs::create_dir_all(&work)
                    .with_context(|| format!("creating {}", work.display()))?;
                &work
            })
            .context("a run directory for the guest")?;
        let xtask = copy_of_this_xtask(run_dir.path())?;
        let t0 = Instant::now();
        eprintln!(
            "\n=== {entry}: Linux {} ({})",
            kernel.release(),
            match kernel {
                Kernel::Host { .. } => "this machine".to_string(),
                Kernel::Guest { .. } => format!("QEMU, {}", accel.describe()),
            }
        );
        let outcome = match kernel {
            Kernel::Host { release } => guest_run(
                run_dir.path(),
                &bin_dir,
                release,
                &chosen,
                opts.demo_timeout,
                None,
            )
            .map(|_| true),
            Kernel::Guest { release, vmlinuz } => boot(
                vng.as_deref()
                    .context("virtme-ng is installed for guests")?,
                &accel,
                &bin_dir,
                vmlinuz,
                release,
                run_dir.path(),
                &xtask,
                &chosen,
                opts,
            ),
        };
        let seconds = t0.elapsed().as_secs_f64();
        match outcome {
            Ok(true) => {}
            Ok(false) => problems.push(format!(
                "{entry}: the guest was stopped after {seconds:.0} s (its time limit); the demos it finished are stored"
            )),
            Err(e) => problems.push(format!("{entry}: {e:#}")),
        }
        let manifest = Manifest {
            series: series.clone(),
            kernel: kernel.release().to_string(),
            machine: match kernel {
                Kernel::Host { .. } => "host".into(),
                Kernel::Guest { .. } => accel.name().into(),
            },
            emulated: matches!(kernel, Kernel::Guest { .. }) && accel == Accel::Tcg,
            captured_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now())
                .to_string(),
            seconds: (seconds * 10.0).round() / 10.0,
        };
        let statuses = store_run(run_dir.path(), &manifest, &chosen, &mut problems)?;
        table.insert(series.clone(), statuses);
        eprintln!("=== {entry}: {seconds:.0} s");
        run_dir
            .close()
            .context("removing the guest's run directory")?;
    }
    if runner::jail::stopping() {
        eprintln!("stopped: the guest is killed, its unfinished run not stored");
        return Ok(ExitCode::from(130));
    }
    print_table(&chosen, &table);
    eprintln!(
        "whole run: {:.0} s for {} kernel(s)",
        t_all.elapsed().as_secs_f64(),
        kernels.len()
    );
    for p in &problems {
        eprintln!("problem: {p}");
    }
    let failed = table
        .values()
        .flat_map(|m| m.values())
        .any(|s| !matches!(s, Status::Passed | Status::Skipped));
    Ok(if problems.is_empty() && !failed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The demo `cargo xtask test` runs on one other kernel.
const SMOKE_DEMO: &str = "close-sends-rst";

/// For `cargo xtask test`: why one guest cannot be booted here (not root, QEMU or busybox
/// missing, no kernel of the list installed), or `None` when it can.
pub fn smoke_missing() -> Option<String> {
    if !nix::unistd::geteuid().is_root() {
        return Some("not root (virtme-ng shares the root filesystem as root)".into());
    }
    let missing: Vec<&str> = GUEST_PACKAGES
        .iter()
        .filter(|(_, bin)| !Path::new(bin).is_file())
        .map(|(p, _)| *p)
        .collect();
    if !missing.is_empty() {
        return Some(format!("{} not installed", missing.join(", ")));
    }
    // virtme-ng is not a reason to skip: the smoke installs it from PyPI into the target
    // dir, as `cargo xtask kernels` does.
    if smoke_kernel().is_none() {
        return Some("no kernel of book.toml's list installed".into());
    }
    None
}

/// The first kernel of the list that is installed, as `(series, kernel)`.
fn smoke_kernel() -> Option<Kernel> {
    let config = BookConfig::load(&project_root()).ok()?;
    config
        .deck
        .kernels
        .iter()
        .filter(|k| !k.is_host())
        .find_map(|k| installed(k.as_str()))
}

/// Boots the first installed kernel of the list and runs one demo there (stored in a
/// temporary directory, not in the checkout); it must pass, and no process of the
/// guest may be left.
pub fn smoke() -> Result<()> {
    runner::stop::on_stop(|| {})?;
    let Some(Kernel::Guest { release, vmlinuz }) = smoke_kernel() else {
        bail!("no kernel of book.toml's list is installed");
    };
    let sh = Shell::new()?;
    let work = wasm::target_dir(&sh)?.join("kernels");
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    let venv_bin = ensure_guest_tools(&sh, &work)?;
    let bin = demos::build_one(SMOKE_DEMO)?;
    let bin_dir = bin.parent().context("a demo binary has a directory")?;
    let catalog = demos::catalog()?;
    let demo = demos::resolve(&catalog, SMOKE_DEMO)?;
    let chosen = [(demo.name.clone(), demo.claim.clone())];
    let run_dir = tempfile::Builder::new()
        .prefix("smoke-")
        .tempdir_in(&work)
        .context("a run directory for the guest")?;
    let xtask = copy_of_this_xtask(run_dir.path())?;
    let opts = Options {
        names: Vec::new(),
        only: Vec::new(),
        demo_timeout: Duration::from_secs(20),
        guest_timeout: None,
    };
    let accel = Accel::detect();
    let t0 = Instant::now();
    let finished = boot(
        &venv_bin,
        &accel,
        bin_dir,
        &vmlinuz,
        &release,
        run_dir.path(),
        &xtask,
        &chosen,
        &opts,
    )?;
    anyhow::ensure!(
        finished,
        "the guest (Linux {release}) did not finish in time"
    );
    let path = run_dir.path().join(format!("{SMOKE_DEMO}.json"));
    let t = read_guest_transcript(&path, SMOKE_DEMO, &release)?
        .with_context(|| format!("the guest wrote no transcript of {SMOKE_DEMO}"))?;
    anyhow::ensure!(
        t.outcome.status == Status::Passed,
        "{SMOKE_DEMO} {} on Linux {release}",
        t.outcome.status
    );
    eprintln!(
        "{SMOKE_DEMO} passed on Linux {release} ({}) in a guest that took {:.0} s",
        accel.name(),
        t0.elapsed().as_secs_f64()
    );
    run_dir
        .close()
        .context("removing the guest's run directory")?;
    Ok(())
}

/// This xtask, copied into the guest's run directory for the guest to run. Not the file
/// it was started from: a `cargo test` or `cargo build` meanwhile may replace that file
/// (cargo writes a new one, and the guest found `xtask (deleted)`); `/proc/self/exe`
/// still reads the running one.
fn copy_of_this_xtask(dir: &Path) -> Result<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let copy = dir.join("xtask");
    std::fs::copy("/proc/self/exe", &copy)
        .with_context(|| format!("copying this xtask to {}", copy.display()))?;
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755))
        .with_context(|| format!("making {} executable", copy.display()))?;
    Ok(copy)
}

/// How QEMU runs the guest's CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Accel {
    Kvm,
    Tcg,
}

impl Accel {
    /// KVM only when it can work: `/dev/kvm` and a CPU with vmx or svm. (On the
    /// project's machine `/dev/kvm` exists without either, and a guest hangs there.)
    fn detect() -> Accel {
        if std::env::var_os("KERNELS_TCG").is_some() {
            return Accel::Tcg;
        }
        let flags = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let virt = flags
            .lines()
            .filter(|l| l.starts_with("flags"))
            .any(|l| l.split_whitespace().any(|f| f == "vmx" || f == "svm"));
        let kvm = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/kvm")
            .is_ok();
        if virt && kvm { Accel::Kvm } else { Accel::Tcg }
    }

    fn name(self) -> &'static str {
        match self {
            Accel::Kvm => "kvm",
            Accel::Tcg => "tcg",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Accel::Kvm => "KVM",
            Accel::Tcg => "emulated CPU (TCG; timings are not the host's)",
        }
    }
}

/// An entry of the list as a kernel on this machine, installing its package if needed.
fn resolve_kernel(sh: &Shell, entry: &KernelEntry) -> Result<Kernel> {
    if entry.is_host() {
        return Ok(Kernel::Host {
            release: capture::kernel_release(),
        });
    }
    // A series, as the config's type checked when book.toml was read.
    let entry = entry.as_str();
    if let Some(k) = installed(entry) {
        return Ok(k);
    }
    let package = newest_package(sh, entry)?;
    apt_install(sh, &[package.as_str()])?;
    installed(entry).with_context(|| {
        format!("installed {package}, but /boot has no vmlinuz of Linux {entry} with its modules")
    })
}

/// The newest installed Debian kernel of a series (`/boot/vmlinuz-X.Y…-amd64` with
/// `/lib/modules/…`).
fn installed(series: &str) -> Option<Kernel> {
    let mut found: Vec<String> = std::fs::read_dir("/boot")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()?
                .strip_prefix("vmlinuz-")
                .map(str::to_string)
        })
        .filter(|r| series_of(r) == series && r.ends_with("-amd64"))
        .filter(|r| {
            Path::new("/lib/modules")
                .join(r)
                .join("modules.dep")
                .is_file()
        })
        .collect();
    found.sort_by_key(|r| version_key(r));
    let release = found.pop()?;
    Some(Kernel::Guest {
        vmlinuz: PathBuf::from(format!("/boot/vmlinuz-{release}")),
        release,
    })
}

/// `linux-image-6.1.0-57-amd64-unsigned` for `6.1`: the newest in apt's lists.
fn newest_package(sh: &Shell, series: &str) -> Result<String> {
    let pattern = format!(
        "^linux-image-{}[.-].*-amd64-unsigned$",
        series.replace('.', "\\.")
    );
    let out = cmd!(sh, "apt-cache search --names-only {pattern}")
        .quiet()
        .read()
        .context("apt-cache search (is this Debian?)")?;
    let mut names: Vec<&str> = out
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| {
            let release = n
                .trim_start_matches("linux-image-")
                .trim_end_matches("-unsigned");
            series_of(release) == series && !n.contains("-cloud-") && !n.contains("-rt-")
        })
        .collect();
    names.sort_by_key(|n| version_key(n));
    names.pop().map(str::to_string).with_context(|| {
        format!("apt has no package linux-image-{series}.*-amd64-unsigned (run apt-get update?)")
    })
}

fn apt_install(sh: &Shell, packages: &[&str]) -> Result<()> {
    anyhow::ensure!(
        nix::unistd::geteuid().is_root() && Path::new("/usr/bin/apt-get").is_file(),
        "{} missing; install as root: apt-get install {}",
        packages.join(", "),
        packages.join(" ")
    );
    eprintln!("installing {} with apt-get", packages.join(", "));
    let _frontend = sh.push_env("DEBIAN_FRONTEND", "noninteractive");
    let install = || {
        cmd!(
            sh,
            "apt-get install -y -qq --no-install-recommends {packages...}"
        )
        .quiet()
        .run()
    };
    if install().is_err() {
        cmd!(sh, "apt-get update -qq")
            .run()
            .context("apt-get update")?;
        install().with_context(|| format!("apt-get install {}", packages.join(" ")))?;
    }
    Ok(())
}

/// QEMU and busybox from apt, virtme-ng from PyPI in a virtual environment of our own
/// under the target dir; returns the venv's `bin` directory.
fn ensure_guest_tools(sh: &Shell, work: &Path) -> Result<PathBuf> {
    let missing: Vec<&str> = GUEST_PACKAGES
        .iter()
        .filter(|(_, bin)| !Path::new(bin).is_file())
        .map(|(p, _)| *p)
        .collect();
    if !missing.is_empty() {
        apt_install(sh, &missing)?;
    }
    let venv = work.join("venv");
    let bin = venv.join("bin");
    if !bin.join("vng").is_file() {
        eprintln!("installing {VIRTME_NG} into {}", venv.display());
        if !bin.join("pip").is_file() && cmd!(sh, "python3 -m venv {venv}").quiet().run().is_err() {
            apt_install(sh, &["python3-venv"])?;
            cmd!(sh, "python3 -m venv {venv}")
                .run()
                .context("python3 -m venv")?;
        }
        let pip = bin.join("pip");
        cmd!(sh, "{pip} install --quiet {VIRTME_NG}")
            .run()
            .context("pip install virtme-ng")?;
    }
    Ok(bin)
}

/// Boots one kernel and runs the demos in it; `Ok(false)` when it had to be killed.
#[allow(clippy::too_many_arguments)]
fn boot(
    venv_bin: &Path,
    accel: &Accel,
    bin_dir: &Path,
    vmlinuz: &Path,
    release: &str,
    run_dir: &Path,
    xtask: &Path,
    chosen: &[(String, String)],
    opts: &Options,
) -> Result<bool> {
    let root = project_root();
    let demo_timeout = match accel {
        Accel::Tcg => opts
            .demo_timeout
            .max(Duration::from_secs(EMULATED_DEMO_LIMIT + 10)),
        Accel::Kvm => opts.demo_timeout,
    };
    let limit = opts
        .guest_timeout
        .unwrap_or(BOOT_ALLOWANCE + (demo_timeout + Duration::from_secs(3)) * chosen.len() as u32);
    let mut inner = vec![
        "exec".to_string(),
        xtask.display().to_string(),
        "kernels-guest".into(),
        "--out".into(),
        run_dir.display().to_string(),
        "--bins".into(),
        bin_dir.display().to_string(),
        "--release".into(),
        release.into(),
        "--timeout".into(),
        demo_timeout.as_secs().to_string(),
    ];
    if *accel == Accel::Tcg {
        inner.extend(["--demo-limit".into(), EMULATED_DEMO_LIMIT.to_string()]);
    }
    inner.extend(chosen.iter().map(|(n, _)| n.clone()));
    let guest_cmd = inner
        .iter()
        .map(|a| shell_quote(a))
        .collect::<Vec<_>>()
        .join(" ");
    let vng = venv_bin.join("vng");
    let mut args: Vec<String> = vec![
        "-n".into(),
        "10".into(),
        vng.display().to_string(),
        "--run".into(),
        vmlinuz.display().to_string(),
        "--user".into(),
        "root".into(),
        "--cpus".into(),
        "2".into(),
        "--memory".into(),
        "1G".into(),
        "--cwd".into(),
        root.display().to_string(),
        format!("--rwdir={}", run_dir.display()),
    ];
    if *accel == Accel::Tcg {
        args.push("--disable-kvm".into());
    }
    args.push("--".into());
    args.push(guest_cmd);
    let path = format!(
        "{}:{}",
        venv_bin.display(),
        std::env::var("PATH").unwrap_or_else(|_| "/usr/sbin:/usr/bin:/sbin:/bin".into())
    );
    let (events, _cancel) = runner::start_capped(
        Path::new("/usr/bin/nice"),
        &args,
        &[("PATH", path.as_str())],
        limit,
        usize::MAX,
    )?;
    let started = std::time::SystemTime::now();
    let t0 = Instant::now();
    let mut pending = String::new();
    let mut outcome = None;
    for event in events {
        match event {
            Event::Output(chunk) => {
                pending.push_str(&chunk.text);
                while let Some(i) = pending.find('\n') {
                    let line: String = pending.drain(..=i).collect();
                    let line = line.trim_end_matches(['\r', '\n']);
                    // The guest's progress lines, and anything virtme-ng or QEMU says.
                    if !line.trim().is_empty() {
                        eprintln!("  [{:>4.0} s] {line}", t0.elapsed().as_secs_f64());
                    }
                }
            }
            Event::Exit { outcome: o, .. } => {
                outcome = Some(o);
                break;
            }
        }
    }
    let outcome = outcome.context("the guest's runner ended without an exit event")?;
    remove_virtme_files(started);
    // A killed QEMU may take a moment to go; then none may be left.
    let mut leftovers = processes_mentioning(run_dir);
    let wait = Instant::now();
    while !leftovers.is_empty() && wait.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(200));
        leftovers = processes_mentioning(run_dir);
    }
    anyhow::ensure!(
        leftovers.is_empty(),
        "processes of the guest are still running: {leftovers:?}"
    );
    match outcome.status {
        Status::TimedOut => {
            eprintln!(
                "  the guest did not finish within {} s: killed (QEMU and all it started)",
                limit.as_secs()
            );
            Ok(false)
        }
        Status::Passed => Ok(true),
        _ => bail!(
            "virtme-ng ended with {} (exit {:?}, signal {:?})",
            outcome.status,
            outcome.code,
            outcome.signal
        ),
    }
}

/// virtme-ng keeps the guest's exit status in `/tmp/virtme_ret*` and removes it when it
/// ends normally; after a killed guest, the files made since `since` that no process
/// holds open are removed here.
fn remove_virtme_files(since: std::time::SystemTime) {
    let Ok(entries) = std::fs::read_dir("/tmp") else {
        return;
    };
    let open = open_files();
    for e in entries.filter_map(|e| e.ok()) {
        let path = e.path();
        let ours = e.file_name().to_string_lossy().starts_with("virtme_ret")
            && e.metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t >= since)
            && !open.contains(&path);
        if ours {
            let _ = std::fs::remove_file(&path);
        }
    }
}

/// Every file some process has open (as far as we may look).
fn open_files() -> Vec<PathBuf> {
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    procs
        .filter_map(|p| p.ok())
        .filter_map(|p| std::fs::read_dir(p.path().join("fd")).ok())
        .flat_map(|fds| fds.filter_map(|fd| std::fs::read_link(fd.ok()?.path()).ok()))
        .collect()
}

/// Processes whose command line names `path` (a QEMU left behind would).
fn processes_mentioning(path: &Path) -> Vec<String> {
    let needle = path.display().to_string();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.parse::<u32>().is_ok())
        })
        .filter_map(|e| {
            let cmdline = std::fs::read(e.path().join("cmdline")).ok()?;
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            cmdline
                .contains(&needle)
                .then(|| format!("{} {}", e.file_name().to_string_lossy(), cmdline))
        })
        .collect()
}

fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=+:,@".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// Checks each transcript the guest wrote and stores it under
/// `demos/transcripts/kernels/SERIES/`; returns each demo's status.
fn store_run(
    run_dir: &Path,
    manifest: &Manifest,
    chosen: &[(String, String)],
    problems: &mut Vec<String>,
) -> Result<BTreeMap<String, Status>> {
    let dest = demos_dir().join(deck::kernels::DIR).join(&manifest.series);
    std::fs::create_dir_all(&dest).with_context(|| format!("creating {}", dest.display()))?;
    let mut statuses = BTreeMap::new();
    let mut wrote = 0;
    for (name, _) in chosen {
        let path = run_dir.join(format!("{name}.json"));
        let t = match read_guest_transcript(&path, name, &manifest.kernel) {
            Ok(Some(t)) => t,
            Ok(None) => {
                problems.push(format!("{}: {name} did not run", manifest.series));
                continue;
            }
            Err(e) => {
                problems.push(format!("{}: {name}: {e:#}", manifest.series));
                continue;
            }
        };
        let stored = dest.join(format!("{name}.json"));
        // A run that could not finish is no verdict: it does not replace one.
        if matches!(t.outcome.status, Status::TimedOut | Status::Error)
            && let Ok(Some(previous)) = read_guest_transcript(&stored, name, &manifest.kernel)
            && !matches!(previous.outcome.status, Status::TimedOut | Status::Error)
        {
            problems.push(format!(
                "{}: {name} {} this time; kept the earlier run ({})",
                manifest.series, t.outcome.status, previous.outcome.status
            ));
            statuses.insert(name.clone(), previous.outcome.status);
            continue;
        }
        statuses.insert(name.clone(), t.outcome.status);
        capture::write_atomically(&stored, &t)?;
        wrote += 1;
    }
    if wrote == 0 {
        // A guest that ran nothing (killed while booting) leaves the last run's record.
        return Ok(statuses);
    }
    let mut json = serde_json::to_string_pretty(manifest)?;
    json.push('\n');
    std::fs::write(dest.join(MANIFEST), json)
        .with_context(|| format!("writing {}", dest.join(MANIFEST).display()))?;
    Ok(statuses)
}

/// A transcript the guest wrote, checked as the build checks one, from that kernel.
fn read_guest_transcript(path: &Path, name: &str, kernel: &str) -> Result<Option<Transcript>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let t: Transcript = serde_json::from_str(&text)
        .with_context(|| format!("{}: not a transcript", path.display()))?;
    t.validate()
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    anyhow::ensure!(
        t.demo == name,
        "{}: is the run of {}",
        path.display(),
        t.demo
    );
    anyhow::ensure!(
        t.kernel == kernel,
        "{}: ran on Linux {}, not {kernel}",
        path.display(),
        t.kernel
    );
    Ok(Some(t))
}

fn print_table(chosen: &[(String, String)], table: &BTreeMap<String, BTreeMap<String, Status>>) {
    let mut series: Vec<&String> = table.keys().collect();
    series.sort_by_key(|s| version_key(s));
    let width = chosen.iter().map(|(n, _)| n.len()).max().unwrap_or(4);
    let mut head = format!("\n{:<width$}", "demo");
    for s in &series {
        head.push_str(&format!("  {s:<9}"));
    }
    eprintln!("{head}");
    for (name, _) in chosen {
        let mut row = format!("{name:<width$}");
        for s in &series {
            let cell = table[*s].get(name).map_or("-", |st| match st {
                Status::Passed => "PASS",
                Status::Failed => "FAIL",
                Status::Skipped => "SKIP",
                Status::Error => "ERROR",
                Status::TimedOut => "TIMEOUT",
            });
            row.push_str(&format!("  {cell:<9}"));
        }
        eprintln!("{row}");
    }
}

/// `kernels-guest`: inside the guest (or on the host for `host`), run each demo as
/// `capture` does and write its transcript into `out`. Prints one line per demo.
pub fn guest_run(
    out: &Path,
    bin_dir: &Path,
    release: &str,
    chosen: &[(String, String)],
    limit: Duration,
    demo_limit: Option<u64>,
) -> Result<()> {
    let running = capture::kernel_release();
    anyhow::ensure!(
        running == release,
        "expected to run on Linux {release}, but this is {running}"
    );
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "guest: {}", facts());
    let total = chosen.len();
    for (k, (name, claim)) in chosen.iter().enumerate() {
        if runner::jail::stopping() {
            break;
        }
        let t = run_demo(&bin_dir.join(name), name, claim, limit, demo_limit)
            .with_context(|| format!("running {name}"))?;
        capture::write_atomically(&out.join(format!("{name}.json")), &t)?;
        let skip_reason = if t.outcome.status == Status::Skipped {
            last_line(&t)
        } else {
            String::new()
        };
        let _ = writeln!(
            stdout,
            "[{}/{total}] {name:<28} {:<9} {:>6.2} s {skip_reason}",
            k + 1,
            t.outcome.status.as_str(),
            t.duration_ms as f64 / 1000.0
        );
        let _ = stdout.flush();
    }
    Ok(())
}

/// What the guest has: loopback, other interfaces, `ip` and `tc`.
fn facts() -> String {
    let ifaces: Vec<String> = std::fs::read_dir("/sys/class/net")
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    let tool = |t: &str| {
        ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]
            .iter()
            .any(|d| Path::new(d).join(t).is_file())
    };
    format!(
        "Linux {}, {} CPU(s), interfaces: {}; ip: {}, tc: {}",
        capture::kernel_release(),
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        ifaces.join(" "),
        if tool("ip") { "yes" } else { "missing" },
        if tool("tc") { "yes" } else { "missing" },
    )
}

fn run_demo(
    bin: &Path,
    name: &str,
    claim: &str,
    limit: Duration,
    demo_limit: Option<u64>,
) -> Result<Transcript> {
    let metrics = MetricsFile::new()?;
    let metrics_path = metrics.path_str();
    let demo_limit = demo_limit.map(|s| s.to_string());
    let mut envs = vec![
        ("CLICOLOR_FORCE", "1"),
        (contract::METRICS_ENV, metrics_path.as_str()),
    ];
    if let Some(secs) = &demo_limit {
        envs.push(("DEMO_LIMIT_SECS", secs.as_str()));
    }
    let (chunks, outcome, duration_ms) = capture::run_to_exit(bin, &envs, limit)?;
    Ok(capture::transcript_of(
        name,
        claim,
        chunks,
        outcome,
        duration_ms,
        metrics.read()?,
    ))
}

/// `kernels-guest`'s entry: the checkout must be read-only here (the guest writes
/// nothing into it), and only `out` is written.
pub fn guest_cmd(
    out: &Path,
    bins: &Path,
    release: &str,
    names: &[String],
    limit: Duration,
    demo_limit: Option<u64>,
) -> Result<ExitCode> {
    let root = project_root();
    anyhow::ensure!(
        mount_is_read_only(&root),
        "{} is writable here: kernels-guest runs only in a guest that sees the checkout read-only",
        root.display()
    );
    let catalog = demos::catalog()?;
    let chosen: Vec<(String, String)> = names
        .iter()
        .map(|n| demos::resolve(&catalog, n).map(|d| (d.name.clone(), d.claim.clone())))
        .collect::<Result<_>>()?;
    guest_run(out, bins, release, &chosen, limit, demo_limit)?;
    Ok(ExitCode::SUCCESS)
}

/// Whether the filesystem holding `path` is mounted read-only (from /proc/self/mounts).
fn mount_is_read_only(path: &Path) -> bool {
    let Ok(mounts) = std::fs::read_to_string("/proc/self/mounts") else {
        return false;
    };
    mounts
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (_, point, _, options) = (f.next()?, f.next()?, f.next()?, f.next()?);
            Some((point.to_string(), options.split(',').any(|o| o == "ro")))
        })
        .filter(|(point, _)| path.starts_with(point))
        .max_by_key(|(point, _)| point.len())
        .is_some_and(|(_, ro)| ro)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guest_command_is_quoted_for_its_shell() {
        assert_eq!(
            shell_quote("/work/target/debug/xtask"),
            "/work/target/debug/xtask"
        );
        assert_eq!(shell_quote("a b'c"), "'a b'\\''c'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn a_read_write_mount_is_not_taken_for_read_only() {
        // /proc is where this test reads mounts from; it is never read-only here.
        assert!(!mount_is_read_only(Path::new("/proc/self")));
    }
}
