//! Cross-crate integration tests, one binary built of modules.

mod archive;
mod canon;
mod checkers;
mod diff;
mod fixtures;
mod gate;
mod html;
mod lifecycle;
mod nodes;
mod pii;
mod protect;
mod report;
mod runner;
mod scratch;
mod sim;
mod snapshot;
mod vectors;
mod verdict;
mod warroom;
