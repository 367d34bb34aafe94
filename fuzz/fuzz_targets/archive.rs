//! Any bytes as a file of a run archive (the first byte says which: see `toron_fuzz::role`) written into a
//! fresh archive in a temporary directory, then read back through the public API (`get`, `contains`,
//! `manifest`, `manifest_head`, `runs`, `output`, `verify`). Reads fail with an `Archive` (or `Io`) error
//! naming the file, never a panic. `get` and `verify` agree: an object that `get` reads is not reported
//! corrupt, and one whose copy fails its hash, seal or decompression is. A manifest that reads has its run's
//! tag and format, writes back to the same manifest, is listed by `runs`, and `verify` reports each of its
//! cases' objects missing (the archive holds none); one that does not read is a `BadManifest` problem. A
//! `head.json` that `manifest_head` uses but that disagrees with the manifest is a `BadManifest` problem too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::fs;
use std::path::{Path, PathBuf};
use toron_core::snapshot::archive::{Archive, ManifestHead, ObjectId, ProblemKind, VerifyReport};
use toron_core::{Error, ErrorKind};
use toron_fuzz::{archive_tag, role, split_nul, ROLES};

const ZSTD_MAGIC: [u8; 4] = [0x28, 0xB5, 0x2F, 0xFD];
const SEAL_HEADER: [u8; 8] = [0x50, 0x2A, 0x4D, 0x18, 32, 0, 0, 0];

fn hex(raw: &[u8]) -> String {
    raw.iter().map(|b| format!("{b:02x}")).collect()
}

fn scratch() -> tempfile::TempDir {
    // /dev/shm when there is one: a file system in memory makes each run several times faster.
    let shm = Path::new("/dev/shm");
    let dir = if shm.is_dir() {
        tempfile::tempdir_in(shm)
    } else {
        tempfile::tempdir()
    };
    dir.expect("a temporary directory")
}

fn write(path: &Path, bytes: &[u8]) {
    fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
    fs::write(path, bytes).expect("write");
}

fn check_archive_error(e: &Error) {
    assert!(
        matches!(e.kind(), ErrorKind::Archive | ErrorKind::Io),
        "{:?}: {e}",
        e.kind()
    );
    assert!(!e.message().trim().is_empty(), "{e:?}");
    assert!(e.file().is_some(), "an archive error names its file: {e}");
}

fn corrupt_ids(report: &VerifyReport) -> Vec<&str> {
    report
        .problems
        .iter()
        .filter(|p| p.kind == ProblemKind::CorruptObject)
        .filter_map(|p| p.id.as_deref())
        .collect()
}

/// `get` of `id`, against what `verify` said of it.
fn check_object(archive: &Archive, id: &str, report: &VerifyReport) {
    let id = ObjectId::parse(id).expect("a hex id");
    assert!(archive.contains(&id), "{id} was written");
    let reported = corrupt_ids(report).contains(&id.as_str());
    match archive.get(&id) {
        Ok(_) => assert!(!reported, "get reads {id}, which verify reports corrupt: {report:?}"),
        Err(e) => {
            check_archive_error(&e);
            // verify checks hashes (and seals, and decompression), not that an object is JSON.
            if !e.message().contains("is not JSON") {
                assert!(
                    reported,
                    "get fails on {id} ({e}) but verify does not say so: {report:?}"
                );
            }
        }
    }
}

/// The ids of a pack's index, if its trailer frames one (read independently of the archive's reader), and the
/// range of the index to checksum.
fn pack_index(bytes: &[u8]) -> Option<(Vec<String>, std::ops::Range<usize>)> {
    let size = bytes.len();
    if size < 16 + 56 || bytes[size - 8..] != *b"TORNPIDX" {
        return None;
    }
    let u64_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
    let (offset, count) = (u64_at(size - 56), u64_at(size - 48));
    let end = size - 56;
    let len = count.checked_mul(48)?;
    if offset < 16 || offset.checked_add(len)? != end as u64 {
        return None;
    }
    let start = offset as usize;
    let ids = bytes[start..end].chunks_exact(48).map(|c| hex(&c[..32])).collect();
    Some((ids, start..end))
}

fn objects(archive: &Archive, ids: &[String]) {
    let report = archive.verify().expect("verify reads what it lists");
    for id in ids {
        check_object(archive, id, &report);
    }
    assert!(report.runs == 0 && archive.runs().expect("no runs").is_empty());
}

fn loose(root: &Path, id: &str, stored: &[u8]) {
    write(&root.join("objects").join(&id[..2]).join(&id[2..]), stored);
    let archive = Archive::open(root);
    objects(&archive, &[id.to_string()]);
}

