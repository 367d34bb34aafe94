//! Toron's core: a deterministic test-operations engine.
//!
//! Everything Toron does lives here; the Python module (`toron-py`) and the C ABI (`toron-ffi`) only convert
//! types, map errors and manage ownership, so the three surfaces give bit-for-bit the same results.
//!
//! ```
//! use toron_core::scenario::Scenario;
//!
//! let scenario = Scenario::from_str(r#"
//!     name = "echo"
//!     stop = { requests = 100 }
//!     [[node]]
//!     id = "server"
//!     model = "echo"
//!     [network]
//!     latency = { dist = "constant", value = "5ms" }
//!     [load]
//!     mode = "closed"
//!     clients = 1
//!     target = "server"
//! "#, toron_core::scenario::Format::Toml)?;
//! let outcome = toron_core::sim::simulate(&scenario, Some(7))?;
//! assert_eq!(outcome.digest.len(), 64);
//! assert_eq!(outcome.latency.count, 100);
//! // Every round trip is exactly two constant 5 ms hops.
//! assert_eq!(outcome.latency.max, 0.010);
//! # Ok::<(), toron_core::Error>(())
//! ```
//!
//! Modules, one concept each:
//!
//! - [`rng`]: seed derivation and independent named random streams;
//! - [`scenario`]: the scenario file (TOML or JSON) and its validation, with precise errors;
//! - [`sim`]: the kernel (virtual time, event queue, node interface, network, faults, load, trace, outcome);
//! - [`models`]: the built-in node models (`echo`, `queue`, `kv`);
//! - [`check`]: histories (JSON, Jepsen EDN) and their linearizability against sequential models;
//! - [`shrink`]: the smallest scenario that, with the same seed, still breaks the same invariant;
//! - [`canon`]: RFC 8785 canonical JSON, strict parsing and value identity (blake3);
//! - [`diff`]: structural diff (RFC 6902 JSON Patch / RFC 6901 pointers), patch application and text diff;
//! - [`snapshot`]: golden files and the content-addressed run archive.
//! - [`runner`]: the test-operations manifest (`testops.toml`) and runs of its suites;
//! - [`gate`]: GO / NO-GO rules on a run's KPIs;
//! - [`report`]: KPIs, coverage ingestion (Cobertura, lcov) and report files;
//! - [`pii`]: PII and secret detectors, redaction with stable placeholders, strict mode and quarantine;
//! - [`fixtures`]: seeded synthetic data sets from a schema;
//! - [`warroom`]: incidents from failing gates, rollbacks of goldens, postmortems.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod canon;
pub mod check;
pub mod diff;
pub mod error;
pub mod fixtures;
pub mod gate;
pub mod models;
pub mod pii;
pub mod report;
pub mod rng;
pub mod runner;
pub mod scenario;
pub mod shrink;
pub mod sim;
pub mod snapshot;
pub mod warroom;

pub use error::{Error, ErrorKind, Result};

/// The engine version (also the crate version). Digests are stable across patch releases of one minor.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
