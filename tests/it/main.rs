//! Cross-crate integration tests, one binary built of modules.

mod archive;
mod canon;
mod diff;
mod sim;
mod snapshot;
mod vectors;
