//! The run archive: every run's outputs stored content-addressed, and one manifest per run.
//!
//! # Layout
//!
//! ```text
//! .toron/                                   the archive root (default; created on first write)
//!   objects/<2 hex>/<62 hex>                one value (a loose object, written by Archive::put): its
//!                                           RFC 8785 canonical bytes, named by the blake3 hex of those bytes
//!                                           (first 2 digits / last 62 digits), stored either as is or as one
//!                                           zstd frame of them (see below)
//!   objects/pack/<tag>.pack                 the values a run stored (written by its RunWriter), each stored
//!                                           exactly as a loose object, with an index (see Packs);
//!                                           <tag>.1.pack, <tag>.2.pack, ... for the run's later flushes
//!   runs/<tag>/manifest.json                one run: tag, engine, created, scenarios, cases → object ids
//!   runs/<tag>/head.json                    the manifest but its cases, with the manifest's length: listing
//!                                           runs reads these (a head that does not match is ignored)
//! ```
//!
//! Tags are `run-<semver>-<UTC timestamp>` (`run-2.5.0-20261124T101530Z`), made unique by creating the run
//! directory exclusively and appending `-1`, `-2`, ... on collision (see [`Archive::new_run_at`]).
//!
//! Reads ([`Archive::get`], [`Archive::contains`], [`Archive::output`], ...) look for the loose file first,
//! then in the packs, and return the first copy that verifies: a damaged copy is skipped when another one is
//! intact, and [`Archive::put`] writes a fresh loose copy of a damaged object.
//!
//! # Packs
//!
//! A run has many small outputs, and a file written atomically costs an fsync. So a [`RunWriter`] appends
//! each object that the archive does not hold yet (loose or packed: the indexes say, no object is read) to one
//! temporary file, unsynced, and [`RunWriter::flush`] (or [`RunWriter::finish`]) turns it into a pack with one
//! fsync. Only the index stays in memory. A pack is read from its end, so that opening one reads its trailer
//! and index only:
//!
//! ```text
//! header   "TORNPACK", format version (u32 LE, 1), 4 reserved zero bytes                       16 bytes
//! entries  each object's stored bytes, exactly as a loose file holds them (same seal and checks)
//! index    one line per object, sorted by id: raw blake3 id (32 bytes), offset, length (u64 LE)  48 bytes each
//! trailer  index offset, entry count (u64 LE), blake3 of the index (32 bytes), "TORNPIDX"          56 bytes
//! ```
//!
//! Every offset and length read from a pack is checked against the file's size: a truncated or damaged pack
//! is an `Archive` error naming it (and the object, when one entry is at fault), never a panic.
//! An [`Archive`] reads the indexes on its first lookup, keeps them (its clones share them), and lists the
//! pack directory again when an id is not found, since another process may have written a pack since.
//!
//! Measured on ext4, release build, 1 000 distinct objects of 1 577 canonical bytes, three runs on a disk and
//! 2 cores shared with other builds (so the fsync times varied widely):
//! `cargo test --release -p toron-core --lib measure_put -- --ignored --nocapture`.
//!
//! | 1 000 objects                     | loose: [`Archive::put`] each | packed: [`RunWriter::put`] each, one flush   |
//! |-----------------------------------|------------------------------|----------------------------------------------|
//! | store, compressed (default)       | 0.66 – 1.31 s                | 24.2 – 25.5 ms (of which flush 1.4 – 1.5 ms) |
//! | store, uncompressed               | 0.64 – 3.32 s                | 17.3 – 20.8 ms (of which flush 2.0 – 2.1 ms) |
//! | [`Archive::get`] each, compressed | 37 – 47 µs                   | 36 – 46 µs                                   |
//!
//! Of a packed put (23 – 24 µs compressed, 15 – 19 µs not), 12 µs is the canonical encoding and hashing that
//! every put does, and 6 – 11 µs the compression: a writer keeps its zstd context (making one per object
//! costs 17 – 21 µs).
//!
//! # Compression
//!
//! An object of at least 512 canonical bytes is stored as a zstd frame (level 1) when that saves at least
//! 10 %; smaller or incompressible objects are stored as plain canonical JSON. A compressed object ends with a
//! zstd *skippable frame* holding the blake3 of the compressed frame (its seal), so that any changed byte is
//! detected, even one that would decompress to the same content (about 0.3 % of single-bit flips do), and the
//! file stays a valid zstd stream (`zstd -d` reads it). Readers tell the two apart by
//! the zstd magic number (`28 B5 2F FD`), which no JSON text starts with, so both kinds can live in one
//! archive and [`Archive::compress`] can be switched at will. The id is always the blake3 of the
//! *uncompressed* canonical bytes, and reads verify it after decompressing.
//!
//! Measured on a 1 MB simulation output (a history of client operations, release build, mean of 20): objects
//! are 5.8x smaller (1 069 649 → 185 821 bytes) for `put` 27.5 → 31.2 ms and `get` 11.2 → 15.0 ms (both
//! including canonical encoding, fsync and JSON parsing). Outputs are kept for every run, so the space adds up.
//!
//! # Crash and concurrency safety
//!
//! Every file is written atomically (temporary file in the same directory, fsync, rename, fsync of the
//! directory), so a reader sees either no file or a whole one: loose objects and manifests one by one, a pack
//! once per [`RunWriter::flush`] (its entries are streamed to the temporary file unsynced; the index, trailer,
//! fsync and rename come at the flush). Objects are immutable and named by their content, so two processes
//! writing the same loose object write the same bytes and either rename wins, and two runs that pack the same
//! object each hold a good copy; an existing loose object is never rewritten (unless it fails its hash, then it
//! is repaired), and a pack is never rewritten at all. Run directories are claimed with an exclusive
//! `create_dir`, so two runs never share a tag, nor a pack name (a flush that finds its name taken, by a pack
//! left by a removed run of the same tag, takes the next one).
//!
//! Objects are durable before any manifest names them: [`RunWriter::finish`] flushes before it writes the
//! manifest, and a caller writing the manifest itself ([`Archive::write_manifest`]) must call
//! [`RunWriter::flush`] first. A writer killed at any moment, or a [`RunWriter`] dropped without a flush, leaves
//! at most a temporary file (`.<name>.<pid>.<n>.tmp`: a loose object, a manifest, or the run's unflushed pack,
//! `objects/pack/.<tag>.pack.<pid>.<n>.tmp`) or a run directory without a manifest: [`Archive::verify`]
//! reports both as leftovers, not as corruption, and readers ignore them.
//!
//! ```
//! use serde_json::json;
//! use toron_core::snapshot::archive::{Archive, CaseRecord};
//!
//! let dir = tempfile::tempdir()?;
//! let archive = Archive::open(dir.path().join(".toron"));
//! let mut run = archive.new_run(toron_core::VERSION, json!({"profile": "offline"}))?;
//! run.add_case("kv/basic", &json!({"ok": true}), CaseRecord::new().scenario("kv").seed(42))?;
//! let manifest = run.finish()?;
//! let id = &manifest.cases["kv/basic"].object;
//! assert_eq!(archive.get(id)?, json!({"ok": true}));
//! assert_eq!(archive.runs()?[0].tag, manifest.tag);
//! assert!(archive.verify()?.is_ok());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::pack::{self, PackSet, PackWriter, RawId};
use super::tag::{self, UtcTime};
use super::{encode, fsutil};
use crate::{Error, ErrorKind, Result};

/// The archive root callers use when none is given.
pub const DEFAULT_ROOT: &str = ".toron";

/// Name of the manifest file in a run directory.
pub const MANIFEST_FILE: &str = "manifest.json";
/// The head of a run's manifest (everything but its cases) beside it, for listing runs without reading their
/// cases; ignored when it does not describe the manifest there (see [`Archive::manifest_head`]).
pub const HEAD_FILE: &str = "head.json";

/// The archive format version written in every manifest.
pub const ARCHIVE_FORMAT: u64 = 1;

/// The identity of a stored value: 64 lowercase hex digits, the blake3 of its canonical bytes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ObjectId(String);

impl ObjectId {
    /// Parse an id: exactly 64 lowercase hex digits, else an `InvalidArgument` error.
    ///
    /// ```
    /// use toron_core::snapshot::archive::ObjectId;
    /// assert!(ObjectId::parse(&"ab".repeat(32)).is_ok());
    /// assert!(ObjectId::parse("../../etc/passwd").is_err());
    /// ```
    pub fn parse(s: &str) -> Result<ObjectId> {
        if s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            Ok(ObjectId(s.to_string()))
        } else {
            Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("{s:?} is not an object id (expected 64 lowercase hex digits)"),
            ))
        }
    }

    /// The id of `value`: blake3 hex of its canonical bytes (no file is touched).
    pub fn of(value: &Value) -> Result<ObjectId> {
        Ok(ObjectId(encode::digest_bytes(&encode::canonical_bytes(value)?)))
    }

    /// The 64 hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for ObjectId {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        ObjectId::parse(&s)
    }
}

impl From<ObjectId> for String {
    fn from(id: ObjectId) -> String {
        id.0
    }
}

/// One case of a run, as recorded in its manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseEntry {
    /// The id of the case's output in `objects/`.
    pub object: ObjectId,
    /// The scenario id, if the case ran one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario: Option<String>,
    /// The seed used, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Free-form metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Value>,
}

/// What a caller records about a case besides its output (builder for [`RunWriter::add_case`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CaseRecord {
    scenario: Option<String>,
    seed: Option<u64>,
    meta: Option<Value>,
}

impl CaseRecord {
    /// Nothing recorded.
    pub fn new() -> Self {
        CaseRecord::default()
    }
    /// The scenario id.
    pub fn scenario(mut self, id: impl Into<String>) -> Self {
        self.scenario = Some(id.into());
        self
    }
    /// The seed used.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }
    /// Free-form metadata.
    pub fn meta(mut self, meta: Value) -> Self {
        self.meta = Some(meta);
        self
    }
}

/// A run's manifest, `runs/<tag>/manifest.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunManifest {
    /// The archive format version ([`ARCHIVE_FORMAT`]).
    pub toron_archive: u64,
    /// The run's tag (also its directory name).
    pub tag: String,
    /// The engine version that made the run.
    pub engine: String,
    /// When the run started, RFC 3339 UTC (`2026-11-24T10:15:30Z`). The only wall-clock field.
    pub created: String,
    /// The scenario ids of the run's cases, sorted, without repeats.
    pub scenarios: Vec<String>,
    /// Case name → what was recorded, sorted by case name.
    pub cases: BTreeMap<String, CaseEntry>,
    /// Run-level metadata given to [`Archive::new_run`].
    #[serde(default)]
    pub meta: Value,
}

impl RunManifest {
    /// An empty manifest for `tag`.
    pub fn new(tag: impl Into<String>, engine: impl Into<String>, created: impl Into<String>, meta: Value) -> Self {
        RunManifest {
            toron_archive: ARCHIVE_FORMAT,
            tag: tag.into(),
            engine: engine.into(),
            created: created.into(),
            scenarios: Vec::new(),
            cases: BTreeMap::new(),
            meta,
        }
    }

