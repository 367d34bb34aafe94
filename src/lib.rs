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

/// Read a child's stdout until a line equal to `marker` (libtest prints its own lines first); `false` if the
/// child ends or 20 lines pass without it. Returns the reader so the caller can keep the pipe open.
pub fn wait_for_line(
    stdout: std::process::ChildStdout,
    marker: &str,
) -> (bool, std::io::BufReader<std::process::ChildStdout>) {
    use std::io::BufRead;
    let mut out = std::io::BufReader::new(stdout);
    for _ in 0..20 {
        let mut line = String::new();
        match out.read_line(&mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) if line.trim() == marker => return (true, out),
            Ok(_) => {}
        }
    }
    (false, out)
}

/// One xorshift64 step: a tiny deterministic generator for test timing choices (not for simulations).
pub fn xorshift(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}
