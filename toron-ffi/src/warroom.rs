//! The C surface of `toron_core::warroom` (being built).
