//! What every fuzz target checks of an error: a reader that rejects its input says what and where.

use std::path::Path;
use toron_core::{Error, ErrorKind};

/// `e` is one of `kinds`, has a message, and the line it names (if any) is a line of `text`, when it is about
/// `text` (the reader was given `file` for it, or no file at all, and the error names that file or none).
pub fn check_error(e: &Error, kinds: &[ErrorKind], text: &str, file: Option<&Path>) {
    assert!(kinds.contains(&e.kind()), "unexpected kind {:?}: {e}", e.kind());
    assert!(!e.message().trim().is_empty(), "an error without a message: {e:?}");
    assert!(
        !e.to_string().trim().is_empty(),
        "an error that displays as nothing: {e:?}"
    );
    if e.file() == file {
        if let Some(line) = e.line() {
            // `split` counts the line after a final newline, where an error at the end of the text is.
            let lines = text.split('\n').count();
            assert!(line >= 1 && line <= lines, "line {line} of a {lines}-line text: {e}");
        }
    }
}

/// Split `data` at its first NUL byte into the part before and the part after it (`None` without a NUL).
pub fn split_nul(data: &[u8]) -> (&[u8], Option<&[u8]>) {
    match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], Some(&data[i + 1..])),
        None => (data, None),
    }
}

/// The run tag of the archive seeds and of the manifests the `archive` target writes: a run of this engine
/// version at 2026-01-01T00:00:00Z.
pub fn archive_tag() -> String {
    format!("run-{}-20260101T000000Z", toron_core::VERSION)
}

/// [`archive_tag`]'s time, for `Archive::new_run_at`.
pub const ARCHIVE_TIME: i64 = 1_767_225_600;

/// How the first byte of an `archive` input says what the rest is (its value modulo [`ROLES`]).
pub mod role {
    /// A loose object, named by the blake3 of the bytes (so only compressed ones can fail their hash).
    pub const LOOSE: u8 = 0;
    /// A loose object: its raw id (32 bytes), then its stored bytes; a zstd frame gets a matching seal.
    pub const LOOSE_ID: u8 = 1;
    /// A pack file, as is.
    pub const PACK: u8 = 2;
    /// A pack file whose index checksum (when its trailer frames an index) is made to match.
    pub const PACK_SUMMED: u8 = 3;
    /// A run's `manifest.json`, then (after a NUL byte) its `head.json`.
    pub const MANIFEST: u8 = 4;
}

/// The number of roles.
pub const ROLES: u8 = 5;
