//! Pack files: many archive objects in one file, so that a run's objects cost one fsync instead of one each.
//!
//! A pack is self-describing and read from its end, so that opening one reads its trailer and index only:
//!
//! ```text
//! offset 0         header   "TORNPACK" (8 bytes), format version (u32 LE, 1), reserved (u32, must be 0)
//! 16               entries  each object's stored bytes, exactly as a loose object file holds them, back to back
//! index_offset     index    count × 48 bytes, sorted by id, no repeats:
//!                           raw blake3 id (32 bytes), offset (u64 LE), length (u64 LE) of the entry
//! end − 56         trailer  index_offset (u64 LE), count (u64 LE), blake3 of the index (32 bytes),
//!                           "TORNPIDX" (8 bytes)
//! ```
//!
//! Everything read from a pack is untrusted: every offset and length is checked against the file's size
//! before it is used, so a truncated or damaged pack is an `Archive` error naming it, never a panic or a huge
//! allocation. The index is checksummed (a damaged index is found on opening); entries are checked the way
//! loose objects are, against their id, when read.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{fsutil, tag};
use crate::{Error, ErrorKind, Result};

/// Name of the directory of packs, under `objects/`.
pub(crate) const PACK_DIR: &str = "pack";
/// Extension of a pack file.
pub(crate) const PACK_EXT: &str = ".pack";

const MAGIC: [u8; 8] = *b"TORNPACK";
const VERSION: u32 = 1;
const HEADER_LEN: u64 = 16;
const INDEX_ENTRY_LEN: u64 = 48;
const TRAILER_MAGIC: [u8; 8] = *b"TORNPIDX";
const TRAILER_LEN: u64 = 56;
/// Buffer of a pack being written: small objects reach the file in batches of this size.
const WRITE_BUFFER: usize = 64 * 1024;

/// An object id as the 32 bytes of its blake3 digest.
pub(crate) type RawId = [u8; 32];

/// One line of a pack's index: where the stored bytes of object `id` are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Entry {
    pub id: RawId,
    pub offset: u64,
    pub len: u64,
}

/// `<stem>.pack` with a stem that is a safe file name (`<tag>` or `<tag>.<n>`): a file the archive writes.
pub(crate) fn is_pack_name(name: &str) -> bool {
    name.strip_suffix(PACK_EXT).is_some_and(tag::is_safe_tag)
}

/// The file name of the `n`-th pack of run `tag`: `<tag>.pack`, then `<tag>.1.pack`, `<tag>.2.pack`, ...
pub(crate) fn pack_name(tag: &str, n: u64) -> String {
    if n == 0 {
        format!("{tag}{PACK_EXT}")
    } else {
        format!("{tag}.{n}{PACK_EXT}")
    }
}

/// 64 lowercase hex digits of a raw id.
pub(crate) fn hex(id: &RawId) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(64);
    for b in id {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

/// The raw id of 64 hex digits (`None` if they are not).
pub(crate) fn raw(hex: &str) -> Option<RawId> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        }
    }
    let bytes = hex.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = nibble(bytes[2 * i])? << 4 | nibble(bytes[2 * i + 1])?;
    }
    Some(out)
}

fn damaged(path: &Path, why: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Archive, format!("pack is damaged: {why}")).with_file(path)
}

fn io_error(e: &io::Error, path: &Path) -> Error {
    Error::new(ErrorKind::Io, format!("archive: {e}")).with_file(path)
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(b)
}

fn read_at(file: &mut File, offset: u64, buf: &mut [u8]) -> io::Result<()> {
    file.seek(SeekFrom::Start(offset))?;
    file.read_exact(buf)
}

/// Read and check a pack's header, trailer and index (not its entries). Errors are `Archive` errors naming
/// the pack (damage), or `Io` when it cannot be read at all.
pub(crate) fn read_index(path: &Path) -> Result<Vec<Entry>> {
    let mut file = File::open(path).map_err(|e| io_error(&e, path))?;
    read_index_from(&mut file, path)
}