    fn to_bytes(&self) -> Result<Vec<u8>> {
        // Compact: a run of a thousand cases has a manifest of a few hundred kB, read whole by replay and verify.
        let mut bytes = serde_json::to_vec(self)
            .map_err(|e| Error::new(ErrorKind::Archive, format!("cannot encode manifest: {e}")))?;
        bytes.push(b'\n');
        Ok(bytes)
    }
}

/// A run's manifest without its cases and scenarios ([`Archive::manifest_head`]): listing many large runs
/// reads their headers only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestHead {
    /// The archive format version ([`ARCHIVE_FORMAT`]).
    pub toron_archive: u64,
    /// The run's tag.
    pub tag: String,
    /// The engine version that made the run.
    pub engine: String,
    /// When the run started, RFC 3339 UTC.
    pub created: String,
    /// Run-level metadata.
    #[serde(default)]
    pub meta: Value,
    /// The byte length of the manifest this head was written with (in `head.json`; 0 when read from the
    /// manifest itself): a head whose manifest has another length is stale and not used.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub manifest_len: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// What every manifest read is checked for.
trait ManifestCheck {
    fn tag_and_format(&self) -> (&str, u64);
}

impl ManifestCheck for RunManifest {
    fn tag_and_format(&self) -> (&str, u64) {
        (&self.tag, self.toron_archive)
    }
}

impl ManifestCheck for ManifestHead {
    fn tag_and_format(&self) -> (&str, u64) {
        (&self.tag, self.toron_archive)
    }
}

/// A line of [`Archive::runs`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSummary {
    /// The run's tag.
    pub tag: String,
    /// The engine version.
    pub engine: String,
    /// When it started (RFC 3339 UTC).
    pub created: String,
    /// How many cases it recorded.
    pub cases: usize,
    /// Its scenario ids.
    pub scenarios: Vec<String>,
}

/// What [`Archive::verify`] found wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProblemKind {
    /// An object's bytes do not hash to its name (or it cannot be read), or a pack is damaged (its `id` is
    /// then the object at fault, or `None` when the pack's header, index or trailer is).
    CorruptObject,
    /// A manifest references an object that is not in the archive.
    MissingObject,
    /// A manifest does not parse, or its tag does not match its directory.
    BadManifest,
    /// A file or directory that the archive never writes.
    UnexpectedFile,
}

/// One problem found by [`Archive::verify`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Problem {
    /// What kind of problem.
    pub kind: ProblemKind,
    /// The object id concerned, if any.
    pub id: Option<String>,
    /// The run tag concerned, if any.
    pub tag: Option<String>,
    /// The file concerned.
    pub path: PathBuf,
    /// A sentence saying what is wrong.
    pub message: String,
}

/// The result of [`Archive::verify`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// Objects checked: the distinct ids stored, loose or packed (an object stored twice counts once).
    pub objects: usize,
    /// Manifests checked.
    pub runs: usize,
    /// Corruption and inconsistencies, in path order.
    pub problems: Vec<Problem>,
    /// Temporary files and manifest-less run directories left by interrupted writers (harmless), sorted.
    pub leftovers: Vec<PathBuf>,
}

impl VerifyReport {
    /// No problems (leftovers are not problems).
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// First bytes of a zstd frame.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xB5, 0x2F, 0xFD];
/// Header of the skippable zstd frame that seals a compressed object: magic `0x184D2A50` (little-endian) and
/// a 32-byte length; the 32 bytes are the blake3 of the zstd frame before it.
const SEAL_HEADER: [u8; 8] = [0x50, 0x2A, 0x4D, 0x18, 32, 0, 0, 0];
/// Length of the seal (header and digest).
const SEAL_LEN: usize = 40;
/// Objects smaller than this are never compressed.
const COMPRESS_MIN: usize = 512;
/// zstd level: 1 measured both fastest and smallest of levels 1-3 on JSON run outputs.
const ZSTD_LEVEL: i32 = 1;

/// A zstd compression context, made on first use and then reused: setting one up costs more than
/// compressing a small object.
#[derive(Default)]
struct Compressor(Option<zstd::bulk::Compressor<'static>>);

impl Compressor {
    fn compress(&mut self, data: &[u8]) -> io::Result<Vec<u8>> {
        let context = match &mut self.0 {
            Some(c) => c,
            None => self.0.insert(zstd::bulk::Compressor::new(ZSTD_LEVEL)?),
        };
        context.compress(data)
    }
}

impl fmt::Debug for Compressor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Compressor")
    }
}

/// A run archive rooted at a directory (default `.toron`).
///
/// Cheap to clone, and `Send + Sync`: clones share the pack indexes read so far.
#[derive(Clone)]
pub struct Archive {
    root: PathBuf,
    compress: bool,
    /// The indexes of the packs read so far (loaded on the first lookup, extended when an id is not found),
    /// shared by clones, so that a [`RunWriter`]'s flush makes its objects visible at once.
    packs: Arc<Mutex<PackSet>>,
}

impl fmt::Debug for Archive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Archive")
            .field("root", &self.root)
            .field("compress", &self.compress)
            .field("packs_loaded", &self.packs.try_lock().map(|p| p.len()).ok())
            .finish()
    }
}

/// How a lookup in the packs treats the packs it has not read yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lookup {
    /// The packs read so far (all of them on the first lookup).
    Cached,
    /// List the pack directory first and read the packs that appeared.
    Refresh,
    /// [`Lookup::Cached`], then [`Lookup::Refresh`] if the id is not found: another process may have written
    /// the pack since.
    RescanOnMiss,
}

impl Archive {
    /// The archive at `root` (callers default to [`DEFAULT_ROOT`], `.toron`). Nothing is created until the first
    /// write.
    pub fn open(root: impl Into<PathBuf>) -> Self {
        Archive {
            root: root.into(),
            compress: true,
            packs: Arc::default(),
        }
    }

    /// Whether new objects may be stored compressed (default: yes). Reading handles both forms either way.
    pub fn compress(mut self, on: bool) -> Self {
        self.compress = on;
        self
    }

    /// The bytes to store for an object with these canonical bytes.
    fn encode_object(&self, canonical: &[u8]) -> Vec<u8> {
        self.encode_object_with(canonical, &mut Compressor::default())
    }

    /// [`Archive::encode_object`] with a compression context kept by the caller.
    fn encode_object_with(&self, canonical: &[u8], compressor: &mut Compressor) -> Vec<u8> {
        if self.compress && canonical.len() >= COMPRESS_MIN {
            if let Ok(mut packed) = compressor.compress(canonical) {
                if packed.len() + SEAL_LEN <= canonical.len() / 10 * 9 {
                    let seal = blake3::hash(&packed);
                    packed.extend_from_slice(&SEAL_HEADER);
                    packed.extend_from_slice(seal.as_bytes());
                    return packed;
                }
            }
        }
        canonical.to_vec()
    }

    /// Read a loose object file and return its canonical bytes, checked against `id`. Errors are `Archive`
    /// errors naming the id and the file (or `Io` when the file exists but cannot be read).
    fn read_object(&self, id: &str, path: &Path) -> Result<Vec<u8>> {
        self.read_loose(id, path)?
            .ok_or_else(|| Error::new(ErrorKind::Archive, format!("object {id} is not in the archive")).with_file(path))
    }

    /// [`Archive::read_object`], with a missing file as `None`.
    fn read_loose(&self, id: &str, path: &Path) -> Result<Option<Vec<u8>>> {
        match fs::read(path) {
            Ok(stored) => decode_object(id, stored, path).map(Some),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(archive_io(&e, path)),
        }
    }

    /// The canonical bytes of object `id` from a pack, and the pack: the first copy that verifies, `None` if
    /// no pack holds `id`, else the error of the first copy.
    fn read_packed(&self, id: &ObjectId) -> Result<Option<(Vec<u8>, PathBuf)>> {
        let mut failure = None;
        for copy in self.packed_copies(&raw_id(id), Lookup::RescanOnMiss)? {
            let read = pack::open(&copy.path)
                .and_then(|mut file| pack::read_entry(&mut file, &copy.path, &copy.entry))
                .and_then(|stored| decode_object(id.as_str(), stored, &copy.path));
            match read {
                Ok(bytes) => return Ok(Some((bytes, copy.path.to_path_buf()))),
                Err(e) => {
                    failure.get_or_insert(e);
                }
            }
        }
        failure.map_or(Ok(None), Err)
    }

    /// The canonical bytes of object `id`, verified, and the file they came from: the loose file first, then
    /// the packs; the first intact copy wins. When none is intact, the error of the first copy tried.
    fn read_canonical(&self, id: &ObjectId) -> Result<(Vec<u8>, PathBuf)> {
        let loose = self.object_path(id);
        let mut failure = match self.read_loose(id.as_str(), &loose) {
            Ok(Some(bytes)) => return Ok((bytes, loose)),
            Ok(None) => None,
            Err(e) => Some(e),
        };
        match self.read_packed(id) {
            Ok(Some(found)) => return Ok(found),
            Ok(None) => {}
            Err(e) => {
                failure.get_or_insert(e);
            }
        }
        Err(failure.unwrap_or_else(|| self.not_found(id, &loose)))
    }

    /// The error for an object found nowhere: it names the loose path, or a pack that could not be read (the
    /// object may be in it).
    fn not_found(&self, id: &ObjectId, loose: &Path) -> Error {
        match self.packs().first_bad() {
            Some(bad) => Error::new(
                ErrorKind::Archive,
                format!(
                    "object {id} is not in the archive, or is in a pack that cannot be read ({})",
                    bad.message()
                ),
            )
            .with_file(bad.file().unwrap_or(loose)),
            None => Error::new(ErrorKind::Archive, format!("object {id} is not in the archive")).with_file(loose),
        }
    }

    fn packs(&self) -> MutexGuard<'_, PackSet> {
        // The set is only ever extended, each pack whole: a panic while it was locked leaves it usable.
        self.packs.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Where the packs are: `objects/pack`.
    fn pack_dir(&self) -> PathBuf {
        self.objects_dir().join(pack::PACK_DIR)
    }

    /// Every copy of `id` in the packs (reading pack indexes as `lookup` says, never whole objects).
    fn packed_copies(&self, id: &RawId, lookup: Lookup) -> Result<Vec<pack::Copy>> {
        let mut packs = self.packs();
        let fresh = lookup == Lookup::Refresh || !packs.scanned();
        if fresh {
            packs.scan(&self.pack_dir())?;
        }
        let copies = packs.copies(id);
        if copies.is_empty() && lookup == Lookup::RescanOnMiss && !fresh {
            packs.scan(&self.pack_dir())?;
            return Ok(packs.copies(id));
        }
        Ok(copies)
    }

    /// Whether some pack holds `id` (see [`Archive::packed_copies`]); a pack directory that cannot be listed
    /// holds nothing.
    fn in_packs(&self, id: &RawId, lookup: Lookup) -> bool {
        let mut packs = self.packs();
        let fresh = lookup == Lookup::Refresh || !packs.scanned();
        if fresh && packs.scan(&self.pack_dir()).is_err() {
            return false;
        }
        if packs.contains(id) {
            return true;
        }
        lookup == Lookup::RescanOnMiss && !fresh && packs.scan(&self.pack_dir()).is_ok() && packs.contains(id)
    }

