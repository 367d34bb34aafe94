//! Reports: a run's KPIs ([`Kpis`]) and the coverage files it ingests ([`coverage`]).
//!
//! Coverage comes from Cobertura XML (as coverage.py and most tools write it) and lcov `.info` files; several
//! files merge into one [`coverage::Coverage`] where a line counts as covered when any file covers it, and the
//! line rate of a single coverage.py file equals coverage.py's own total.

#![allow(
    clippy::result_large_err,
    reason = "toron_core::Error's size is decided in error.rs, not here"
)]

pub mod coverage;
mod kpi;

pub use kpi::{Kpis, Values};
