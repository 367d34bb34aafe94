//! Toron's core: a deterministic test-operations engine.
//!
//! Everything Toron does lives here; the Python module (`toron-py`) and the C ABI (`toron-ffi`) only convert
//! types, map errors and manage ownership, so the three surfaces give bit-for-bit the same results.
//!
//! - [`canon`]: RFC 8785 canonical JSON, strict parsing and value identity (blake3).
//! - [`diff`]: structural diff (RFC 6902 JSON Patch / RFC 6901 pointers), patch application and text diff.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod canon;
pub mod diff;
pub mod error;

pub use error::{Error, ErrorKind, Result};

/// The engine version (also the crate version). Digests are stable across patch releases of one minor.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
pub mod snapshot;
