//! Cross-crate integration tests, one binary built of modules.
mod archive;
mod canon;
mod diff;
mod snapshot;
