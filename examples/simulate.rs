//! Simulate the shipped M/M/1 and buggy kv scenarios and print each digest and summary.
//!
//! `cargo run --release --example simulate [SCENARIO...]`

use toron_core::scenario::Scenario;
use toron_core::sim;

fn main() -> Result<(), toron_core::Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let paths = if args.is_empty() {
        vec![
            toron_suite::repo_path("examples/scenarios/mm1.toml"),
            toron_suite::repo_path("examples/scenarios/kv_buggy.toml"),
        ]
    } else {
        args.into_iter().map(Into::into).collect()
    };
    for path in paths {
        let scenario = Scenario::from_path(&path)?;
        let outcome = sim::simulate(&scenario, None)?;
        println!("{}", outcome.digest);
        println!("{}", outcome.summary());
        if let Some(v) = outcome.violations.first() {
            println!(
                "  violation at {:.3}s on {}: {}: {}",
                v.time, v.node, v.invariant, v.message
            );
        }
    }
    Ok(())
}
