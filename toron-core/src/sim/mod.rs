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
mod trace;

pub use node::{Body, Ctx, Message, Node, NodeFactory, NodeId, Op, Reply, Time, TimerId};
pub use outcome::{LatencySummary, Outcome, Stats, Violation};

use crate::scenario::Scenario;
use crate::{Error, ErrorKind, Result};
use rayon::prelude::*;
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
    let factories = crate::models::factories(scenario);
    kernel::run(
        scenario,
        kernel::RunConfig {
            seed,
            trace,
            cancel: options.cancel,
            factories,
        },
    )
}

/// Simulate every seed on all cores (or `threads` threads); results come back in seed order and equal
/// what [`simulate`] gives for each seed alone.
pub fn sweep(scenario: &Scenario, seeds: &[u64], threads: Option<usize>) -> Result<Vec<Outcome>> {
    sweep_with(scenario, seeds, threads, None)
}

/// [`sweep`] with a cancel flag.
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
