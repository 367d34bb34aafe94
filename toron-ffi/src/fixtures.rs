//! The C surface of `toron_core::fixtures` (being built).