fn read_index_from(file: &mut File, path: &Path) -> Result<Vec<Entry>> {
    let size = file.metadata().map_err(|e| io_error(&e, path))?.len();
    if size < HEADER_LEN + TRAILER_LEN {
        return Err(damaged(
            path,
            format_args!("it is {size} bytes long, too short for a pack"),
        ));
    }
    let short = |e: io::Error| {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            damaged(path, "it was truncated while being read")
        } else {
            io_error(&e, path)
        }
    };
    let mut header = [0u8; HEADER_LEN as usize];
    read_at(file, 0, &mut header).map_err(short)?;
    if header[..8] != MAGIC {
        return Err(damaged(path, "it does not start with the pack magic number"));
    }
    let version = u32::from_le_bytes([header[8], header[9], header[10], header[11]]);
    if version != VERSION {
        return Err(damaged(
            path,
            format_args!("unsupported pack format version {version} (expected {VERSION})"),
        ));
    }
    if header[12..] != [0; 4] {
        return Err(damaged(path, "its header's reserved bytes are not zero"));
    }
    let mut trailer = [0u8; TRAILER_LEN as usize];
    read_at(file, size - TRAILER_LEN, &mut trailer).map_err(short)?;
    if trailer[48..] != TRAILER_MAGIC {
        return Err(damaged(path, "it has no trailer (truncated?)"));
    }
    let index_offset = u64_at(&trailer, 0);
    let count = u64_at(&trailer, 8);
    let index_end = size - TRAILER_LEN;
    let index_len = count.checked_mul(INDEX_ENTRY_LEN);
    let fits = index_offset >= HEADER_LEN
        && index_len
            .and_then(|n| index_offset.checked_add(n))
            .is_some_and(|end| end == index_end);
    if !fits {
        return Err(damaged(
            path,
            format_args!(
                "its trailer points outside the file (index at {index_offset}, {count} entries, {size} bytes)"
            ),
        ));
    }
    // `fits` bounds the index by the file's size, so this allocation is no larger than the file.
    let index_len = usize::try_from(index_end - index_offset)
        .map_err(|_| damaged(path, "its index is too large for this machine"))?;
    let mut index = vec![0u8; index_len];
    read_at(file, index_offset, &mut index).map_err(short)?;
    if blake3::hash(&index).as_bytes()[..] != trailer[16..48] {
        return Err(damaged(path, "its index does not match its checksum"));
    }
    let mut entries: Vec<Entry> = Vec::with_capacity(index_len / INDEX_ENTRY_LEN as usize);
    for chunk in index.chunks_exact(INDEX_ENTRY_LEN as usize) {
        let mut id = [0u8; 32];
        id.copy_from_slice(&chunk[..32]);
        let entry = Entry {
            id,
            offset: u64_at(chunk, 32),
            len: u64_at(chunk, 40),
        };
        if entries.last().is_some_and(|prev| prev.id >= id) {
            return Err(damaged(path, "its index is not sorted by id"));
        }
        let inside = entry.offset >= HEADER_LEN
            && entry
                .offset
                .checked_add(entry.len)
                .is_some_and(|end| end <= index_offset);
        if !inside {
            return Err(damaged(
                path,
                format_args!("object {} points outside the pack's entries", hex(&id)),
            ));
        }
        entries.push(entry);
    }
    Ok(entries)
}

/// The stored bytes of `entry`, read from an open pack. The index was checked against the file's size when it
/// was read, but the file may have been replaced since: a short read is an `Archive` error.
pub(crate) fn read_entry(file: &mut File, path: &Path, entry: &Entry) -> Result<Vec<u8>> {
    let len = usize::try_from(entry.len).map_err(|_| damaged(path, "an entry is too large for this machine"))?;
    let size = file.metadata().map_err(|e| io_error(&e, path))?.len();
    if entry.offset.checked_add(entry.len).is_none_or(|end| end > size) {
        return Err(damaged(
            path,
            format_args!("object {} lies past the end of the file", hex(&entry.id)),
        ));
    }
    let mut buf = vec![0u8; len];
    read_at(file, entry.offset, &mut buf).map_err(|e| {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            damaged(
                path,
                format_args!("object {} lies past the end of the file", hex(&entry.id)),
            )
        } else {
            io_error(&e, path)
        }
    })?;
    Ok(buf)
}

