//! The simulation kernel: nodes, network, load and faults on virtual time, from a seed.
//!
//! Events are totally ordered by (virtual time in integer nanoseconds, scheduling sequence number); ties
//! never depend on memory addresses, hash order or threads. Every processed event feeds a streaming blake3
//! trace digest, so the same scenario and seed give the same [`Outcome::digest`] on every run, thread,
//! process and surface.
//!
//! ```
//! use toron_core::scenario::Scenario;
//! use toron_core::sim;
//! let s = Scenario::from_path(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/scenarios/echo.toml"))?;
//! let a = sim::simulate(&s, Some(1))?;
//! let b = sim::simulate(&s, Some(1))?;
//! assert_eq!(a.digest, b.digest);
//! let sweep = sim::sweep(&s, &[1, 2, 3], None)?;
//! assert_eq!(sweep[0].digest, a.digest);
//! assert_ne!(sweep[1].digest, a.digest);
//! # Ok::<(), toron_core::Error>(())
//! ```

mod faults;
mod kernel;
mod load;
mod node;
mod outcome;
pub mod registry;
mod trace;

pub use node::{Body, Ctx, Message, Node, NodeFactory, NodeId, Op, Reply, Time, TimerId};
pub use outcome::{LatencySummary, Outcome, Stats, Violation};

use crate::scenario::Scenario;
use crate::{Error, ErrorKind, Result};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

/// Options of [`simulate_with`].
#[derive(Debug, Default, Clone)]
pub struct SimOptions<'a> {
    /// The seed; `None` falls back to the scenario's, then `SIM_SEED`, then 0.
    pub seed: Option<u64>,
    /// Write the full trace as JSON Lines to this file.
    pub trace: Option<PathBuf>,
    /// Stop early with [`ErrorKind::Cancelled`] once this flag is set (checked every 65 536 events).
    pub cancel: Option<&'a AtomicBool>,
    /// Record the load's client operations in [`Outcome::history`] (always done when the scenario has
    /// `[invariants] linearizable`). Recording never changes the digest.
    pub history: bool,
}

/// The seed a run uses: the call's, else the scenario's, else `SIM_SEED`, else 0.
pub fn resolve_seed(scenario: &Scenario, seed: Option<u64>) -> Result<u64> {
    if let Some(s) = seed.or(scenario.spec().seed) {
        return Ok(s);
    }
    match std::env::var("SIM_SEED") {
        Ok(v) => v.trim().parse().map_err(|_| {
            Error::new(
                ErrorKind::InvalidArgument,
                format!("SIM_SEED={v:?} is not a seed (expected an integer from 0 to 2^64-1)"),
            )
        }),
        Err(_) => Ok(0),
    }
}

/// Simulate `scenario` with `seed` (see [`resolve_seed`] for `None`).
pub fn simulate(scenario: &Scenario, seed: Option<u64>) -> Result<Outcome> {
    simulate_with(
        scenario,
        &SimOptions {
            seed,
            ..Default::default()
        },
    )
}

/// Simulate with options (trace file, cancel flag).
pub fn simulate_with(scenario: &Scenario, options: &SimOptions<'_>) -> Result<Outcome> {
    let seed = resolve_seed(scenario, options.seed)?;
    let trace: Option<Box<dyn std::io::Write + Send>> = match &options.trace {
        Some(path) => {
            let f = std::fs::File::create(path).map_err(|e| Error::write(&e, path))?;
            Some(Box::new(f))
        }
        None => None,
    };
    let factories = registry::factories(scenario)?;
    kernel::run(
        scenario,
        kernel::RunConfig {
            seed,
            trace,
            cancel: options.cancel,
            factories,
            history: options.history,
        },
    )
}

/// Simulate every seed on all cores (or `threads` threads); results come back in seed order and equal
/// what [`simulate`] gives for each seed alone. Fails with [`ErrorKind::Expectation`] when a mark of the
/// scenario's `[expect] sometimes` was reached on no seed ([`expect_sometimes`]).
pub fn sweep(scenario: &Scenario, seeds: &[u64], threads: Option<usize>) -> Result<Vec<Outcome>> {
    let outcomes = sweep_with(scenario, seeds, threads, None)?;
    expect_sometimes(scenario, &outcomes)?;
    Ok(outcomes)
}