    /// The archive's root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn objects_dir(&self) -> PathBuf {
        self.root.join("objects")
    }

    fn runs_dir(&self) -> PathBuf {
        self.root.join("runs")
    }

    /// Where object `id` is stored as a loose file: `objects/<2 hex>/<62 hex>`. [`Archive::put`] writes
    /// objects there; a [`RunWriter`] writes its objects into a pack instead, so this file may not exist even
    /// when [`Archive::contains`] is true.
    pub fn object_path(&self, id: &ObjectId) -> PathBuf {
        let (a, b) = id.0.split_at(2);
        self.objects_dir().join(a).join(b)
    }

    /// The manifest file of run `tag`.
    pub fn manifest_path(&self, tag: &str) -> Result<PathBuf> {
        check_tag(tag)?;
        Ok(self.runs_dir().join(tag).join(MANIFEST_FILE))
    }

    /// Store `value` as a loose file and return its id: the single-object write, one fsync per object (a
    /// [`RunWriter`] stores many objects with one). Idempotent: an object already stored intact (loose or in a
    /// pack) is not written again; a corrupt loose file is replaced, and a corrupt packed copy is superseded by
    /// a fresh loose one. The write is atomic.
    pub fn put(&self, value: &Value) -> Result<ObjectId> {
        let bytes = encode::canonical_bytes(value)?;
        let id = ObjectId(encode::digest_bytes(&bytes));
        self.put_canonical(&id, &bytes)?;
        Ok(id)
    }

    /// Store canonical `bytes` whose identity is `id` as a loose file, unless an intact copy exists.
    fn put_canonical(&self, id: &ObjectId, bytes: &[u8]) -> Result<()> {
        let path = self.object_path(id);
        match self.read_loose(id.as_str(), &path) {
            Ok(Some(_)) => return Ok(()),
            // Not loose: an intact packed copy will do; a missing or corrupt one is written loose.
            Ok(None) => {
                if let Ok(Some(_)) = self.read_packed(id) {
                    return Ok(());
                }
            }
            Err(e) if e.kind() == ErrorKind::Archive => {} // corrupt: rewrite it
            Err(e) => return Err(e),
        }
        let dir = path.parent().unwrap_or(&self.root);
        fs::create_dir_all(dir).map_err(|e| archive_io(&e, dir))?;
        fsutil::atomic_write(&path, &self.encode_object(bytes)).map_err(|e| archive_io(&e, &path))
    }

    /// Whether object `id` is stored, loose or in a pack (its hash is not checked: see [`Archive::get`]). Only
    /// pack indexes are read, not the object.
    pub fn contains(&self, id: &ObjectId) -> bool {
        self.object_path(id).is_file() || self.in_packs(&raw_id(id), Lookup::RescanOnMiss)
    }

    /// Read object `id`, verifying that its bytes hash to `id`: the loose file first, then the packs (a
    /// damaged copy is skipped when another copy is intact). A missing or changed object is an `Archive` error
    /// naming the id and the file.
    pub fn get(&self, id: &ObjectId) -> Result<Value> {
        let (bytes, path) = self.read_canonical(id)?;
        serde_json::from_slice(&bytes).map_err(|e| {
            Error::new(
                ErrorKind::Archive,
                format!("object {id} hashes correctly but is not JSON: {e}"),
            )
            .with_file(path)
        })
    }

    /// Start a run now: claim a fresh tag `run-<engine_version>-<UTC now>` (see [`Archive::new_run_at`]).
    pub fn new_run(&self, engine_version: &str, meta: Value) -> Result<RunWriter> {
        self.new_run_at(engine_version, meta, UtcTime::now())
    }

    /// Start a run at a given time (tests pass a fixed one). The run directory is created exclusively; when
    /// `run-<v>-<time>` is taken (another run started in the same second, in this process or another) the
    /// next free of `-1`, `-2`, ... is used.
    pub fn new_run_at(&self, engine_version: &str, meta: Value, time: UtcTime) -> Result<RunWriter> {
        tag::check_version(engine_version)?;
        let runs = self.runs_dir();
        fs::create_dir_all(&runs).map_err(|e| archive_io(&e, &runs))?;
        let base = tag::base_tag(engine_version, time);
        for n in 0..100_000 {
            let tag = tag::candidate(&base, n);
            let dir = runs.join(&tag);
            match fs::create_dir(&dir) {
                Ok(()) => {
                    fsutil::sync_dir(&runs).map_err(|e| archive_io(&e, &runs))?;
                    let manifest = RunManifest::new(tag, engine_version, time.rfc3339(), meta);
                    return Ok(RunWriter {
                        archive: self.clone(),
                        manifest,
                        stored: HashSet::new(),
                        pending: None,
                        flushed: 0,
                        refreshed: false,
                        failed: None,
                        compressor: Compressor::default(),
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(archive_io(&e, &dir)),
            }
        }
        Err(Error::new(ErrorKind::Archive, format!("no free tag for {base} after 100000 tries")).with_file(runs))
    }

    /// Write `manifest` as the manifest of run `tag` (atomically, replacing any previous one). The run
    /// directory is created if needed; `manifest.tag` must equal `tag`.
    pub fn write_manifest(&self, tag: &str, manifest: &RunManifest) -> Result<()> {
        let path = self.manifest_path(tag)?;
        if manifest.tag != tag {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("manifest tag {:?} does not match run {tag:?}", manifest.tag),
            )
            .with_field("tag"));
        }
        let dir = path.parent().unwrap_or(&self.root);
        fs::create_dir_all(dir).map_err(|e| archive_io(&e, dir))?;
        let bytes = manifest.to_bytes()?;
        fsutil::atomic_write(&path, &bytes).map_err(|e| archive_io(&e, &path))?;
        let head = ManifestHead {
            toron_archive: manifest.toron_archive,
            tag: manifest.tag.clone(),
            engine: manifest.engine.clone(),
            created: manifest.created.clone(),
            meta: manifest.meta.clone(),
            manifest_len: bytes.len() as u64,
        };
        let head_path = dir.join(HEAD_FILE);
        let head_bytes = serde_json::to_vec(&head)
            .map_err(|e| Error::new(ErrorKind::Archive, format!("cannot encode the manifest's head: {e}")))?;
        fsutil::atomic_write(&head_path, &head_bytes).map_err(|e| archive_io(&e, &head_path))
    }

    /// Read the manifest of run `tag`. A missing or malformed manifest is an `Archive` error naming the file.
    pub fn manifest(&self, tag: &str) -> Result<RunManifest> {
        let m: RunManifest = self.read_manifest(tag)?;
        Ok(m)
    }

    /// A run's manifest without its cases: what listing runs needs. Read from `head.json` when it describes
    /// the manifest there (same length), else from the manifest itself (its cases skipped while parsing).
    pub fn manifest_head(&self, tag: &str) -> Result<ManifestHead> {
        let path = self.manifest_path(tag)?;
        if let (Ok(text), Ok(meta)) = (fs::read(path.with_file_name(HEAD_FILE)), fs::metadata(&path)) {
            if let Ok(head) = serde_json::from_slice::<ManifestHead>(&text) {
                if head.manifest_len == meta.len() && head.tag == tag && head.toron_archive == ARCHIVE_FORMAT {
                    return Ok(ManifestHead {
                        manifest_len: 0,
                        ..head
                    });
                }
            }
        }
        self.read_manifest(tag)
    }

    /// Read and check (tag, format) the manifest of run `tag` as `T`.
    fn read_manifest<T: serde::de::DeserializeOwned + ManifestCheck>(&self, tag: &str) -> Result<T> {
        let path = self.manifest_path(tag)?;
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(Error::new(ErrorKind::Archive, format!("run {tag} has no manifest")).with_file(path));
            }
            Err(e) => return Err(archive_io(&e, &path)),
        };
        let manifest: T = serde_json::from_slice(&bytes).map_err(|e| {
            Error::new(ErrorKind::Archive, format!("bad manifest: {e}"))
                .with_file(&path)
                .with_line(e.line(), Some(e.column()))
        })?;
        let (found, format) = manifest.tag_and_format();
        if found != tag {
            return Err(Error::new(
                ErrorKind::Archive,
                format!("bad manifest: its tag {found:?} is not its run's {tag:?}"),
            )
            .with_file(path)
            .with_field("tag"));
        }
        if format != ARCHIVE_FORMAT {
            return Err(Error::new(
                ErrorKind::Archive,
                format!("bad manifest: unsupported archive format {format} (expected {ARCHIVE_FORMAT})"),
            )
            .with_file(path)
            .with_field("toron_archive"));
        }
        Ok(manifest)
    }

    /// The output of `case` in run `tag`, read and verified. An unknown case is an `Archive` error naming the
    /// manifest.
    ///
    /// ```
    /// use serde_json::json;
    /// use toron_core::snapshot::archive::{Archive, CaseRecord};
    ///
    /// let dir = tempfile::tempdir()?;
    /// let archive = Archive::open(dir.path());
    /// let mut run = archive.new_run("2.5.0", json!(null))?;
    /// run.add_case("kv/a", &json!({"ok": true}), CaseRecord::new().seed(7))?;
    /// let tag = run.finish()?.tag;
    /// assert_eq!(archive.output(&tag, "kv/a")?, json!({"ok": true}));
    /// assert!(archive.output(&tag, "kv/zz").is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn output(&self, tag: &str, case: &str) -> Result<Value> {
        let manifest = self.manifest(tag)?;
        match manifest.cases.get(case) {
            Some(entry) => self.get(&entry.object),
            None => Err(
                Error::new(ErrorKind::Archive, format!("run {tag} has no case {case:?}"))
                    .with_file(self.manifest_path(tag)?),
            ),
        }
    }

    fn run_tags(&self) -> Result<Vec<(String, PathBuf)>> {
        Ok(fsutil::list_dir(&self.runs_dir())?
            .into_iter()
            .filter(|e| e.is_dir && tag::is_safe_tag(&e.name))
            .map(|e| (e.name, e.path))
            .collect())
    }

    /// Every run that has a manifest, newest first (by `created`, then by the tag's collision suffix, then by
    /// tag). Run directories without a manifest (a run still being written, or interrupted) are skipped; a
    /// malformed manifest is an `Archive` error naming it.
    pub fn runs(&self) -> Result<Vec<RunSummary>> {
        Ok(self
            .manifests()?
            .into_iter()
            .map(|m| RunSummary {
                cases: m.cases.len(),
                tag: m.tag,
                engine: m.engine,
                created: m.created,
                scenarios: m.scenarios,
            })
            .collect())
    }

    /// Every run's manifest, newest first (the order of [`Archive::runs`]), each read once.
    pub fn manifests(&self) -> Result<Vec<RunManifest>> {
        self.manifests_except("")
    }

    /// [`Archive::manifests`] without run `skip` (not even read).
    pub fn manifests_except(&self, skip: &str) -> Result<Vec<RunManifest>> {
        self.newest_first(skip, |tag| self.manifest(tag), |m| (&m.created, &m.tag))
    }

    /// [`Archive::manifests_except`] without the cases: every run's [`ManifestHead`], newest first.
    pub fn manifest_heads_except(&self, skip: &str) -> Result<Vec<ManifestHead>> {
        self.newest_first(skip, |tag| self.manifest_head(tag), |m| (&m.created, &m.tag))
    }

    /// Every run with a manifest but `skip`, read by `read`, newest first (by `created`, then by the tag's
    /// collision suffix, then by tag).
    fn newest_first<T>(
        &self,
        skip: &str,
        read: impl Fn(&str) -> Result<T>,
        key: impl Fn(&T) -> (&String, &String),
    ) -> Result<Vec<T>> {
        let mut out = Vec::new();
        for (tag, dir) in self.run_tags()? {
            if tag == skip || !dir.join(MANIFEST_FILE).is_file() {
                continue;
            }
            out.push(read(&tag)?);
        }
        out.sort_by(|a, b| {
            let ((ca, ta), (cb, tb)) = (key(a), key(b));
            (cb.as_str(), tag::sequence(tb), tb.as_str()).cmp(&(ca.as_str(), tag::sequence(ta), ta.as_str()))
        });
        Ok(out)
    }

    /// Check the whole archive: every loose object's hash; every pack's header, trailer and index, and every
    /// entry's hash; every manifest parses and references objects that exist (loose or packed). Temporary
    /// files (loose objects, packs and manifests being written) and manifest-less run directories are listed
    /// as leftovers, not problems. A damaged pack is a [`ProblemKind::CorruptObject`] naming the pack, and the
    /// object id when one entry is at fault.
    pub fn verify(&self) -> Result<VerifyReport> {
        let mut report = VerifyReport::default();
        // Every object stored somewhere, intact or not: a manifest referencing any other is missing one.
        let mut seen: HashSet<RawId> = HashSet::new();
        // The packs checked (a pack that appears later is looked at only for the ids it holds).
        let mut checked: HashSet<String> = HashSet::new();
        for shard in fsutil::list_dir(&self.objects_dir())? {
            if fsutil::is_temp_name(&shard.name) {
                report.leftovers.push(shard.path);
                continue;
            }
            if shard.is_dir && shard.name == pack::PACK_DIR {
                self.verify_packs(&shard.path, &mut report, &mut seen, &mut checked)?;
                continue;
            }
            let shard_ok = shard.is_dir && shard.name.len() == 2 && is_lower_hex(&shard.name);
            if !shard_ok {
                report.problems.push(unexpected(&shard.path));
                continue;
            }
            for obj in fsutil::list_dir(&shard.path)? {
                if fsutil::is_temp_name(&obj.name) {
                    report.leftovers.push(obj.path);
                    continue;
                }
                let id = format!("{}{}", shard.name, obj.name);
                let raw = match pack::raw(&id) {
                    Some(raw) if !obj.is_dir => raw,
                    _ => {
                        report.problems.push(unexpected(&obj.path));
                        continue;
                    }
                };
                seen.insert(raw);
                if let Err(e) = self.read_object(&id, &obj.path) {
                    report.problems.push(Problem {
                        kind: ProblemKind::CorruptObject,
                        id: Some(id),
                        tag: None,
                        path: obj.path,
                        message: e.message().to_string(),
                    });
                }
            }
        }
        report.objects = seen.len();
        for entry in fsutil::list_dir(&self.runs_dir())? {
            if fsutil::is_temp_name(&entry.name) {
                report.leftovers.push(entry.path);
                continue;
            }
            if !entry.is_dir || !tag::is_safe_tag(&entry.name) {
                report.problems.push(unexpected(&entry.path));
                continue;
            }
            let tag = entry.name;
            let mut has_manifest = false;
            for f in fsutil::list_dir(&entry.path)? {
                if f.name == MANIFEST_FILE {
                    has_manifest = true;
                } else if f.name == HEAD_FILE {
                    // Checked below, against the manifest.
                } else if fsutil::is_temp_name(&f.name) {
                    report.leftovers.push(f.path);
                } else {
                    report.problems.push(unexpected(&f.path));
                }
            }
            if !has_manifest {
                report.leftovers.push(entry.path);
                continue;
            }
            report.runs += 1;
            let path = entry.path.join(MANIFEST_FILE);
            match self.manifest(&tag) {
                Ok(m) => {
                    let head_path = entry.path.join(HEAD_FILE);
                    if let Ok(text) = fs::read(&head_path) {
                        let len = fs::metadata(&path).map(|x| x.len()).unwrap_or(0);
                        let matches = |h: &ManifestHead| {
                            (h.toron_archive, &h.tag, &h.engine, &h.created, &h.meta)
                                == (m.toron_archive, &m.tag, &m.engine, &m.created, &m.meta)
                        };
                        match serde_json::from_slice::<ManifestHead>(&text) {
                            // Stale (the manifest was rewritten after it): readers ignore it.
                            Ok(h) if h.manifest_len != len => {}
                            Ok(h) if matches(&h) => {}
                            _ => report.problems.push(Problem {
                                kind: ProblemKind::BadManifest,
                                id: None,
                                tag: Some(tag.clone()),
                                path: head_path,
                                message: format!("run {tag}: {HEAD_FILE} does not describe its {MANIFEST_FILE}"),
                            }),
                        }
                    }
                    for (case, c) in &m.cases {
                        let raw = raw_id(&c.object);
                        // Written since the objects were walked (by a concurrent writer)?
                        let found = seen.contains(&raw)
                            || self.object_path(&c.object).is_file()
                            || self.late_packs(&mut checked, &mut seen).is_ok() && seen.contains(&raw);
                        if !found {
                            report.problems.push(Problem {
                                kind: ProblemKind::MissingObject,
                                id: Some(c.object.to_string()),
                                tag: Some(tag.clone()),
                                path: self.object_path(&c.object),
                                message: format!(
                                    "run {tag} case {case:?} references object {} which is missing",
                                    c.object
                                ),
                            });
                        }
                    }
                }
                Err(e) => report.problems.push(Problem {
                    kind: ProblemKind::BadManifest,
                    id: None,
                    tag: Some(tag.clone()),
                    path,
                    message: e.to_string(),
                }),
            }
        }
        report.leftovers.sort();
        Ok(report)
    }

    /// [`Archive::verify`] of `objects/pack`: each pack's header, trailer and index, then each entry read in
    /// file order and checked against its id.
    fn verify_packs(
        &self,
        dir: &Path,
        report: &mut VerifyReport,
        seen: &mut HashSet<RawId>,
        checked: &mut HashSet<String>,
    ) -> Result<()> {
        let damaged = |path: &Path, id: Option<String>, e: Error| Problem {
            kind: ProblemKind::CorruptObject,
            id,
            tag: None,
            path: path.to_path_buf(),
            message: e.message().to_string(),
        };
        for f in fsutil::list_dir(dir)? {
            if fsutil::is_temp_name(&f.name) {
                report.leftovers.push(f.path);
                continue;
            }
            if f.is_dir || !pack::is_pack_name(&f.name) {
                report.problems.push(unexpected(&f.path));
                continue;
            }
            checked.insert(f.name);
            let (mut entries, mut file) = match pack::read_index(&f.path).and_then(|e| Ok((e, pack::open(&f.path)?))) {
                Ok(found) => found,
                Err(e) => {
                    report.problems.push(damaged(&f.path, None, e));
                    continue;
                }
            };
            entries.sort_unstable_by_key(|e| e.offset);
            for entry in &entries {
                seen.insert(entry.id);
                let id = pack::hex(&entry.id);
                let read =
                    pack::read_entry(&mut file, &f.path, entry).and_then(|stored| decode_object(&id, stored, &f.path));
                if let Err(e) = read {
                    report.problems.push(damaged(&f.path, Some(id), e));
                }
            }
        }
        Ok(())
    }

    /// Add to `seen` the ids of the packs that appeared since [`Archive::verify`] listed them.
    fn late_packs(&self, checked: &mut HashSet<String>, seen: &mut HashSet<RawId>) -> Result<()> {
        for f in fsutil::list_dir(&self.pack_dir())? {
            if f.is_dir || !pack::is_pack_name(&f.name) || checked.contains(&f.name) {
                continue;
            }
            if let Ok(entries) = pack::read_index(&f.path) {
                seen.extend(entries.iter().map(|e| e.id));
            }
            checked.insert(f.name);
        }
        Ok(())
    }
}