/// Open a pack to read entries from it; a pack that is gone is an `Archive` error.
pub(crate) fn open(path: &Path) -> Result<File> {
    File::open(path).map_err(|e| {
        if e.kind() == io::ErrorKind::NotFound {
            Error::new(ErrorKind::Archive, "pack is gone (removed while the archive was open)").with_file(path)
        } else {
            io_error(&e, path)
        }
    })
}

/// Where one stored copy of an object is: a pack (by its number in [`PackSet`]) and its entry.
#[derive(Debug, Clone, Copy)]
struct Loc {
    pack: usize,
    offset: u64,
    len: u64,
}

/// The packs of an archive that a process has read the index of: id → where its copies are. Loaded lazily and
/// extended when a pack appears (packs are immutable once renamed into place, and never removed by the
/// archive).
#[derive(Debug, Default)]
pub(crate) struct PackSet {
    /// Whether the pack directory has been listed at least once.
    scanned: bool,
    /// The packs loaded, in load order (a [`Loc`] names one by its position).
    paths: Vec<Arc<Path>>,
    /// Their file names.
    names: HashSet<String>,
    /// Packs whose index could not be read, with the error (retried at each scan).
    bad: BTreeMap<String, Error>,
    /// The first copy of each object.
    first: HashMap<RawId, Loc>,
    /// Further copies of objects stored in several packs (rare: runs of two processes racing).
    more: HashMap<RawId, Vec<Loc>>,
}

/// A stored copy of an object in a pack.
#[derive(Debug, Clone)]
pub(crate) struct Copy {
    pub path: Arc<Path>,
    pub entry: Entry,
}

impl PackSet {
    /// Whether the pack directory was ever listed.
    pub(crate) fn scanned(&self) -> bool {
        self.scanned
    }

    /// List `dir` and read the index of every pack not loaded yet. A pack whose index cannot be read is kept
    /// aside (see [`PackSet::bad`]) and tried again at the next scan.
    pub(crate) fn scan(&mut self, dir: &Path) -> Result<()> {
        self.scanned = true;
        for f in fsutil::list_dir(dir)? {
            if f.is_dir || !is_pack_name(&f.name) || self.names.contains(&f.name) {
                continue;
            }
            match read_index(&f.path) {
                Ok(entries) => {
                    self.bad.remove(&f.name);
                    self.add(f.name, f.path, &entries);
                }
                // Gone between the listing and the read: nothing to load.
                Err(e) if e.io_kind() == Some(io::ErrorKind::NotFound) => {
                    self.bad.remove(&f.name);
                }
                Err(e) => {
                    self.bad.insert(f.name, e);
                }
            }
        }
        Ok(())
    }

    /// Record pack `name` at `path` with these entries (a pack just written, or just read).
    pub(crate) fn add(&mut self, name: String, path: PathBuf, entries: &[Entry]) {
        if !self.names.insert(name) {
            return;
        }
        let pack = self.paths.len();
        self.paths.push(Arc::from(path));
        for e in entries {
            let loc = Loc {
                pack,
                offset: e.offset,
                len: e.len,
            };
            match self.first.entry(e.id) {
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert(loc);
                }
                std::collections::hash_map::Entry::Occupied(_) => self.more.entry(e.id).or_default().push(loc),
            }
        }
    }

    /// Whether some loaded pack holds `id`.
    pub(crate) fn contains(&self, id: &RawId) -> bool {
        self.first.contains_key(id)
    }

    /// Every copy of `id` in the loaded packs, the first loaded first.
    pub(crate) fn copies(&self, id: &RawId) -> Vec<Copy> {
        let more = self.more.get(id).map(Vec::as_slice).unwrap_or_default();
        self.first
            .get(id)
            .into_iter()
            .chain(more)
            .map(|loc| Copy {
                path: self.paths[loc.pack].clone(),
                entry: Entry {
                    id: *id,
                    offset: loc.offset,
                    len: loc.len,
                },
            })
            .collect()
    }

    /// The first pack whose index could not be read at the last scan, with why.
    pub(crate) fn first_bad(&self) -> Option<&Error> {
        self.bad.values().next()
    }

    /// How many packs are loaded.
    pub(crate) fn len(&self) -> usize {
        self.paths.len()
    }
}