/// Per mark of the scenario's `[expect] sometimes`, in the order listed, the seeds whose outcome reached it
/// (in the outcomes' order; empty: no seed did).
pub fn sometimes(scenario: &Scenario, outcomes: &[Outcome]) -> Vec<(String, Vec<u64>)> {
    scenario
        .spec()
        .expect
        .sometimes
        .iter()
        .map(|mark| {
            let seeds = outcomes
                .iter()
                .filter(|o| o.coverage.get(mark).is_some_and(|n| *n > 0))
                .map(|o| o.seed)
                .collect();
            (mark.clone(), seeds)
        })
        .collect()
}

/// [`sometimes`], failing with [`ErrorKind::Expectation`] that names every mark no seed reached: such a sweep
/// never tested the situation the mark stands for, whatever else it found.
pub fn expect_sometimes(scenario: &Scenario, outcomes: &[Outcome]) -> Result<Vec<(String, Vec<u64>)>> {
    let marks = sometimes(scenario, outcomes);
    let missing: Vec<&str> = marks
        .iter()
        .filter(|(_, seeds)| seeds.is_empty())
        .map(|(m, _)| m.as_str())
        .collect();
    if missing.is_empty() {
        return Ok(marks);
    }
    Err(Error::new(
        ErrorKind::Expectation,
        unreached_message(scenario, outcomes, &missing),
    ))
}

/// "never reached the mark `x` on any of 3 seeds (1, 2, 3)", with the marks that were reached, for people.
pub(crate) fn unreached_message(scenario: &Scenario, outcomes: &[Outcome], missing: &[&str]) -> String {
    let seeds = outcomes.iter().map(|o| o.seed.to_string()).collect::<Vec<_>>();
    let shown = if seeds.len() > 10 {
        format!("{}, ...", seeds[..10].join(", "))
    } else {
        seeds.join(", ")
    };
    let names = missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", ");
    let mut reached: BTreeMap<&str, u64> = BTreeMap::new();
    for o in outcomes {
        for (m, n) in &o.coverage {
            if *n > 0 {
                *reached.entry(m).or_default() += 1;
            }
        }
    }
    let seen = if reached.is_empty() {
        "no mark at all was reached".to_string()
    } else {
        let list = reached
            .iter()
            .map(|(m, n)| format!("{m} ({n})"))
            .collect::<Vec<_>>()
            .join(", ");
        format!("marks reached, with their number of seeds: {list}")
    };
    format!(
        "{:?}: expect.sometimes: {} {names} never reached on any of {} seed{} ({shown}); {seen}",
        scenario.name(),
        if missing.len() == 1 { "the mark" } else { "the marks" },
        outcomes.len(),
        if outcomes.len() == 1 { "" } else { "s" },
    )
}

/// [`sweep`] with a cancel flag, and without the `[expect] sometimes` check (the caller makes it).
pub fn sweep_with(
    scenario: &Scenario,
    seeds: &[u64],
    threads: Option<usize>,
    cancel: Option<&AtomicBool>,
) -> Result<Vec<Outcome>> {
    let run = || -> Result<Vec<Outcome>> {
        seeds
            .par_iter()
            .map(|&seed| {
                simulate_with(
                    scenario,
                    &SimOptions {
                        seed: Some(seed),
                        trace: None,
                        cancel,
                        history: false,
                    },
                )
            })
            .collect()
    };
    match threads {
        None => run(),
        Some(0) => Err(Error::new(
            ErrorKind::InvalidArgument,
            "threads is 0 (expected a positive number, or none for all cores)",
        )),
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .map_err(|e| Error::new(ErrorKind::Sim, format!("cannot start {n} threads: {e}")))?
            .install(run),
    }
}