/// Writes one run: claims the tag, stores each case's output (in a pack of the run, see
/// [`RunWriter::flush`]), then writes the manifest.
///
/// Dropping a writer without [`RunWriter::flush`] or [`RunWriter::finish`] loses the objects put since the last
/// flush: they stay in a temporary file, which [`Archive::verify`] reports as a leftover.
#[derive(Debug)]
pub struct RunWriter {
    archive: Archive,
    manifest: RunManifest,
    /// Objects known to be stored durably: found in the archive, or in a pack this writer flushed.
    stored: HashSet<RawId>,
    /// The pack being written: the objects put since the last flush.
    pending: Option<PackWriter>,
    /// How many packs this writer has flushed (it names the next one).
    flushed: u64,
    /// Whether this writer has listed the packs on disk (it does once, at its first new object; after that a
    /// pack written by another process is not seen, which costs at most a duplicate copy).
    refreshed: bool,
    /// A write that failed. The pending objects are lost, so every later put of a new object and every flush
    /// fails with it: no manifest may name them.
    failed: Option<Error>,
    /// The compression context of this writer's objects.
    compressor: Compressor,
}

impl RunWriter {
    /// The run's tag.
    pub fn tag(&self) -> &str {
        &self.manifest.tag
    }

    /// The manifest so far.
    pub fn manifest(&self) -> &RunManifest {
        &self.manifest
    }

    /// Store `output` and record it as case `case`. Recording a case twice keeps the last.
    pub fn add_case(&mut self, case: &str, output: &Value, record: CaseRecord) -> Result<ObjectId> {
        super::case::check_case(case)?;
        let id = self.put(output)?;
        self.record_case(case, id, record)
    }

    /// [`RunWriter::add_case`] of an output whose id the caller already has (see [`RunWriter::put_with_id`]).
    pub fn add_case_with_id(
        &mut self,
        case: &str,
        id: ObjectId,
        output: &Value,
        record: CaseRecord,
    ) -> Result<ObjectId> {
        super::case::check_case(case)?;
        self.put_with_id(&id, output)?;
        self.record_case(case, id, record)
    }