/// A pack being written: a temporary file in the pack directory that entries are streamed to (through a
/// small buffer), with only the index kept in memory. [`PackWriter::finish`] makes it a pack.
#[derive(Debug)]
pub(crate) struct PackWriter {
    temp: PathBuf,
    out: BufWriter<File>,
    offset: u64,
    entries: HashMap<RawId, (u64, u64)>,
}

impl PackWriter {
    /// Start a pack that will be named `dest` (its temporary file is `.<dest name>.<pid>.<n>.tmp` beside it,
    /// which readers skip and `verify` reports as a leftover). The directory must exist.
    pub(crate) fn create(dest: &Path) -> Result<PackWriter> {
        let temp = fsutil::temp_path_for(dest);
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
            .map_err(|e| io_error(&e, &temp))?;
        let mut out = BufWriter::with_capacity(WRITE_BUFFER, file);
        let mut header = [0u8; HEADER_LEN as usize];
        header[..8].copy_from_slice(&MAGIC);
        header[8..12].copy_from_slice(&VERSION.to_le_bytes());
        out.write_all(&header).map_err(|e| io_error(&e, &temp))?;
        Ok(PackWriter {
            temp,
            out,
            offset: HEADER_LEN,
            entries: HashMap::new(),
        })
    }

    /// The temporary file.
    #[cfg(test)]
    pub(crate) fn temp(&self) -> &Path {
        &self.temp
    }

    /// Whether `id` was appended already.
    pub(crate) fn contains(&self, id: &RawId) -> bool {
        self.entries.contains_key(id)
    }

    /// How many objects were appended.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Append object `id` stored as `bytes` (no fsync). Appending an id twice keeps the first.
    pub(crate) fn append(&mut self, id: RawId, bytes: &[u8]) -> Result<()> {
        if self.entries.contains_key(&id) {
            return Ok(());
        }
        self.out.write_all(bytes).map_err(|e| io_error(&e, &self.temp))?;
        let len = bytes.len() as u64;
        self.entries.insert(id, (self.offset, len));
        self.offset += len;
        Ok(())
    }

