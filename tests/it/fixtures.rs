//! `tests/vectors/fixtures.json`: data-set schemas, seeds and formats, and the digests their tables must
//! have (with each table's first rows, for people reading a diff). The Python and C suites read the same file.
//! `TORON_UPDATE_VECTORS=1 cargo test --test it fixtures` rewrites it — only for a deliberate change of the
//! data-set format or the word lists (a minor version bump and `WORDS_VERSION`, noted in the changelog).

use crate::scratch::Scratch;
use serde_json::{json, Value};
use toron_core::fixtures::{OutputFormat, Schema, WORDS_VERSION};
use toron_core::ErrorKind;
use toron_suite::repo_path;

const CASES: &[(&str, &str, u64, &str)] = &[
    ("customers-jsonl", "examples/datasets/customers.toml", 42, "jsonl"),
    ("customers-csv", "examples/datasets/customers.toml", 42, "csv"),
    ("customers-json-seed-7", "examples/datasets/customers.toml", 7, "json"),
    ("locales", "tests/vectors/fixtures/locales.toml", 1, "jsonl"),
    ("kinds-jsonl", "tests/vectors/fixtures/kinds.json", 3, "jsonl"),
    ("kinds-csv", "tests/vectors/fixtures/kinds.json", 3, "csv"),
];

/// How many rows of each table the vectors show.
const SHOWN: usize = 2;

fn compute() -> Value {
    let cases: Vec<Value> = CASES
        .iter()
        .map(|(name, path, seed, format)| {
            let schema = Schema::from_path(repo_path(path)).unwrap_or_else(|e| panic!("{e}"));
            let summary = schema.digest(*seed, OutputFormat::parse(format).unwrap()).unwrap();
            let tables: Vec<Value> = schema
                .tables()
                .iter()
                .zip(&summary.tables)
                .map(|(info, t)| {
                    let first: Vec<Value> = schema
                        .rows(&info.name, *seed)
                        .unwrap()
                        .take(SHOWN)
                        .map(|row| {
                            let row = row.unwrap();
                            Value::Object(info.fields.iter().cloned().zip(row).collect())
                        })
                        .collect();
                    json!({"table": t.table, "rows": t.rows, "bytes": t.bytes, "digest": t.digest, "first": first})
                })
                .collect();
            json!({"name": name, "schema": path, "seed": seed, "format": format, "digest": summary.digest,
                   "tables": tables})
        })
        .collect();
    json!({
        "version": 1,
        "engine": toron_core::VERSION,
        "words": WORDS_VERSION,
        "comment": "Data-set digests pinned per schema, seed and format (blake3 of each table's file; the data set's \
                    digest is blake3 of '<table> <digest>\\n' lines sorted by table name). Every surface (Rust, \
                    Python, C) must reproduce them. `first` shows each table's first rows.",
        "cases": cases,
    })
}

#[test]
fn fixtures_vectors_match() {
    let path = repo_path("tests/vectors/fixtures.json");
    let now = compute();
    if std::env::var_os("TORON_UPDATE_VECTORS").is_some() {
        std::fs::write(&path, serde_json::to_string_pretty(&now).unwrap() + "\n").unwrap();
        return;
    }
    let pinned: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(
        pinned["cases"], now["cases"],
        "data-set digests changed: a format or word-list change needs a minor version bump"
    );
}

#[test]
fn fixtures_written_files_match_the_vectors() {
    let pinned: Value =
        serde_json::from_str(&std::fs::read_to_string(repo_path("tests/vectors/fixtures.json")).unwrap()).unwrap();
    for case in pinned["cases"].as_array().unwrap() {
        let schema = Schema::from_path(repo_path(case["schema"].as_str().unwrap())).unwrap();
        let format = OutputFormat::parse(case["format"].as_str().unwrap()).unwrap();
        let dir = Scratch::new("fixtures");
        let summary = schema
            .write_dir(dir.path(), case["seed"].as_u64().unwrap(), format)
            .unwrap();
        assert_eq!(summary.digest, case["digest"].as_str().unwrap(), "{}", case["name"]);
        for (t, want) in summary.tables.iter().zip(case["tables"].as_array().unwrap()) {
            let bytes = std::fs::read(t.path.as_ref().unwrap()).unwrap();
            assert_eq!(
                toron_core::canon::digest_bytes(&bytes).as_str(),
                want["digest"].as_str().unwrap()
            );
            assert_eq!(
                t.path.as_ref().unwrap().file_name().unwrap().to_string_lossy(),
                format!("{}.{}", t.table, format.name())
            );
        }
    }
}

#[test]
fn fixtures_example_has_person_records() {
    let schema = Schema::from_path(repo_path("examples/datasets/customers.toml")).unwrap();
    let tables = schema.tables();
    assert_eq!(
        tables.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
        ["customers", "orders"]
    );
    for f in [
        "name",
        "email",
        "phone",
        "address",
        "company",
        "birth_date",
        "iban",
        "card",
    ] {
        assert!(tables[0].fields.iter().any(|g| g == f), "{f}");
    }
    let ids: std::collections::BTreeSet<String> = schema
        .rows("customers", 42)
        .unwrap()
        .map(|r| r.unwrap()[0].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 1000);
    for row in schema.rows("orders", 42).unwrap() {
        assert!(ids.contains(row.unwrap()[1].as_str().unwrap()));
    }
}

#[test]
fn fixtures_bad_schema_files_are_located() {
    let dir = Scratch::new("fixtures-bad");
    let path = dir.path().join("bad.toml");
    let text = std::fs::read_to_string(repo_path("examples/datasets/customers.toml"))
        .unwrap()
        .replace("table = \"customers\"", "table = \"custmers\"");
    std::fs::write(&path, text).unwrap();
    let e = Schema::from_path(&path).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Dataset);
    assert_eq!(e.file(), Some(path.as_path()));
    assert_eq!(e.field(), Some("table[1].field[1].table"));
    assert!(e.line().is_some());
    assert!(
        e.to_string()
            .ends_with("unknown table \"custmers\" (expected one of: customers)"),
        "{e}"
    );
    let e = Schema::from_path(dir.path().join("missing.toml")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Io);
}