    /// [`RunWriter::add_case_with_id`] of an output the caller has as canonical `bytes` (it hashed them for
    /// the id): a new output is stored as they are, not encoded again. Bytes whose digest is not `id` are an
    /// `InvalidArgument` error; that they are the canonical encoding is the caller's promise (crate-private).
    pub(crate) fn add_case_with_bytes(
        &mut self,
        case: &str,
        id: ObjectId,
        bytes: &[u8],
        record: CaseRecord,
    ) -> Result<ObjectId> {
        super::case::check_case(case)?;
        let raw = raw_id(&id);
        if !self.has(&id, &raw)? {
            let actual = encode::digest_bytes(bytes);
            if actual != id.as_str() {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    format!("object id {id} is not the bytes' ({actual})"),
                )
                .with_field("id"));
            }
            self.append(raw, bytes)?;
        }
        self.record_case(case, id, record)
    }

    fn record_case(&mut self, case: &str, id: ObjectId, record: CaseRecord) -> Result<ObjectId> {
        if let Some(s) = &record.scenario {
            if let Err(i) = self.manifest.scenarios.binary_search(s) {
                self.manifest.scenarios.insert(i, s.clone());
            }
        }
        let entry = CaseEntry {
            object: id.clone(),
            scenario: record.scenario,
            seed: record.seed,
            meta: record.meta,
        };
        self.manifest.cases.insert(case.to_string(), entry);
        Ok(id)
    }

    /// Store `value` in the run's pack and return its id. An object already in the archive (loose or in a
    /// pack: only the indexes are consulted) or already put by this writer is not stored again. Nothing is
    /// synced to disk: the object is durable, and readable by [`Archive::get`], after the next
    /// [`RunWriter::flush`].
    pub fn put(&mut self, value: &Value) -> Result<ObjectId> {
        let bytes = encode::canonical_bytes(value)?;
        let id = ObjectId(encode::digest_bytes(&bytes));
        let raw = raw_id(&id);
        if !self.has(&id, &raw)? {
            self.append(raw, &bytes)?;
        }
        Ok(id)
    }

    /// [`RunWriter::put`] of a value whose id the caller already has (a run computed its output's digest):
    /// an object already stored is not encoded again. An id that is not the value's is an `InvalidArgument`
    /// error (checked whenever the value is encoded).
    pub fn put_with_id(&mut self, id: &ObjectId, value: &Value) -> Result<()> {
        let raw = raw_id(id);
        if self.has(id, &raw)? {
            return Ok(());
        }
        let bytes = encode::canonical_bytes(value)?;
        let actual = encode::digest_bytes(&bytes);
        if actual != id.as_str() {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("object id {id} is not the value's ({actual})"),
            )
            .with_field("id"));
        }
        self.append(raw, &bytes)
    }

    /// Whether object `id` is stored already (by this writer, in a pack or as a loose file); the writer's
    /// first failure, if any, is returned instead.
    fn has(&mut self, id: &ObjectId, raw: &RawId) -> Result<bool> {
        if self.stored.contains(raw) || self.pending.as_ref().is_some_and(|p| p.contains(raw)) {
            return Ok(true);
        }
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let lookup = if self.refreshed {
            Lookup::Cached
        } else {
            Lookup::Refresh
        };
        self.refreshed = true;
        if self.archive.in_packs(raw, lookup) || self.archive.object_path(id).is_file() {
            self.stored.insert(*raw);
            return Ok(true);
        }
        Ok(false)
    }

    /// Append a new object (its canonical `bytes`) to the writer's pack.
    fn append(&mut self, raw: RawId, bytes: &[u8]) -> Result<()> {
        let stored = self.archive.encode_object_with(bytes, &mut self.compressor);
        let pending = match self.pending.take() {
            Some(p) => p,
            None => self.start_pack()?,
        };
        let pending = self.pending.insert(pending);
        if let Err(e) = pending.append(raw, &stored) {
            self.failed = Some(e.clone());
            return Err(e);
        }
        Ok(())
    }

    /// A new temporary pack in `objects/pack` (created, and its entry synced, if needed).
    fn start_pack(&self) -> Result<PackWriter> {
        let dir = self.archive.pack_dir();
        if !dir.is_dir() {
            fs::create_dir_all(&dir).map_err(|e| archive_io(&e, &dir))?;
            let objects = self.archive.objects_dir();
            fsutil::sync_dir(&objects).map_err(|e| archive_io(&e, &objects))?;
        }
        PackWriter::create(&dir.join(pack::pack_name(self.tag(), self.flushed)))
    }

    /// Make the objects put since the last flush durable: write the pack's index and trailer, fsync it,
    /// rename it to `objects/pack/<tag>.pack` (`<tag>.<n>.pack` for the `n`-th flush after the first) and fsync
    /// the directory. Objects put before the flush are readable by [`Archive::get`] after it (in this process
    /// and others), so flush before writing a manifest that names them with [`Archive::write_manifest`]
    /// ([`RunWriter::finish`] does). A flush with nothing put since the last one writes nothing.
    ///
    /// After a failed flush (or a failed put) the objects put since the last flush are lost and every later
    /// flush fails.
    pub fn flush(&mut self) -> Result<()> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let Some(pending) = self.pending.take() else {
            return Ok(());
        };
        // Tags are claimed exclusively, so the name is free unless a pack of a removed run of the same tag
        // is left: keep that one (other runs may use its objects) and take the next name.
        let dir = self.archive.pack_dir();
        let mut n = self.flushed;
        let (name, dest) = loop {
            let name = pack::pack_name(self.tag(), n);
            let dest = dir.join(&name);
            if !dest.exists() {
                break (name, dest);
            }
            n += 1;
        };
        match pending.finish(&dest) {
            Ok(entries) => {
                self.flushed = n + 1;
                self.stored.extend(entries.iter().map(|e| e.id));
                self.archive.packs().add(name, dest, &entries);
                Ok(())
            }
            Err(e) => {
                self.failed = Some(e.clone());
                Err(e)
            }
        }
    }

    /// Flush (see [`RunWriter::flush`]), then write the manifest (atomically) and return it. Until this, the
    /// run is invisible to [`Archive::runs`].
    pub fn finish(mut self) -> Result<RunManifest> {
        self.flush()?;
        self.archive.write_manifest(&self.manifest.tag, &self.manifest)?;
        Ok(self.manifest)
    }
}

fn check_tag(tag: &str) -> Result<()> {
    if tag::is_safe_tag(tag) {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("{tag:?} is not a run tag (expected run-<semver>-<timestamp>)"),
        )
        .with_field("tag"))
    }
}

