//! `cargo xtask test`: everything CI checks, in one command.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use xshell::{Shell, cmd};

use crate::book::{self, Player};
use crate::{kernels, mutants, project_root, setup, wasm};

pub fn run(no_browser: bool) -> Result<ExitCode> {
    let sh = Shell::new()?;
    let _dir = sh.push_dir(project_root());
    wasm::ensure_target(&sh)?;
    let mut steps: Vec<(&str, Result<()>)> = Vec::new();
    let mut step = |name: &'static str, f: &dyn Fn() -> Result<()>| {
        eprintln!("\n=== {name}");
        let t0 = Instant::now();
        let r = f();
        match &r {
            Ok(()) => eprintln!("=== {name}: ok ({:.1} s)", t0.elapsed().as_secs_f64()),
            Err(e) => eprintln!("=== {name}: FAILED: {e:#}"),
        }
        steps.push((name, r));
    };
    // Set-up first: the demos need iproute2 as root, the browser tests Chromium. A
    // failed install is a failed step, not the end of the run.
    if !setup::missing(&[setup::BROWSER, setup::DEMOS].concat()).is_empty() {
        step("set-up (system packages with apt-get)", &|| {
            setup::ensure(&sh).map(drop)
        });
    }
    step("formatting (cargo fmt --check)", &|| {
        cmd!(sh, "cargo fmt --all --check")
            .run()
            .context("run `cargo fmt --all` to fix")?;
        Ok(())
    });
    step("lints (cargo clippy)", &|| {
        cmd!(
            sh,
            "cargo clippy --quiet --workspace --all-targets -- -D warnings"
        )
        .run()?;
        Ok(())
    });
    step(
        "unit and integration tests, every demo as a test (cargo test)",
        &|| {
            cmd!(sh, "cargo test --workspace --exclude browser-tests").run()?;
            Ok(())
        },
    );
    // The workspace build unifies features, so svgbob is always in it; the engine as
    // xtask builds it (without svgbob, drawing through `deck-diagram`) is tested here.
    step(
        "the deck engine without svgbob (cargo test --no-default-features)",
        &|| {
            cmd!(sh, "cargo test -p deck --no-default-features --lib").run()?;
            Ok(())
        },
    );
    step(
        "the deck builds with every demo reference resolved",
        &|| {
            let out = book::build(&project_root(), false, Player::Rebuild)?;
            eprintln!(
                "site: {} ({} KiB)",
                out.display(),
                book::dir_size(&out) / 1024
            );
            Ok(())
        },
    );
    // One demo on one other kernel (`cargo xtask kernels` runs them all), where this
    // machine can boot one.
    match kernels::smoke_missing() {
        Some(why) => eprintln!(
            "\n=== one demo on another kernel: skipped ({why}; `cargo xtask kernels` as root installs what it needs)"
        ),
        None => step(
            "one demo on another kernel (QEMU, virtme-ng from PyPI)",
            &|| kernels::smoke(),
        ),
    }
    // The whole run is a command of its own (`cargo xtask mutants`, an hour or more):
    // here one small demo proves the machinery works end to end, from installing
    // cargo-mutants to the table and the equivalents list.
    step(
        "mutation testing, one demo (cargo xtask mutants SMOKE)",
        &|| {
            mutants::run(
                &[mutants::SMOKE.to_owned()],
                false,
                mutants::Gate::Machinery,
            )
            .map(drop)
        },
    );
    let missing = setup::missing(setup::BROWSER);
    if no_browser {
        eprintln!("\n=== browser tests: skipped (--no-browser)");
    } else if !missing.is_empty() {
        eprintln!(
            "\n=== browser tests skipped: {} missing; install with: apt-get install {} (as root, `cargo xtask test` does it itself)",
            missing.join(", "),
            missing.join(" ")
        );
    } else {
        step("browser tests (headless Chromium, tests/browser)", &|| {
            cmd!(sh, "cargo test -p browser-tests").run()?;
            Ok(())
        });
    }
    // Last: it rebuilds this workspace's crates from copies in the shared target dir.
    step(
        "two checkouts, one target dir (xtask acts on its own)",
        &|| {
            cmd!(sh, "cargo test -p xtask --test two_clones -- --ignored").run()?;
            Ok(())
        },
    );
    let failed = steps.iter().filter(|(_, r)| r.is_err()).count();
    let passed = steps.len() - failed;
    for (name, r) in &steps {
        eprintln!("{} {name}", if r.is_ok() { "ok    " } else { "FAILED" });
    }
    println!("xtask: {passed} passed, {failed} failed");
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
