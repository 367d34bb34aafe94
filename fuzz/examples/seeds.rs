//! Writes the seed corpora of the fuzz targets from the repository's own files: `cargo run --manifest-path
//! fuzz/Cargo.toml --example seeds [CORPUS_DIR]` (default `fuzz/corpus`) writes `<target>/seed-<name>` files,
//! each a file of the repository (manifests, scenarios, coverage files, goldens), a case of `tests/vectors`, or
//! what toron-core writes from them (a scenario as JSON, the JSON Lines traces of two example simulations, a
//! run archive's loose objects, pack, manifest and head). Nothing binary is committed: this makes them again.
//! Run from the repository's root (`make fuzz` does).

use serde_json::{json, Value};
use std::fs;
use std::path::{Path, PathBuf};
use toron_core::gate::{CASE_RULES, DEFAULT_RULES};
use toron_core::runner::Manifest;
use toron_core::scenario::Scenario;
use toron_core::sim::{simulate_with, SimOptions};
use toron_core::snapshot::archive::{Archive, CaseRecord};
use toron_core::snapshot::UtcTime;
use toron_fuzz::{archive_tag, role, ARCHIVE_TIME};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

struct Corpus {
    root: PathBuf,
    written: usize,
}

impl Corpus {
    fn put(&mut self, target: &str, name: &str, bytes: &[u8]) -> Result<()> {
        let dir = self.root.join(target);
        fs::create_dir_all(&dir)?;
        let name: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        fs::write(dir.join(format!("seed-{name}")), bytes)?;
        self.written += 1;
        Ok(())
    }

    fn file(&mut self, target: &str, path: &Path) -> Result<()> {
        let bytes = fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        self.put(target, &path.to_string_lossy(), &bytes)
    }
}

