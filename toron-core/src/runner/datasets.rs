//! The `[[dataset]]`s of a run: each one the selected cases name is generated once, before any case, into
//! `<archive>/work/<run id>/datasets/<name>/<table>.<format>`; a command case that names it gets
//! `TORON_DATASET_<NAME>` (that directory; the name upper-cased, `-` and `.` as `_`) and `TORON_DATASETS_DIR`
//! (their parent). The run's result records each data set's seed and digests, and the archive keeps its
//! schema, so replay regenerates it and checks the bytes are the same.

use super::manifest::{DatasetSpec, Manifest};
use crate::fixtures::{OutputFormat, Schema};
use crate::scenario::Format;
use crate::{Error, ErrorKind, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A run's data sets: name → the directory it was written to, or why it could not be.
pub(crate) type Generated = BTreeMap<String, std::result::Result<PathBuf, String>>;

/// The variable naming the parent directory of a run's data sets.
pub const DATASETS_DIR_ENV: &str = "TORON_DATASETS_DIR";

/// A data set a run generated, as `report.json` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatasetRecord {
    /// The `[[dataset]]`'s name.
    pub name: String,
    /// The schema file, as the manifest names it.
    pub schema: String,
    /// The seed used.
    pub seed: u64,
    /// `jsonl`, `csv` or `json`.
    pub format: String,
    /// The data set's digest (blake3 over its tables' digests, see [`crate::fixtures::dataset_digest`]).
    pub digest: String,
    /// Per table: name, rows and the blake3 of its file.
    pub tables: Vec<DatasetTable>,
    /// The directory it was written to.
    pub dir: PathBuf,
    /// The archive object holding the schema's text (for replay).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_object: Option<String>,
}

/// One table of a [`DatasetRecord`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatasetTable {
    /// The table.
    pub table: String,
    /// Rows written.
    pub rows: u64,
    /// blake3 of its file's bytes.
    pub digest: String,
}

/// The environment variable that names data set `name`'s directory: `TORON_DATASET_<NAME>`.
pub fn dataset_env(name: &str) -> String {
    let upper: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("TORON_DATASET_{upper}")
}

/// The directory of a run's data sets: `<archive>/work/<run id>/datasets`.
pub(crate) fn run_dir(archive_root: &Path, run_id: &str) -> PathBuf {
    archive_root.join("work").join(run_id).join("datasets")
}

/// Generate the data sets named in `used` (by the selected cases) into `dir`, with `run_seed` for those that
/// name no seed (else 0). A failure is returned per data set, so only the cases that need it error.
pub(crate) fn generate(
    manifest: &Manifest,
    used: &[&str],
    dir: &Path,
    run_seed: Option<u64>,
) -> Vec<(String, Result<DatasetRecord>)> {
    manifest
        .datasets
        .iter()
        .filter(|d| used.contains(&d.name.as_str()))
        .map(|d| (d.name.clone(), generate_one(manifest, d, dir, run_seed)))
        .collect()
}

fn generate_one(manifest: &Manifest, spec: &DatasetSpec, dir: &Path, run_seed: Option<u64>) -> Result<DatasetRecord> {
    let path = manifest.resolve(&spec.schema);
    let schema = Schema::from_path(&path)?;
    let format = OutputFormat::parse(&spec.format)?;
    let seed = spec.seed.or(run_seed).unwrap_or(0);
    let out = dir.join(&spec.name);
    let summary = schema.write_dir(&out, seed, format)?;
    Ok(DatasetRecord {
        name: spec.name.clone(),
        schema: spec.schema.to_string_lossy().replace('\\', "/"),
        seed,
        format: format.name().to_string(),
        digest: summary.digest,
        tables: summary
            .tables
            .into_iter()
            .map(|t| DatasetTable {
                table: t.table,
                rows: t.rows,
                digest: t.digest,
            })
            .collect(),
        dir: out,
        schema_object: None,
    })
}

/// What the archive keeps of a data set's schema: its text and format, so replay needs nothing else.
pub(crate) fn schema_document(manifest: &Manifest, record: &DatasetRecord) -> Result<serde_json::Value> {
    let path = manifest.resolve(Path::new(&record.schema));
    let text = std::fs::read_to_string(&path).map_err(|e| Error::read(&e, &path))?;
    let format = if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) {
        "json"
    } else {
        "toml"
    };
    Ok(serde_json::json!({ "schema": "toron.dataset-schema", "format": format, "text": text }))
}

/// Regenerate a recorded data set from its archived schema document, without writing it: its digest.
pub(crate) fn regenerate_digest(document: &serde_json::Value, record: &DatasetRecord) -> Result<String> {
    let bad = || {
        Error::new(
            ErrorKind::Archive,
            format!("the archived schema of data set {:?} is unreadable", record.name),
        )
    };
    let text = document.get("text").and_then(|t| t.as_str()).ok_or_else(bad)?;
    let format = match document.get("format").and_then(|f| f.as_str()) {
        Some("json") => Format::Json,
        Some("toml") => Format::Toml,
        _ => return Err(bad()),
    };
    let schema = Schema::from_str(text, format, None)?;
    Ok(schema.digest(record.seed, OutputFormat::parse(&record.format)?)?.digest)
}

/// The environment a command case gets for its data sets: `TORON_DATASET_<NAME>` per data set it names and
/// `TORON_DATASETS_DIR`, over the case's own `env`.
pub(crate) fn case_env(
    env: &BTreeMap<String, String>,
    names: &[String],
    generated: &Generated,
) -> std::result::Result<BTreeMap<String, String>, String> {
    let mut out = env.clone();
    for n in names {
        let dir = match generated.get(n) {
            Some(Ok(dir)) => dir,
            Some(Err(e)) => return Err(format!("data set {n:?} could not be generated: {e}")),
            None => return Err(format!("data set {n:?} was not generated for this run")),
        };
        out.insert(dataset_env(n), dir.to_string_lossy().into_owned());
        if let Some(parent) = dir.parent() {
            out.insert(DATASETS_DIR_ENV.to_string(), parent.to_string_lossy().into_owned());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_names_are_upper_case_with_underscores() {
        assert_eq!(dataset_env("customers"), "TORON_DATASET_CUSTOMERS");
        assert_eq!(dataset_env("eu-people.v2"), "TORON_DATASET_EU_PEOPLE_V2");
    }
}
