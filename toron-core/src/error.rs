//! One error type for the whole core: a fieldless [`ErrorKind`] that bindings map exhaustively, plus the
//! context a person needs to fix the input (file, line, column, field, JSON path) and what was expected.

use std::fmt;
use std::path::PathBuf;

/// What went wrong, without the detail. Bindings match on this exhaustively, so adding a kind forces each
/// surface (Python exception class, C status code) to decide how to expose it.
///
/// Deliberately not `#[non_exhaustive]`: inside the workspace, adding a kind must break each binding's
/// exhaustive `match` until the binding decides how to expose it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorKind {
    /// A scenario file or structure is invalid (syntax, unknown field, wrong type, bad value, dangling id).
    Scenario,
    /// Reading or writing a file failed.
    Io,
    /// The simulation could not proceed (a model reported an unrecoverable state).
    Sim,
    /// The operation was cancelled (Ctrl-C, a cancel handle) before it finished.
    Cancelled,
    /// An argument given by the caller is invalid (not tied to a file).
    InvalidArgument,
    /// Text that should be JSON is not (with line and column).
    Json,
    /// A value cannot be canonically encoded (NaN, infinity, an integer beyond 2^53, a non-string key).
    Canonical,
    /// A JSON Patch cannot be applied (names the operation index and path).
    Patch,
    /// A golden file is missing, unreadable or was edited into something invalid.
    Snapshot,
    /// The run archive is corrupt or cannot be written (names the object id and path).
    Archive,
    /// A test-operations manifest (`testops.toml`) is invalid (names file, line, field and what was expected).
    Manifest,
    /// A run could not proceed (a harness failure: a case could not be started, the run was interrupted).
    Run,
    /// A PII scrubber policy is invalid, or strict mode refused an artifact that holds PII.
    Pii,
    /// A synthetic data set schema is invalid (names file, line and field), or generating it failed.
    Dataset,
    /// A warroom operation is invalid (unknown incident or run id, a status change not allowed) or its
    /// database cannot be used.
    Warroom,
    /// What a scenario expects of a sweep did not happen: a mark of `[expect] sometimes` that no seed reached.
    Expectation,
    /// A node written outside toron-core (Python, C) failed: its constructor or a callback raised or returned
    /// an error status, or its model (`python:...`, `c:...`) cannot be found or built.
    Node,
}

impl ErrorKind {
    /// A stable lower-case name, used in messages and by the bindings' tests.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Scenario => "scenario",
            ErrorKind::Io => "io",
            ErrorKind::Sim => "sim",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::InvalidArgument => "invalid_argument",
            ErrorKind::Json => "json",
            ErrorKind::Canonical => "canonical",
            ErrorKind::Patch => "patch",
            ErrorKind::Snapshot => "snapshot",
            ErrorKind::Archive => "archive",
            ErrorKind::Manifest => "manifest",
            ErrorKind::Run => "run",
            ErrorKind::Pii => "pii",
            ErrorKind::Dataset => "dataset",
            ErrorKind::Warroom => "warroom",
            ErrorKind::Expectation => "expectation",
            ErrorKind::Node => "node",
        }
    }

    /// Every kind, so a binding's test can walk them all.
    pub const ALL: &'static [ErrorKind] = &[
        ErrorKind::Scenario,
        ErrorKind::Io,
        ErrorKind::Sim,
        ErrorKind::Cancelled,
        ErrorKind::InvalidArgument,
        ErrorKind::Json,
        ErrorKind::Canonical,
        ErrorKind::Patch,
        ErrorKind::Snapshot,
        ErrorKind::Archive,
        ErrorKind::Manifest,
        ErrorKind::Run,
        ErrorKind::Pii,
        ErrorKind::Dataset,
        ErrorKind::Warroom,
        ErrorKind::Expectation,
        ErrorKind::Node,
    ];
}

/// An error with its kind and where it happened.
///
/// `Display` gives one line a person can act on, e.g.
/// `examples/scenarios/kv.toml:14:8: field fault[0].node: unknown node "primery" (expected one of: primary, backup)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Error(Box<Inner>);

/// Boxed so that `Result<T, Error>` stays one pointer wide on the happy path.
#[derive(Debug, Clone, PartialEq)]
struct Inner {
    kind: ErrorKind,
    message: String,
    file: Option<PathBuf>,
    line: Option<usize>,
    column: Option<usize>,
    field: Option<String>,
    path: Option<String>,
    op_index: Option<usize>,
    io_kind: Option<std::io::ErrorKind>,
}