/// The files of `dir` (not recursive) whose names end with `ext`, sorted.
fn files(dir: &str, ext: &str) -> Result<Vec<PathBuf>> {
    let mut out: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(|e| format!("{dir}: {e}"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.to_string_lossy().ends_with(ext))
        .collect();
    out.sort();
    Ok(out)
}

const MANIFESTS: &[&str] = &[
    "testops.toml",
    "examples/testops/testops.toml",
    "examples/c/run_manifest.toml",
    "tests/fixtures/runner/ok/testops.toml",
    "tests/fixtures/runner/run/testops.toml",
];

const SCENARIO_DIRS: &[&str] = &[
    "examples/scenarios",
    "examples/testops/scenarios",
    "tests/vectors/scenarios",
    "tests/fixtures/runner/ok/scenarios",
    "tests/fixtures/runner/run/scenarios",
];

fn manifests(c: &mut Corpus) -> Result<()> {
    for path in MANIFESTS {
        c.file("manifest", Path::new(path))?;
        // Their gates (rules and scopes) seed the rule parser.
        let m = Manifest::from_path(path).map_err(|e| format!("{path}: {e}"))?;
        for (i, gate) in m.gates.iter().enumerate() {
            c.put("gate_rule", &format!("{path}-{i}"), gate.rule.text().as_bytes())?;
            if let Some(key) = gate.scope.key() {
                c.put("gate_rule", &format!("{path}-{i}-scope"), key.as_bytes())?;
            }
        }
    }
    for (i, rule) in DEFAULT_RULES.iter().chain(CASE_RULES).enumerate() {
        c.put("gate_rule", &format!("default-{i}"), rule.as_bytes())?;
    }
    for (i, rule) in [
        "latency.p99 <= baseline * 1.10",
        "latency.p50 < 1.5s",
        "throughput > 1000",
    ]
    .iter()
    .enumerate()
    {
        c.put("gate_rule", &format!("doc-{i}"), rule.as_bytes())?;
    }
    Ok(())
}

fn scenarios(c: &mut Corpus) -> Result<Vec<Scenario>> {
    let mut all = Vec::new();
    for dir in SCENARIO_DIRS {
        for path in files(dir, ".toml")? {
            c.file("scenario", &path)?;
            let s = Scenario::from_path(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let json = serde_json::to_string_pretty(&s.to_value())?;
            c.put("scenario", &format!("{}.json", path.display()), json.as_bytes())?;
            all.push(s);
        }
    }
    Ok(all)
}

fn coverage(c: &mut Corpus) -> Result<()> {
    for path in files("tests/fixtures/runner/coverage", "")? {
        c.file("coverage", &path)?;
    }
    c.file("coverage", Path::new("tests/fixtures/runner/run/cov-source.xml"))
}

/// The first `lines` lines of a simulation's trace.
fn trace(scenario: &Scenario, seed: u64, dir: &Path, lines: usize) -> Result<String> {
    let path = dir.join(format!("trace-{seed}.jsonl"));
    let options = SimOptions {
        seed: Some(seed),
        trace: Some(path.clone()),
        cancel: None,
        history: false,
    };
    simulate_with(scenario, &options)?;
    let text = fs::read_to_string(&path)?;
    Ok(text.split_inclusive('\n').take(lines).collect())
}

fn traces(c: &mut Corpus, scenarios: &[Scenario]) -> Result<()> {
    let tmp = tempfile::tempdir()?;
    for name in ["echo", "kv_buggy"] {
        let s = scenarios
            .iter()
            .find(|s| s.name() == name || s.file().is_some_and(|f| f.ends_with(format!("{name}.toml"))))
            .ok_or_else(|| format!("no scenario {name}"))?;
        let a = trace(s, 1, tmp.path(), 40)?;
        let b = trace(s, 2, tmp.path(), 40)?;
        c.put("trace_reader", &format!("{name}-1"), a.as_bytes())?;
        c.put(
            "trace_reader",
            &format!("{name}-1-vs-2"),
            format!("{a}\0{b}").as_bytes(),
        )?;
    }
    Ok(())
}

fn archive(c: &mut Corpus) -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let root = tmp.path().join(".toron");
    let archive = Archive::open(&root);
    // Loose objects: one small (stored as is), one large and repetitive (stored compressed and sealed).
    let small = json!({"ok": true, "latency": [0.001, 0.5], "name": "kv/basic"});
    let large =
        json!({"history": (0..200).map(|i| json!({"op": "put", "key": i % 7, "ok": true})).collect::<Vec<_>>()});
    for (name, value) in [("small", &small), ("large", &large)] {
        let id = archive.put(value)?;
        let stored = fs::read(archive.object_path(&id))?;
        let raw: Vec<u8> = (0..32)
            .map(|i| u8::from_str_radix(&id.as_str()[2 * i..2 * i + 2], 16))
            .collect::<std::result::Result<_, _>>()?;
        c.put(
            "archive",
            &format!("loose-{name}"),
            &[&[role::LOOSE][..], &stored].concat(),
        )?;
        c.put(
            "archive",
            &format!("loose-id-{name}"),
            &[&[role::LOOSE_ID][..], &raw, &stored].concat(),
        )?;
    }
    // A run: its pack (three objects, one compressed), manifest and head.
    let mut run = archive.new_run_at(
        toron_core::VERSION,
        json!({"profile": "seed"}),
        UtcTime::from_unix(ARCHIVE_TIME),
    )?;
    assert_eq!(run.tag(), archive_tag());
    run.add_case("kv/a", &json!({"ok": true}), CaseRecord::new().scenario("kv").seed(7))?;
    run.add_case(
        "kv/b",
        &json!([1, 2.5, "three", null]),
        CaseRecord::new().meta(json!({"attempts": 2})),
    )?;
    run.add_case("load/big", &json!({"big": large}), CaseRecord::new())?;
    let manifest = run.finish()?;
    let tag = manifest.tag.clone();
    let pack = fs::read(root.join("objects/pack").join(format!("{tag}.pack")))?;
    c.put("archive", "pack", &[&[role::PACK][..], &pack].concat())?;
    c.put("archive", "pack-summed", &[&[role::PACK_SUMMED][..], &pack].concat())?;
    let run_dir = root.join("runs").join(&tag);
    let (m, head) = (
        fs::read(run_dir.join("manifest.json"))?,
        fs::read(run_dir.join("head.json"))?,
    );
    c.put("archive", "manifest", &[&[role::MANIFEST][..], &m].concat())?;
    c.put(
        "archive",
        "manifest-head",
        &[&[role::MANIFEST][..], &m, b"\0", &head].concat(),
    )?;
    Ok(())
}

/// The language-neutral vectors: canonical JSON inputs, diff pairs (one line each), patches and documents.
fn vectors(c: &mut Corpus) -> Result<()> {
    let canon: Value = serde_json::from_str(&fs::read_to_string("tests/vectors/canon.json")?)?;
    for (i, case) in canon["cases"]
        .as_array()
        .into_iter()
        .chain(canon["errors"].as_array())
        .flatten()
        .enumerate()
    {
        if let Some(input) = case["input"].as_str() {
            c.put("canonical_encoder", &format!("canon-{i}"), input.as_bytes())?;
        }
    }
    let diff: Value = serde_json::from_str(&fs::read_to_string("tests/vectors/diff.json")?)?;
    for (i, case) in diff["cases"].as_array().into_iter().flatten().enumerate() {
        c.put(
            "diff_roundtrip",
            &format!("diff-{i}"),
            format!("{}\n{}", case["old"], case["new"]).as_bytes(),
        )?;
        c.put(
            "patch_parser",
            &format!("diff-{i}"),
            format!("{}\n{}", case["old"], case["patch"]).as_bytes(),
        )?;
    }
    for (i, case) in diff["apply"].as_array().into_iter().flatten().enumerate() {
        c.put(
            "patch_parser",
            &format!("apply-{i}"),
            format!("{}\n{}", case["doc"], case["patch"]).as_bytes(),
        )?;
    }
    for dir in [
        "snapshots/sim",
        "examples/testops/snapshots/sim",
        "examples/testops/snapshots/sim-drifted",
    ] {
        for path in files(dir, ".json")? {
            c.file("golden_reader", &path)?;
        }
    }
    Ok(())
}

fn main() -> Result<()> {
    let root = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "fuzz/corpus".to_string()));
    let mut c = Corpus { root, written: 0 };
    manifests(&mut c)?;
    let all = scenarios(&mut c)?;
    coverage(&mut c)?;
    traces(&mut c, &all)?;
    archive(&mut c)?;
    vectors(&mut c)?;
    println!("{} seeds written under {}", c.written, c.root.display());
    Ok(())
}