fn is_lower_hex(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn archive_io(e: &io::Error, path: &Path) -> Error {
    Error::new(ErrorKind::Io, format!("archive: {e}")).with_file(path)
}

/// Decode the stored bytes of object `id` (a loose file's content, or a pack entry) into its canonical bytes:
/// check the seal of a compressed object, decompress it, and check that the bytes hash to `id`. Errors are
/// `Archive` errors naming the id and `file`, where the bytes came from.
fn decode_object(id: &str, stored: Vec<u8>, file: &Path) -> Result<Vec<u8>> {
    let canonical = if stored.starts_with(&ZSTD_MAGIC) {
        let sealed = stored.len() >= ZSTD_MAGIC.len() + SEAL_LEN && {
            let (data, seal) = stored.split_at(stored.len() - SEAL_LEN);
            seal[..8] == SEAL_HEADER && blake3::hash(data).as_bytes()[..] == seal[8..]
        };
        if !sealed {
            return Err(Error::new(
                ErrorKind::Archive,
                format!("object {id} is corrupt: its compressed bytes do not match their seal"),
            )
            .with_file(file));
        }
        let data = &stored[..stored.len() - SEAL_LEN];
        zstd::stream::decode_all(data).map_err(|e| {
            Error::new(
                ErrorKind::Archive,
                format!("object {id} is corrupt: cannot decompress it ({e})"),
            )
            .with_file(file)
        })?
    } else {
        stored
    };
    let actual = encode::digest_bytes(&canonical);
    if actual != id {
        return Err(corrupt(id, file, &actual));
    }
    Ok(canonical)
}

/// The 32 bytes of an id (an [`ObjectId`] is always 64 hex digits).
fn raw_id(id: &ObjectId) -> RawId {
    pack::raw(id.as_str()).unwrap_or_default()
}

fn corrupt(id: &str, path: &Path, actual: &str) -> Error {
    Error::new(
        ErrorKind::Archive,
        format!("object {id} is corrupt: its bytes hash to {actual}"),
    )
    .with_file(path)
}

fn unexpected(path: &Path) -> Problem {
    Problem {
        kind: ProblemKind::UnexpectedFile,
        id: None,
        tag: None,
        path: path.to_path_buf(),
        message: format!("{} is not something the archive writes", path.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::BTreeSet;
    use std::time::{Duration, SystemTime};

    fn archive() -> (tempfile::TempDir, Archive) {
        let dir = tempfile::tempdir().unwrap();
        let a = Archive::open(dir.path().join(".toron"));
        (dir, a)
    }

    fn mtime(p: &Path) -> SystemTime {
        fs::metadata(p).unwrap().modified().unwrap()
    }

    const T: i64 = 1_795_515_330; // 2026-11-24T10:15:30Z

    #[test]
    fn round_trip_and_layout() {
        let (_d, a) = archive();
        assert!(!a.root().exists(), "nothing is created before the first write");
        let v = json!({"b": [1, 2.5, "x"], "a": {"n": null}});
        let id = a.put(&v).unwrap();
        assert_eq!(id, ObjectId::of(&v).unwrap());
        assert_eq!(a.get(&id).unwrap(), v);
        assert!(a.contains(&id));
        let path = a.object_path(&id);
        assert_eq!(
            path,
            a.root().join("objects").join(&id.as_str()[..2]).join(&id.as_str()[2..])
        );
        assert_eq!(fs::read(&path).unwrap(), encode::canonical_bytes(&v).unwrap());
        // Same value with keys in another order: same id.
        assert_eq!(a.put(&json!({"a": {"n": null}, "b": [1, 2.5, "x"]})).unwrap(), id);
    }

    #[test]
    fn put_is_idempotent_and_does_not_rewrite() {
        let (_d, a) = archive();
        let id = a.put(&json!([1, 2, 3])).unwrap();
        let path = a.object_path(&id);
        let t0 = mtime(&path);
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(a.put(&json!([1, 2, 3])).unwrap(), id);
        assert_eq!(mtime(&path), t0);
        assert_eq!(fsutil::list_dir(path.parent().unwrap()).unwrap().len(), 1);
    }

    #[test]
    fn corrupt_object_is_named_by_id_and_path_and_repaired_by_put() {
        let (_d, a) = archive();
        let v = json!({"payload": "hello"});
        let id = a.put(&v).unwrap();
        let path = a.object_path(&id);
        let mut bytes = fs::read(&path).unwrap();
        bytes[3] ^= 0x01;
        fs::write(&path, &bytes).unwrap();
        let e = a.get(&id).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Archive);
        assert!(e.message().contains(id.as_str()), "{e}");
        assert_eq!(e.file(), Some(path.as_path()));
        let report = a.verify().unwrap();
        assert!(!report.is_ok());
        assert_eq!(report.problems.len(), 1);
        assert_eq!(report.problems[0].kind, ProblemKind::CorruptObject);
        assert_eq!(report.problems[0].id.as_deref(), Some(id.as_str()));
        assert_eq!(report.problems[0].path, path);
        // Storing the value again repairs the object.
        a.put(&v).unwrap();
        assert_eq!(a.get(&id).unwrap(), v);
        assert!(a.verify().unwrap().is_ok());
    }

    #[test]
    fn missing_object_is_an_archive_error() {
        let (_d, a) = archive();
        let id = ObjectId::parse(&"0".repeat(64)).unwrap();
        let e = a.get(&id).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Archive);
        assert!(e.file().is_some());
        assert!(!a.contains(&id));
    }

    #[test]
    fn tags_are_unique_within_one_second() {
        let (_d, a) = archive();
        let t = UtcTime::from_unix(T);
        let tags: Vec<String> = (0..3)
            .map(|_| a.new_run_at("2.5.0", Value::Null, t).unwrap().finish().unwrap().tag)
            .collect();
        assert_eq!(
            tags,
            [
                "run-2.5.0-20261124T101530Z",
                "run-2.5.0-20261124T101530Z-1",
                "run-2.5.0-20261124T101530Z-2"
            ]
        );
        let later = a
            .new_run_at("2.5.0", Value::Null, UtcTime::from_unix(T + 1))
            .unwrap()
            .finish()
            .unwrap();
        let listed: Vec<String> = a.runs().unwrap().into_iter().map(|r| r.tag).collect();
        assert_eq!(listed, [later.tag.as_str(), &tags[2], &tags[1], &tags[0]]);
    }

    #[test]
    fn tags_are_unique_across_threads() {
        let (_d, a) = archive();
        let t = UtcTime::from_unix(T);
        let tags: Vec<String> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| s.spawn(|| a.new_run_at("2.5.0", Value::Null, t).unwrap().tag().to_string()))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let unique: BTreeSet<_> = tags.iter().collect();
        assert_eq!(unique.len(), 8);
    }

    #[test]
    fn put_with_id_skips_stored_objects_and_refuses_a_wrong_id() {
        let (_d, a) = archive();
        let v = json!({"out": [1, 2, 3]});
        let id = ObjectId::of(&v).unwrap();
        let mut run = a.new_run("2.5.0", json!(null)).unwrap();
        run.add_case_with_id("kv/a", id.clone(), &v, CaseRecord::new()).unwrap();
        let other = json!({"out": 4});
        // The id is stored: the value is not encoded again (nor checked).
        run.put_with_id(&id, &other).unwrap();
        let wrong = ObjectId::of(&json!("x")).unwrap();
        let e = run.put_with_id(&wrong, &other).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        let m = run.finish().unwrap();
        assert_eq!(a.get(&m.cases["kv/a"].object).unwrap(), v);
        assert!(!a.contains(&wrong));
        assert!(a.verify().unwrap().is_ok());
    }

    #[test]
    fn add_case_with_bytes_stores_the_bytes_and_refuses_a_wrong_id() {
        let (_d, a) = archive();
        let v = json!({"out": [1, 2, 3], "a": "é"});
        let bytes = encode::canonical_bytes(&v).unwrap();
        let id = ObjectId::of(&v).unwrap();
        let mut run = a.new_run("2.5.0", json!(null)).unwrap();
        run.add_case_with_bytes("kv/a", id.clone(), &bytes, CaseRecord::new())
            .unwrap();
        let wrong = ObjectId::of(&json!("x")).unwrap();
        let e = run
            .add_case_with_bytes("kv/b", wrong.clone(), &bytes, CaseRecord::new())
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        let m = run.finish().unwrap();
        assert_eq!(a.get(&m.cases["kv/a"].object).unwrap(), v);
        assert!(!m.cases.contains_key("kv/b"));
        assert!(!a.contains(&wrong));
        assert!(a.verify().unwrap().is_ok());
    }

    #[test]
    fn manifest_round_trip() {
        let (_d, a) = archive();
        let mut run = a
            .new_run_at("2.5.0", json!({"profile": "offline"}), UtcTime::from_unix(T))
            .unwrap();
        run.add_case(
            "kv/b",
            &json!({"out": 2}),
            CaseRecord::new().scenario("kv").seed(u64::MAX),
        )
        .unwrap();
        run.add_case(
            "kv/a",
            &json!({"out": 1}),
            CaseRecord::new().scenario("kv").seed(1).meta(json!({"x": 1})),
        )
        .unwrap();
        run.add_case("raft/a", &json!({"out": 3}), CaseRecord::new().scenario("raft"))
            .unwrap();
        assert!(a.runs().unwrap().is_empty(), "a run without manifest is not listed");
        let m = run.finish().unwrap();
        assert_eq!(m.created, "2026-11-24T10:15:30Z");
        assert_eq!(m.scenarios, ["kv", "raft"]);
        assert_eq!(m.cases.keys().collect::<Vec<_>>(), ["kv/a", "kv/b", "raft/a"]);
        assert_eq!(m.cases["kv/b"].seed, Some(u64::MAX));
        assert_eq!(a.manifest(&m.tag).unwrap(), m);
        let head = a.manifest_head(&m.tag).unwrap();
        assert_eq!(
            (
                head.tag.as_str(),
                head.engine.as_str(),
                head.created.as_str(),
                &head.meta
            ),
            (
                m.tag.as_str(),
                "2.5.0",
                "2026-11-24T10:15:30Z",
                &json!({"profile": "offline"})
            )
        );
        assert_eq!(a.manifest_heads_except("").unwrap(), std::slice::from_ref(&head));
        assert!(a.manifest_heads_except(&m.tag).unwrap().is_empty());
        // The head comes from head.json while it describes the manifest; a stale one (the manifest rewritten
        // behind its back) is ignored, and so is a missing one.
        let dir = a.manifest_path(&m.tag).unwrap().parent().unwrap().to_path_buf();
        let on_disk: ManifestHead = serde_json::from_slice(&std::fs::read(dir.join(HEAD_FILE)).unwrap()).unwrap();
        assert_eq!(
            on_disk.manifest_len,
            std::fs::metadata(dir.join(MANIFEST_FILE)).unwrap().len()
        );
        let mut rewritten = m.clone();
        rewritten.meta = json!({"profile": "full"});
        std::fs::write(dir.join(MANIFEST_FILE), rewritten.to_bytes().unwrap()).unwrap();
        assert_eq!(a.manifest_head(&m.tag).unwrap().meta, json!({"profile": "full"}));
        assert!(a.verify().unwrap().is_ok(), "a stale head is not a problem");
        // A head of the right length that says something else is.
        let mut lying = on_disk.clone();
        lying.manifest_len = rewritten.to_bytes().unwrap().len() as u64;
        lying.meta = json!({"profile": "xxxx"});
        std::fs::write(dir.join(HEAD_FILE), serde_json::to_vec(&lying).unwrap()).unwrap();
        let problems = a.verify().unwrap().problems;
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].kind, ProblemKind::BadManifest);
        assert!(problems[0].path.ends_with(HEAD_FILE));
        std::fs::remove_file(dir.join(HEAD_FILE)).unwrap();
        assert_eq!(a.manifest_head(&m.tag).unwrap().meta, json!({"profile": "full"}));
        a.write_manifest(&m.tag, &m).unwrap();
        assert_eq!(a.manifest_head(&m.tag).unwrap(), head);
        assert_eq!(a.get(&m.cases["raft/a"].object).unwrap(), json!({"out": 3}));
        let runs = a.runs().unwrap();
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].cases, 3);
        assert_eq!(runs[0].engine, "2.5.0");
        let report = a.verify().unwrap();
        assert!(report.is_ok(), "{report:?}");
        assert_eq!((report.objects, report.runs), (3, 1));
    }

    #[test]
    fn verify_reports_bad_manifests_missing_objects_and_leftovers() {
        let (_d, a) = archive();
        let mut run = a.new_run_at("2.5.0", Value::Null, UtcTime::from_unix(T)).unwrap();
        let id = run.add_case("c", &json!(1), CaseRecord::new()).unwrap();
        let m = run.finish().unwrap();
        // An interrupted run (no manifest) and a temporary file are leftovers, not problems.
        let pending = a.new_run_at("2.5.0", Value::Null, UtcTime::from_unix(T)).unwrap();
        let temp = a.object_path(&id).with_file_name(".x.123.0.tmp");
        fs::create_dir_all(temp.parent().unwrap()).unwrap();
        fs::write(&temp, b"half").unwrap();
        let report = a.verify().unwrap();
        assert!(report.is_ok(), "{report:?}");
        assert_eq!(report.leftovers, vec![temp, a.root().join("runs").join(pending.tag())]);
        // A removed object (here, its pack) is missing from the manifest's point of view.
        fs::remove_file(pack_path(&a, &m.tag)).unwrap();
        let report = a.verify().unwrap();
        assert_eq!(report.problems.len(), 1);
        assert_eq!(report.problems[0].kind, ProblemKind::MissingObject);
        assert_eq!(report.problems[0].id.as_deref(), Some(id.as_str()));
        // A manifest edited into garbage.
        let mpath = a.manifest_path(&m.tag).unwrap();
        fs::write(&mpath, "{\"tag\": 3").unwrap();
        let report = a.verify().unwrap();
        assert!(report
            .problems
            .iter()
            .any(|p| p.kind == ProblemKind::BadManifest && p.path == mpath));
        let e = a.manifest(&m.tag).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Archive);
        assert_eq!(e.file(), Some(mpath.as_path()));
        assert!(a.runs().is_err());
    }

    #[test]
    fn bad_arguments_are_errors() {
        let (_d, a) = archive();
        assert_eq!(
            a.new_run("../x", Value::Null).unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
        assert_eq!(a.manifest("../x").unwrap_err().kind(), ErrorKind::InvalidArgument);
        let m = RunManifest::new("run-a", "2.5.0", "x", Value::Null);
        assert_eq!(
            a.write_manifest("run-b", &m).unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
        let mut run = a.new_run_at("2.5.0", Value::Null, UtcTime::from_unix(T)).unwrap();
        assert_eq!(
            run.add_case("../c", &json!(1), CaseRecord::new()).unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
        assert!(serde_json::from_str::<ObjectId>("\"ZZ\"").is_err());
    }

    #[test]
    fn verify_flags_unexpected_files() {
        let (_d, a) = archive();
        a.put(&json!(1)).unwrap();
        fs::write(a.root().join("objects").join("zz"), b"").unwrap();
        let report = a.verify().unwrap();
        assert_eq!(report.problems.len(), 1);
        assert_eq!(report.problems[0].kind, ProblemKind::UnexpectedFile);
        let packs = a.root().join("objects").join("pack");
        fs::create_dir(&packs).unwrap();
        fs::write(packs.join("notes.txt"), b"").unwrap();
        let report = a.verify().unwrap();
        assert_eq!(report.problems.len(), 2);
        assert_eq!(report.problems[0].kind, ProblemKind::UnexpectedFile);
        assert_eq!(
            report.problems[0].path,
            packs.join("notes.txt"),
            "problems are in path order"
        );
    }

    #[test]
    fn ids_are_canon_digests_and_unencodable_values_are_refused() {
        let (_d, a) = archive();
        let v = json!({"b": 1.0, "a": [1e21, "\u{e9}"]});
        assert_eq!(a.put(&v).unwrap().as_str(), crate::canon::digest(&v).unwrap());
        let e = a.put(&json!({"n": u64::MAX})).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Canonical);
        assert_eq!(e.path(), Some("/n"));
    }

    fn big() -> Value {
        let records: Vec<Value> = (0..300)
            .map(|k| json!({"id": k, "node": format!("n{}", k % 5), "ok": k % 7 != 0}))
            .collect();
        json!({"history": records})
    }

    #[test]
    fn large_objects_are_compressed_and_read_back() {
        let (_d, a) = archive();
        let v = big();
        let canonical = encode::canonical_bytes(&v).unwrap();
        let id = a.put(&v).unwrap();
        let stored = fs::read(a.object_path(&id)).unwrap();
        assert!(stored.starts_with(&ZSTD_MAGIC));
        assert!(
            stored.len() * 3 < canonical.len(),
            "{} vs {}",
            stored.len(),
            canonical.len()
        );
        assert_eq!(a.get(&id).unwrap(), v);
        assert!(a.verify().unwrap().is_ok());
    }

    #[test]
    fn compression_can_be_off_and_both_forms_are_read() {
        let (d, a) = archive();
        let plain = Archive::open(d.path().join(".toron")).compress(false);
        let v1 = big();
        let v2 = json!({"other": big()});
        let id1 = plain.put(&v1).unwrap();
        assert_eq!(
            fs::read(plain.object_path(&id1)).unwrap(),
            encode::canonical_bytes(&v1).unwrap()
        );
        let id2 = a.put(&v2).unwrap();
        assert_eq!(a.get(&id1).unwrap(), v1);
        assert_eq!(plain.get(&id2).unwrap(), v2);
        assert_eq!(a.verify().unwrap().objects, 2);
    }

    #[test]
    fn corrupt_compressed_object_is_named() {
        let (_d, a) = archive();
        let id = a.put(&big()).unwrap();
        let path = a.object_path(&id);
        let mut bytes = fs::read(&path).unwrap();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0x40;
        fs::write(&path, &bytes).unwrap();
        let e = a.get(&id).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Archive);
        assert!(e.message().contains(id.as_str()), "{e}");
        assert_eq!(e.file(), Some(path.as_path()));
        let report = a.verify().unwrap();
        assert_eq!(report.problems.len(), 1);
        assert_eq!(report.problems[0].kind, ProblemKind::CorruptObject);
        // Truncated to its magic number only.
        fs::write(&path, ZSTD_MAGIC).unwrap();
        assert_eq!(a.get(&id).unwrap_err().kind(), ErrorKind::Archive);
        a.put(&big()).unwrap();
        assert!(a.verify().unwrap().is_ok());
    }

    #[test]
    fn every_changed_byte_of_a_compressed_object_is_detected() {
        let (_d, a) = archive();
        let id = a.put(&big()).unwrap();
        let path = a.object_path(&id);
        let orig = fs::read(&path).unwrap();
        assert!(orig.starts_with(&ZSTD_MAGIC));
        let mut undetected = Vec::new();
        // One bit per byte, cycling through the bit positions (all 8 would take seconds in debug builds).
        for i in 0..orig.len() {
            let bit = i % 8;
            let mut b = orig.clone();
            b[i] ^= 1 << bit;
            fs::write(&path, &b).unwrap();
            match a.get(&id) {
                Err(e) if e.kind() == ErrorKind::Archive && e.message().contains(id.as_str()) => {}
                other => undetected.push((i, bit, other.is_ok())),
            }
        }
        assert!(
            undetected.is_empty(),
            "{} bytes, undetected flips: {undetected:?}",
            orig.len()
        );
    }

    // ---- Packs: what a RunWriter writes. ----

    /// The first pack of run `tag`.
    fn pack_path(a: &Archive, tag: &str) -> PathBuf {
        a.root().join("objects").join("pack").join(format!("{tag}.pack"))
    }

    /// The names in `dir`, sorted.
    fn names(dir: &Path) -> Vec<String> {
        fsutil::list_dir(dir).unwrap().into_iter().map(|e| e.name).collect()
    }

    /// A small output, distinct for each `i`.
    fn small(i: u64) -> Value {
        json!({"case": i, "parity": i % 2})
    }

    #[test]
    fn archive_is_send_sync_and_cheap_to_clone() {
        fn shared<T: Send + Sync + Clone>() {}
        fn sent<T: Send>() {}
        shared::<Archive>();
        sent::<RunWriter>();
    }

    #[test]
    fn run_objects_round_trip_through_one_pack() {
        let (_d, a) = archive();
        let mut run = a.new_run_at("2.5.0", Value::Null, UtcTime::from_unix(T)).unwrap();
        let values: Vec<Value> = (0..20).map(small).chain([big()]).collect();
        let ids: Vec<ObjectId> = values
            .iter()
            .enumerate()
            .map(|(i, v)| run.add_case(&format!("c{i}"), v, CaseRecord::new()).unwrap())
            .collect();
        assert!(!a.contains(&ids[0]), "not readable before the flush");
        let m = run.finish().unwrap();
        assert_eq!(names(&a.root().join("objects")), ["pack"], "no loose object");
        assert_eq!(
            names(&a.root().join("objects").join("pack")),
            [format!("{}.pack", m.tag)]
        );
        // Through the writer's archive (which knows the pack) and another (which reads its index from disk).
        for reader in [a.clone(), Archive::open(a.root())] {
            for (id, v) in ids.iter().zip(&values) {
                assert!(reader.contains(id));
                assert_eq!(reader.get(id).unwrap(), *v);
                assert!(!reader.object_path(id).exists());
            }
        }
        // Entries are stored as loose objects are: the large one compressed.
        let path = pack_path(&a, &m.tag);
        let entries = pack::read_index(&path).unwrap();
        assert_eq!(entries.len(), 21);
        let big_entry = entries.iter().find(|e| pack::hex(&e.id) == ids[20].as_str()).unwrap();
        let mut file = pack::open(&path).unwrap();
        let stored = pack::read_entry(&mut file, &path, big_entry).unwrap();
        assert!(stored.starts_with(&ZSTD_MAGIC));
        assert_eq!(
            decode_object(ids[20].as_str(), stored, &path).unwrap(),
            encode::canonical_bytes(&values[20]).unwrap()
        );
        let report = a.verify().unwrap();
        assert!(report.is_ok(), "{report:?}");
        assert_eq!((report.objects, report.runs), (21, 1));
        assert!(report.leftovers.is_empty(), "{:?}", report.leftovers);
        // The single-object put finds the packed copy and writes nothing.
        assert_eq!(a.put(&values[0]).unwrap(), ids[0]);
        assert!(!a.object_path(&ids[0]).exists());
    }

    #[test]
    fn objects_are_deduplicated_across_runs() {
        let (_d, a) = archive();
        let loose = a.put(&small(100)).unwrap();
        let run_of = |archive: &Archive, secs: i64, outputs: &[u64]| {
            let mut run = archive
                .new_run_at("2.5.0", Value::Null, UtcTime::from_unix(T + secs))
                .unwrap();
            for &i in outputs {
                run.add_case(&format!("c{i}"), &small(i), CaseRecord::new()).unwrap();
            }
            run.finish().unwrap().tag
        };
        let first: Vec<u64> = (0..10).chain([100]).collect();
        let tag1 = run_of(&a, 0, &first);
        assert_eq!(
            pack::read_index(&pack_path(&a, &tag1)).unwrap().len(),
            10,
            "the loose object is not packed"
        );
        assert!(a.object_path(&loose).is_file());
        // The same outputs from another process (an archive that reads the indexes from disk): no new pack.
        let b = Archive::open(a.root());
        let tag2 = run_of(&b, 1, &first);
        assert!(!pack_path(&b, &tag2).exists());
        // One new output: a pack of that object only.
        let tag3 = run_of(&b, 2, &[3, 11, 100]);
        assert_eq!(pack::read_index(&pack_path(&b, &tag3)).unwrap().len(), 1);
        // `a` read the indexes before that pack existed: it finds the object anyway, and so does its next run.
        assert_eq!(a.get(&ObjectId::of(&small(11)).unwrap()).unwrap(), small(11));
        let tag4 = run_of(&a, 3, &[11]);
        assert!(!pack_path(&a, &tag4).exists());
        let report = a.verify().unwrap();
        assert!(report.is_ok(), "{report:?}");
        assert_eq!((report.objects, report.runs), (12, 4));
        assert_eq!(names(&a.root().join("objects").join("pack")).len(), 2);
    }

    #[test]
    fn a_truncated_pack_is_reported_and_never_panics() {
        let (_d, a) = archive();
        let mut run = a.new_run_at("2.5.0", Value::Null, UtcTime::from_unix(T)).unwrap();
        let ids: Vec<ObjectId> = [small(0), small(1), big()]
            .iter()
            .enumerate()
            .map(|(i, v)| run.add_case(&format!("c{i}"), v, CaseRecord::new()).unwrap())
            .collect();
        let tag = run.finish().unwrap().tag;
        let path = pack_path(&a, &tag);
        let orig = fs::read(&path).unwrap();
        for cut in 0..orig.len() {
            fs::write(&path, &orig[..cut]).unwrap();
            // A reader opening the pack now: the pack is reported, every read is an error naming it.
            let fresh = Archive::open(a.root());
            let report = fresh.verify().unwrap();
            assert!(
                report
                    .problems
                    .iter()
                    .any(|p| p.kind == ProblemKind::CorruptObject && p.path == path && p.id.is_none()),
                "cut at {cut}: {report:?}"
            );
            for id in &ids {
                let e = fresh.get(id).unwrap_err();
                assert_eq!(e.kind(), ErrorKind::Archive, "cut at {cut}: {e}");
                assert!(e.message().contains(id.as_str()), "{e}");
                assert_eq!(e.file(), Some(path.as_path()), "{e}");
                assert!(fresh.output(&tag, "c0").is_err());
            }
            // A reader that read the index before: entries past the cut are errors, the others intact.
            for id in &ids {
                match a.get(id) {
                    Ok(v) => assert_eq!(ObjectId::of(&v).unwrap(), *id),
                    Err(e) => assert_eq!((e.kind(), e.file()), (ErrorKind::Archive, Some(path.as_path())), "{e}"),
                }
            }
        }
    }

    #[test]
    fn a_changed_byte_in_a_pack_is_detected() {
        let (_d, a) = archive();
        let mut run = a.new_run_at("2.5.0", Value::Null, UtcTime::from_unix(T)).unwrap();
        run.add_case("small", &small(0), CaseRecord::new()).unwrap();
        run.add_case("big", &big(), CaseRecord::new()).unwrap();
        let tag = run.finish().unwrap().tag;
        let path = pack_path(&a, &tag);
        let orig = fs::read(&path).unwrap();
        let entries = pack::read_index(&path).unwrap();
        // Every byte of every entry (one bit each, cycling through the bit positions).
        for e in &entries {
            let id = ObjectId(pack::hex(&e.id));
            for i in e.offset as usize..(e.offset + e.len) as usize {
                let mut b = orig.clone();
                b[i] ^= 1 << (i % 8);
                fs::write(&path, &b).unwrap();
                let err = a.get(&id).unwrap_err();
                assert_eq!(err.kind(), ErrorKind::Archive, "byte {i}: {err}");
                assert!(err.message().contains(id.as_str()), "{err}");
                assert_eq!(err.file(), Some(path.as_path()));
            }
        }
        // verify names the pack and the object.
        let small_id = ObjectId::of(&small(0)).unwrap();
        let entry = entries.iter().find(|e| pack::hex(&e.id) == small_id.as_str()).unwrap();
        let mut b = orig.clone();
        b[entry.offset as usize + 2] ^= 0x01;
        fs::write(&path, &b).unwrap();
        let report = a.verify().unwrap();
        assert_eq!(report.problems.len(), 1, "{report:?}");
        let p = &report.problems[0];
        assert_eq!(p.kind, ProblemKind::CorruptObject);
        assert_eq!(
            (p.id.as_deref(), p.path.as_path()),
            (Some(small_id.as_str()), path.as_path())
        );
        // A fresh copy (the single-object put writes one loose) is read instead of the damaged one; the pack
        // stays damaged.
        a.put(&small(0)).unwrap();
        assert!(a.object_path(&small_id).is_file());
        assert_eq!(a.get(&small_id).unwrap(), small(0));
        assert_eq!(a.verify().unwrap().problems.len(), 1);
        // A changed byte in the index: the pack is reported as a whole.
        let mut b = orig.clone();
        let at = orig.len() - 60;
        b[at] ^= 0x01;
        fs::write(&path, &b).unwrap();
        let report = Archive::open(a.root()).verify().unwrap();
        assert!(
            report.problems.iter().any(|p| p.path == path && p.id.is_none()),
            "{report:?}"
        );
    }

    #[test]
    fn an_intact_copy_in_another_pack_is_read() {
        let (_d, a) = archive();
        // Two runs store the same object before either flushes: each pack holds a copy.
        let mut w1 = a.new_run_at("2.5.0", Value::Null, UtcTime::from_unix(T)).unwrap();
        let mut w2 = a.new_run_at("2.5.0", Value::Null, UtcTime::from_unix(T)).unwrap();
        let id = w1.put(&big()).unwrap();
        w2.put(&big()).unwrap();
        w1.flush().unwrap();
        w2.flush().unwrap();
        for tag in [w1.tag(), w2.tag()] {
            let path = pack_path(&a, tag);
            let mut b = fs::read(&path).unwrap();
            let i = b.len() / 3;
            b[i] ^= 0x04;
            fs::write(&path, &b).unwrap();
            // One copy damaged (whichever is read first): the other one is returned.
            assert_eq!(a.get(&id).unwrap(), big());
            assert_eq!(Archive::open(a.root()).get(&id).unwrap(), big());
            let report = a.verify().unwrap();
            assert_eq!(report.problems.len(), 1, "{report:?}");
            assert_eq!(report.problems[0].path, path);
            b[i] ^= 0x04;
            fs::write(&path, &b).unwrap();
        }
        assert_eq!(a.verify().unwrap().objects, 1);
    }

    #[test]
    fn a_writer_dropped_without_flush_leaves_a_leftover() {
        let (_d, a) = archive();
        let mut kept = a.new_run_at("2.5.0", Value::Null, UtcTime::from_unix(T)).unwrap();
        kept.add_case("c", &small(1), CaseRecord::new()).unwrap();
        kept.finish().unwrap();
        let mut run = a.new_run_at("2.5.0", Value::Null, UtcTime::from_unix(T)).unwrap();
        let lost = run.add_case("c", &small(2), CaseRecord::new()).unwrap();
        let tag = run.tag().to_string();
        drop(run);
        let report = a.verify().unwrap();
        assert!(report.is_ok(), "{report:?}");
        assert_eq!(report.objects, 1);
        let packs = a.root().join("objects").join("pack");
        assert_eq!(report.leftovers.len(), 2, "{:?}", report.leftovers);
        let temp = &report.leftovers[0];
        assert_eq!(temp.parent(), Some(packs.as_path()));
        let name = temp.file_name().unwrap().to_str().unwrap();
        assert!(
            name.starts_with(&format!(".{tag}.pack.")) && name.ends_with(".tmp"),
            "{name}"
        );
        assert_eq!(report.leftovers[1], a.root().join("runs").join(&tag));
        assert!(!a.contains(&lost));
        assert_eq!(a.get(&lost).unwrap_err().kind(), ErrorKind::Archive);
    }

    #[test]
    fn a_manifest_written_after_flush_has_all_its_objects() {
        let (_d, a) = archive();
        let mut run = a.new_run_at("2.5.0", Value::Null, UtcTime::from_unix(T)).unwrap();
        run.flush().unwrap();
        assert!(
            !a.root().join("objects").exists(),
            "a flush with nothing put writes nothing"
        );
        for i in 0..5 {
            run.add_case(&format!("c{i}"), &small(i), CaseRecord::new()).unwrap();
        }
        run.flush().unwrap();
        run.flush().unwrap();
        // What the runner does: flush, then write the manifest itself.
        a.write_manifest(run.tag(), run.manifest()).unwrap();
        let tag = run.tag().to_string();
        let reader = Archive::open(a.root());
        for (case, entry) in &reader.manifest(&tag).unwrap().cases {
            assert_eq!(reader.get(&entry.object).unwrap(), reader.output(&tag, case).unwrap());
        }
        assert!(reader.verify().unwrap().is_ok());
        // Objects put after a flush go to the run's next pack; known ones are not stored again.
        run.add_case("c5", &small(5), CaseRecord::new()).unwrap();
        run.add_case("c0-again", &small(0), CaseRecord::new()).unwrap();
        let m = run.finish().unwrap();
        let packs = a.root().join("objects").join("pack");
        assert_eq!(names(&packs), [format!("{tag}.1.pack"), format!("{tag}.pack")]);
        assert_eq!(pack::read_index(&packs.join(format!("{tag}.1.pack"))).unwrap().len(), 1);
        assert_eq!(
            reader.output(&tag, "c5").unwrap(),
            small(5),
            "a reader finds a pack written since"
        );
        assert_eq!(m.cases.len(), 7);
        let report = reader.verify().unwrap();
        assert!(report.is_ok(), "{report:?}");
        assert_eq!(report.objects, 6);
    }

    #[test]
    fn a_pack_name_left_by_a_removed_run_is_kept() {
        let (_d, a) = archive();
        let mut run = a.new_run_at("2.5.0", Value::Null, UtcTime::from_unix(T)).unwrap();
        run.add_case("c", &small(1), CaseRecord::new()).unwrap();
        let m = run.finish().unwrap();
        // The run is removed (not its pack), and a new run claims the same tag.
        fs::remove_dir_all(a.root().join("runs").join(&m.tag)).unwrap();
        let mut run = a.new_run_at("2.5.0", Value::Null, UtcTime::from_unix(T)).unwrap();
        assert_eq!(run.tag(), m.tag);
        run.add_case("c", &small(2), CaseRecord::new()).unwrap();
        run.finish().unwrap();
        let packs = a.root().join("objects").join("pack");
        assert_eq!(names(&packs), [format!("{}.1.pack", m.tag), format!("{}.pack", m.tag)]);
        let reader = Archive::open(a.root());
        for i in [1, 2] {
            assert_eq!(reader.get(&ObjectId::of(&small(i)).unwrap()).unwrap(), small(i));
        }
    }

    /// The figures in the module docs. `cargo test --release -p toron-core --lib measure_put -- --ignored
    /// --nocapture` (the temporary directory is on the file system of `TMPDIR`).
    #[test]
    #[ignore = "a measurement, not a test: run it in release with --ignored --nocapture"]
    fn measure_put_loose_vs_packed() {
        use std::time::Instant;
        let n = 1000u64;
        // About 1.5 KB of canonical JSON each, as a small case's output.
        let values: Vec<Value> = (0..n)
            .map(|i| {
                let records: Vec<Value> = (0..32)
                    .map(|k| {
                        let node = format!("n{}", (k + i) % 5);
                        json!({"id": k, "node": node, "latency_ms": (k * 37 + i) % 1000, "ok": k % 11 != 0})
                    })
                    .collect();
                json!({"case": i, "records": records})
            })
            .collect();
        let size = encode::canonical_bytes(&values[0]).unwrap().len();
        // What every put pays before the archive is involved: canonical bytes and their blake3.
        let t = Instant::now();
        for v in &values {
            std::hint::black_box(encode::digest_bytes(&encode::canonical_bytes(v).unwrap()));
        }
        let t_encode = t.elapsed();
        // Compression alone: a zstd context per object, or one for all.
        let canonical: Vec<Vec<u8>> = values.iter().map(|v| encode::canonical_bytes(v).unwrap()).collect();
        let t = Instant::now();
        for c in &canonical {
            std::hint::black_box(zstd::bulk::compress(c, ZSTD_LEVEL).unwrap());
        }
        let t_fresh = t.elapsed();
        let mut compressor = Compressor::default();
        let t = Instant::now();
        for c in &canonical {
            std::hint::black_box(compressor.compress(c).unwrap());
        }
        let t_reused = t.elapsed();
        for compress in [true, false] {
            let (d1, loose) = archive();
            let loose = loose.compress(compress);
            let t = Instant::now();
            for v in &values {
                loose.put(v).unwrap();
            }
            let t_loose = t.elapsed();
            let (d2, packed) = archive();
            let packed = packed.compress(compress);
            let mut run = packed.new_run("2.5.0", Value::Null).unwrap();
            let t = Instant::now();
            for v in &values {
                run.put(v).unwrap();
            }
            let t_put = t.elapsed();
            run.flush().unwrap();
            let t_packed = t.elapsed();
            let ids: Vec<ObjectId> = values.iter().map(|v| ObjectId::of(v).unwrap()).collect();
            let t = Instant::now();
            let fresh = Archive::open(loose.root());
            for id in &ids {
                fresh.get(id).unwrap();
            }
            let g_loose = t.elapsed();
            let t = Instant::now();
            let fresh = Archive::open(packed.root());
            for id in &ids {
                fresh.get(id).unwrap();
            }
            let g_packed = t.elapsed();
            let per = |d: std::time::Duration| d.as_secs_f64() * 1e6 / n as f64;
            eprintln!(
                "{n} objects of {size} canonical bytes, compress {compress}: put loose {:.1} ms ({:.1} us each), \
                 packed {:.1} ms ({:.1} us each; {:.1} us each before the flush, of which {:.1} us canonical \
                 bytes and hash); get loose {:.1} us, packed {:.1} us",
                t_loose.as_secs_f64() * 1e3,
                per(t_loose),
                t_packed.as_secs_f64() * 1e3,
                per(t_packed),
                per(t_put),
                per(t_encode),
                per(g_loose),
                per(g_packed),
            );
            drop((d1, d2));
        }
        let per = |d: std::time::Duration| d.as_secs_f64() * 1e6 / n as f64;
        eprintln!(
            "zstd per object: {:.1} us with a new context, {:.1} us with one reused",
            per(t_fresh),
            per(t_reused)
        );
    }
}
