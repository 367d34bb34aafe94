//! The C surface of `toron_core::pii` (being built).