fn pack(root: &Path, mut bytes: Vec<u8>, summed: bool) {
    let index = pack_index(&bytes);
    if summed {
        if let Some((_, range)) = &index {
            let sum = blake3::hash(&bytes[range.clone()]);
            let at = bytes.len() - 40;
            bytes[at..at + 32].copy_from_slice(sum.as_bytes());
        }
    }
    let path = root.join("objects/pack").join(format!("{}.pack", archive_tag()));
    write(&path, &bytes);
    let archive = Archive::open(root);
    let report = archive.verify().expect("verify reads what it lists");
    let pack_damaged = report
        .problems
        .iter()
        .any(|p| p.kind == ProblemKind::CorruptObject && p.id.is_none());
    match index {
        Some((ids, _)) if !pack_damaged => {
            // An index that reads: each of its objects is checked, and agrees with get.
            let mut distinct = ids.clone();
            distinct.dedup();
            assert_eq!(report.objects, distinct.len(), "{report:?}");
            objects(&archive, &ids);
        }
        _ => {
            // No usable index: nothing is in the archive, and verify said why, naming the pack.
            assert_eq!(report.objects, 0, "{report:?}");
            assert!(
                report
                    .problems
                    .iter()
                    .any(|p| p.path == path && p.id.is_none() && !p.message.is_empty()),
                "a damaged pack is a problem naming it: {report:?}"
            );
            let any = ObjectId::parse(&"0".repeat(64)).expect("an id");
            let e = archive.get(&any).expect_err("an empty archive");
            check_archive_error(&e);
        }
    }
}

fn manifest(root: &Path, data: &[u8]) {
    let tag = archive_tag();
    let (manifest_bytes, head_bytes) = split_nul(data);
    let dir = root.join("runs").join(&tag);
    let manifest_path = dir.join("manifest.json");
    write(&manifest_path, manifest_bytes);
    if let Some(head) = head_bytes {
        write(&dir.join("head.json"), head);
    }
    let archive = Archive::open(root);
    let report = archive.verify().expect("verify reads what it lists");
    assert_eq!(report.runs, 1);
    let bad_manifest = |path: &PathBuf| {
        report
            .problems
            .iter()
            .any(|p| p.kind == ProblemKind::BadManifest && p.path == *path)
    };
    match archive.manifest(&tag) {
        Ok(m) => {
            assert_eq!((m.tag.as_str(), m.toron_archive), (tag.as_str(), 1));
            let head = archive.manifest_head(&tag).expect("a manifest that reads has a head");
            let from_manifest = (&m.tag, &m.engine, &m.created, &m.meta);
            if (&head.tag, &head.engine, &head.created, &head.meta) != from_manifest {
                assert!(
                    bad_manifest(&dir.join("head.json")),
                    "head {head:?} differs: {report:?}"
                );
            }
            let missing = report
                .problems
                .iter()
                .filter(|p| p.kind == ProblemKind::MissingObject)
                .count();
            assert_eq!(missing, m.cases.len(), "{report:?}");
            let listed = archive.runs().expect("a manifest that reads is listed");
            assert_eq!((listed.len(), listed[0].cases), (1, m.cases.len()));
            if let Some((case, _)) = m.cases.iter().next() {
                check_archive_error(&archive.output(&tag, case).expect_err("no object is stored"));
            }
            // Written back (to another archive) and read again: the same manifest.
            let other = scratch();
            let copy = Archive::open(other.path());
            copy.write_manifest(&tag, &m).expect("a manifest that reads writes");
            assert_eq!(copy.manifest(&tag).expect("written, it reads"), m);
            let head: ManifestHead = copy.manifest_head(&tag).expect("and so does its head");
            assert_eq!((&head.tag, &head.engine, &head.created, &head.meta), from_manifest);
        }
        Err(e) => {
            check_archive_error(&e);
            assert_eq!(e.file(), Some(manifest_path.as_path()), "{e}");
            if let (Some(line), Ok(text)) = (e.line(), std::str::from_utf8(manifest_bytes)) {
                assert!(line >= 1 && line <= text.split('\n').count(), "line {line}: {e}");
            }
            assert!(bad_manifest(&manifest_path), "verify reports the manifest: {report:?}");
            check_archive_error(&archive.runs().expect_err("listing reads every manifest"));
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let dir = scratch();
    let root = dir.path().join(".toron");
    match first % ROLES {
        role::LOOSE => loose(&root, blake3::hash(rest).to_hex().as_str(), rest),
        role::LOOSE_ID => {
            if rest.len() < 32 {
                return;
            }
            let (id, stored) = rest.split_at(32);
            let mut stored = stored.to_vec();
            if stored.starts_with(&ZSTD_MAGIC) && stored.len() >= ZSTD_MAGIC.len() + 40 {
                let at = stored.len() - 40;
                let seal = blake3::hash(&stored[..at]);
                stored[at..at + 8].copy_from_slice(&SEAL_HEADER);
                stored[at + 8..].copy_from_slice(seal.as_bytes());
            }
            loose(&root, &hex(id), &stored);
        }
        role::PACK => pack(&root, rest.to_vec(), false),
        role::PACK_SUMMED => pack(&root, rest.to_vec(), true),
        _ => manifest(&root, rest),
    }
});
