//! Shared helpers for Toron's cross-crate tests, benchmarks and examples.
//!
//! This package is not published: it owns `tests/`, `benches/` and `examples/` at the repository root so
//! that fixtures (the shipped scenarios, the language-neutral vectors) live in one place.

use std::path::PathBuf;

/// The repository root (where the workspace `Cargo.toml` is).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A path relative to the repository root, e.g. `repo_path("examples/scenarios/mm1.toml")`.
pub fn repo_path(relative: &str) -> PathBuf {
    repo_root().join(relative)
}