    /// Write the index and trailer, fsync, rename the file to `dest` and fsync the directory: one fsync of
    /// the file and one of the directory for the whole pack. Returns the index. On error the temporary file
    /// is removed (best effort).
    pub(crate) fn finish(self, dest: &Path) -> Result<Vec<Entry>> {
        let PackWriter {
            temp,
            mut out,
            offset,
            entries,
        } = self;
        let mut entries: Vec<Entry> = entries
            .into_iter()
            .map(|(id, (offset, len))| Entry { id, offset, len })
            .collect();
        entries.sort_unstable();
        let mut index = Vec::with_capacity(entries.len() * INDEX_ENTRY_LEN as usize);
        for e in &entries {
            index.extend_from_slice(&e.id);
            index.extend_from_slice(&e.offset.to_le_bytes());
            index.extend_from_slice(&e.len.to_le_bytes());
        }
        let mut trailer = Vec::with_capacity(TRAILER_LEN as usize);
        trailer.extend_from_slice(&offset.to_le_bytes());
        trailer.extend_from_slice(&(entries.len() as u64).to_le_bytes());
        trailer.extend_from_slice(blake3::hash(&index).as_bytes());
        trailer.extend_from_slice(&TRAILER_MAGIC);
        let written = (|| {
            out.write_all(&index)?;
            out.write_all(&trailer)?;
            out.into_inner().map_err(|e| e.into_error())?.sync_all()
        })();
        let result = written
            .map_err(|e| io_error(&e, &temp))
            .and_then(|()| fs::rename(&temp, dest).map_err(|e| io_error(&e, dest)));
        if let Err(e) = result {
            let _ = fs::remove_file(&temp);
            return Err(e);
        }
        let dir = dest.parent().unwrap_or(Path::new("."));
        fsutil::sync_dir(dir).map_err(|e| io_error(&e, dir))?;
        Ok(entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> RawId {
        *blake3::hash(&[n]).as_bytes()
    }

    #[test]
    fn hex_round_trips() {
        let i = id(7);
        assert_eq!(raw(&hex(&i)), Some(i));
        assert_eq!(hex(&i), blake3::hash(&[7]).to_hex().as_str());
        assert_eq!(raw("zz"), None);
        assert_eq!(raw(&"A".repeat(64)), None);
    }

    #[test]
    fn names() {
        assert_eq!(
            pack_name("run-2.5.0-20261124T101530Z", 0),
            "run-2.5.0-20261124T101530Z.pack"
        );
        assert_eq!(pack_name("run-x", 2), "run-x.2.pack");
        assert!(is_pack_name("run-x.2.pack"));
        assert!(!is_pack_name(".run-x.pack.1.0.tmp"));
        assert!(!is_pack_name(".pack"));
        assert!(!is_pack_name("run-x.idx"));
    }

    #[test]
    fn write_then_read_index_and_entries() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("p.pack");
        let mut w = PackWriter::create(&dest).unwrap();
        assert!(w.temp().exists());
        w.append(id(2), b"two").unwrap();
        w.append(id(1), b"one!").unwrap();
        w.append(id(2), b"again").unwrap();
        assert_eq!(w.len(), 2);
        assert!(w.contains(&id(1)));
        let written = w.finish(&dest).unwrap();
        assert_eq!(
            fsutil::list_dir(dir.path()).unwrap().len(),
            1,
            "the temporary file is gone"
        );
        let entries = read_index(&dest).unwrap();
        assert_eq!(entries, written);
        assert!(entries.windows(2).all(|w| w[0].id < w[1].id));
        let mut f = open(&dest).unwrap();
        for e in &entries {
            let want: &[u8] = if e.id == id(1) { b"one!" } else { b"two" };
            assert_eq!(read_entry(&mut f, &dest, e).unwrap(), want);
        }
        // An empty pack is valid too.
        let empty = dir.path().join("e.pack");
        assert!(PackWriter::create(&empty).unwrap().finish(&empty).unwrap().is_empty());
        assert!(read_index(&empty).unwrap().is_empty());
    }

    #[test]
    fn a_truncated_or_damaged_index_is_an_archive_error() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("p.pack");
        let mut w = PackWriter::create(&dest).unwrap();
        for n in 0..5 {
            w.append(id(n), &[n; 10]).unwrap();
        }
        w.finish(&dest).unwrap();
        let orig = fs::read(&dest).unwrap();
        for cut in 0..orig.len() {
            fs::write(&dest, &orig[..cut]).unwrap();
            let e = read_index(&dest).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Archive, "cut at {cut}: {e}");
            assert_eq!(e.file(), Some(dest.as_path()));
        }
        // Every byte of the header, index and trailer matters.
        let entries_end = orig.len() - TRAILER_LEN as usize - 5 * INDEX_ENTRY_LEN as usize;
        for i in (0..HEADER_LEN as usize).chain(entries_end..orig.len()) {
            let mut b = orig.clone();
            b[i] ^= 0x10;
            fs::write(&dest, &b).unwrap();
            assert_eq!(read_index(&dest).unwrap_err().kind(), ErrorKind::Archive, "byte {i}");
        }
    }

    #[test]
    fn pack_set_finds_every_copy() {
        let dir = tempfile::tempdir().unwrap();
        for (name, ids) in [("a.pack", [1u8, 2]), ("b.pack", [2, 3])] {
            let dest = dir.path().join(name);
            let mut w = PackWriter::create(&dest).unwrap();
            for n in ids {
                w.append(id(n), &[n]).unwrap();
            }
            w.finish(&dest).unwrap();
        }
        fs::write(dir.path().join("c.pack"), b"not a pack").unwrap();
        fs::write(dir.path().join(".c.pack.1.0.tmp"), b"half").unwrap();
        let mut set = PackSet::default();
        assert!(!set.scanned());
        set.scan(dir.path()).unwrap();
        assert_eq!(set.len(), 2);
        assert!(set.contains(&id(1)) && set.contains(&id(3)) && !set.contains(&id(4)));
        let copies = set.copies(&id(2));
        assert_eq!(copies.len(), 2);
        assert_eq!(&*copies[0].path, dir.path().join("a.pack"));
        assert_eq!(
            set.first_bad().and_then(Error::file),
            Some(dir.path().join("c.pack").as_path())
        );
        // A second scan loads nothing twice.
        set.scan(dir.path()).unwrap();
        assert_eq!((set.len(), set.copies(&id(2)).len()), (2, 2));
    }
}
