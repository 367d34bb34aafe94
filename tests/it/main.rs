//! Cross-crate integration tests, one binary built of modules.
mod canon;
mod diff;