/// The core's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A new error of `kind` with a message that says what was wrong and what was expected.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error(Box::new(Inner {
            kind,
            message: message.into(),
            file: None,
            line: None,
            column: None,
            field: None,
            path: None,
            op_index: None,
            io_kind: None,
        }))
    }

    /// Attach the file the error is about.
    pub fn with_file(mut self, file: impl Into<PathBuf>) -> Self {
        self.0.file = Some(file.into());
        self
    }

    /// Attach a 1-based line (and optionally column).
    pub fn with_line(mut self, line: usize, column: Option<usize>) -> Self {
        self.0.line = Some(line);
        self.0.column = column;
        self
    }

    /// Attach the dotted field name (`fault[0].node`).
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.0.field = Some(field.into());
        self
    }

    /// Attach an RFC 6901 JSON pointer (`/fault/0/node`).
    pub fn with_path(mut self, path: impl Into<String>) -> Self {
        self.0.path = Some(path.into());
        self
    }

    /// Attach the index of the operation (in a JSON Patch) that failed.
    pub fn with_op_index(mut self, index: usize) -> Self {
        self.0.op_index = Some(index);
        self
    }

    /// The kind.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }
    /// What was wrong and what was expected, without the location.
    pub fn message(&self) -> &str {
        &self.0.message
    }
    /// The file, if the error is about one.
    pub fn file(&self) -> Option<&std::path::Path> {
        self.0.file.as_deref()
    }
    /// The 1-based line in the file, if known.
    pub fn line(&self) -> Option<usize> {
        self.0.line
    }
    /// The 1-based column in the file, if known.
    pub fn column(&self) -> Option<usize> {
        self.0.column
    }
    /// The dotted field name, if the error is about one field.
    pub fn field(&self) -> Option<&str> {
        self.0.field.as_deref()
    }
    /// The RFC 6901 pointer of the value, if known.
    pub fn path(&self) -> Option<&str> {
        self.0.path.as_deref()
    }

    /// The index of the failing operation, for patch errors.
    pub fn op_index(&self) -> Option<usize> {
        self.0.op_index
    }

    /// The operating system's error kind, for I/O errors (bindings map `NotFound` to `FileNotFoundError`).
    pub fn io_kind(&self) -> Option<std::io::ErrorKind> {
        self.0.io_kind
    }

    /// An I/O error about `file`, keeping the OS error kind (prefer [`Error::read`] / [`Error::write`], which
    /// say which it was).
    pub fn io(err: &std::io::Error, file: &std::path::Path) -> Self {
        Self::io_doing("cannot access the file", err, file)
    }

    /// `file` could not be read (missing, a directory, no permission): says so in those words.
    pub fn read(err: &std::io::Error, file: &std::path::Path) -> Self {
        let what = if err.kind() == std::io::ErrorKind::NotFound {
            "cannot read the file: it does not exist"
        } else {
            "cannot read the file"
        };
        Self::io_doing(what, err, file)
    }

    /// `file` (or the directory it goes in) could not be written.
    pub fn write(err: &std::io::Error, file: &std::path::Path) -> Self {
        Self::io_doing("cannot write the file", err, file)
    }

    fn io_doing(what: &str, err: &std::io::Error, file: &std::path::Path) -> Self {
        let os = err.to_string();
        let text = if what.ends_with("does not exist") {
            what.to_string()
        } else {
            format!("{what}: {os}")
        };
        let mut e = Error::new(ErrorKind::Io, text).with_file(file);
        e.0.io_kind = Some(err.kind());
        e
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut located = false;
        if let Some(file) = &self.0.file {
            write!(f, "{}", file.display())?;
            located = true;
        }
        if let Some(line) = self.0.line {
            write!(f, "{}{line}", if located { ":" } else { "line " })?;
            if let Some(col) = self.0.column {
                write!(f, ":{col}")?;
            }
            located = true;
        }
        if located {
            write!(f, ": ")?;
        }
        if let Some(field) = &self.0.field {
            write!(f, "field {field}: ")?;
        }
        if let Some(index) = self.0.op_index {
            write!(f, "operation {index}: ")?;
        }
        if self.0.field.is_none() {
            if let Some(path) = &self.0.path {
                write!(f, "at {path}: ")?;
            }
        }
        write!(f, "{}", self.0.message)
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_file_line_field() {
        let e = Error::new(ErrorKind::Scenario, "unknown node \"x\" (expected one of: a, b)")
            .with_file("s.toml")
            .with_line(3, Some(8))
            .with_field("fault[0].node");
        assert_eq!(
            e.to_string(),
            "s.toml:3:8: field fault[0].node: unknown node \"x\" (expected one of: a, b)"
        );
    }

    #[test]
    fn every_kind_has_a_distinct_name() {
        let names: std::collections::BTreeSet<_> = ErrorKind::ALL.iter().map(|k| k.name()).collect();
        assert_eq!(names.len(), ErrorKind::ALL.len());
    }
}
