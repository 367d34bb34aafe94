//! Run a manifest's profile, printing each event as it arrives, then the verdict and the report.
//!
//! `cargo run --release --example run [MANIFEST] [PROFILE]` (default: `examples/testops/testops.toml`, `full`).
//! Exits 0 on GO, 1 on NO-GO, 3 when the run errored.

use toron_core::runner::{Manifest, Run, RunOptions, RunState};

fn main() -> Result<(), toron_core::Error> {
    let mut args = std::env::args().skip(1);
    let manifest = args
        .next()
        .map_or_else(|| toron_suite::repo_path("examples/testops/testops.toml"), Into::into);
    let profile = args.next().unwrap_or_else(|| "full".to_string());
    let m = Manifest::from_path(&manifest)?;
    let run = Run::start(
        &m,
        RunOptions {
            profile: Some(profile),
            ..Default::default()
        },
    )?;
    println!("run {}", run.id());
    for e in run.events(0) {
        match e.kind.as_str() {
            "case.finished" => println!(
                "  {:<10} {}",
                e.data["outcome"].as_str().unwrap_or("?"),
                e.data["case"].as_str().unwrap_or("?")
            ),
            "run.finished" => println!("finished: {}", e.data["state"].as_str().unwrap_or("?")),
            _ => {}
        }
    }
    let result = run.wait()?;
    println!("verdict {}", result.verdict.verdict);
    for r in result.verdict.blocking_failures() {
        println!("  {}: {}", r.rule, r.explanation);
    }
    if let Some(e) = &result.error {
        println!("error: {e}");
    }
    if let Some(d) = &result.report_dir {
        println!("report {}", d.join("index.html").display());
    }
    std::process::exit(match result.state {
        RunState::Passed => 0,
        RunState::Failed => 1,
        RunState::Cancelled => 130,
        _ => 3,
    })
}
