//! The test-operations manifest, `testops.toml`: project settings, defaults, profiles, suites of cases and
//! gates. Everything is checked when the manifest is read (unknown fields, kinds, metrics, suites in profiles,
//! duplicate names, rules, scenario files), so a bad manifest fails before anything runs, with an error naming
//! the file, the line, the field and what was expected.

use crate::diff::DiffOptions;
use crate::gate::{Gate, Rule, Scope, Severity};
use crate::scenario::locate::{self, Locations};
use crate::scenario::{typed, Duration, FieldPath, Scenario};
use crate::{Error, ErrorKind, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The manifest's usual file name.
pub const MANIFEST_FILE: &str = "testops.toml";

/// What a case does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CaseKind {
    /// Simulate a scenario for each seed.
    Sim,
    /// A simulation with faults (usually expecting a violation).
    Chaos,
    /// A simulation whose latency and throughput are KPIs.
    Load,
    /// Repeat a scenario (or a command with artifacts) and compare the digests.
    Determinism,
    /// Run an external command.
    Command,
}

impl CaseKind {
    /// `sim`, `chaos`, `load`, `determinism` or `command`.
    pub fn name(self) -> &'static str {
        match self {
            CaseKind::Sim => "sim",
            CaseKind::Chaos => "chaos",
            CaseKind::Load => "load",
            CaseKind::Determinism => "determinism",
            CaseKind::Command => "command",
        }
    }

    /// Whether the case simulates a scenario (sim, chaos, load).
    pub fn is_simulation(self) -> bool {
        matches!(self, CaseKind::Sim | CaseKind::Chaos | CaseKind::Load)
    }
}

/// What a simulation case must find.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Expect {
    /// No invariant violation (the default).
    #[default]
    Pass,
    /// At least one violation (a chaos case that must find the bug).
    Violation,
}

/// `[project]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Project {
    /// The project's name.
    pub name: String,
    /// Golden files, relative to the manifest (default `snapshots`).
    pub snapshots: PathBuf,
    /// Run archive, relative to the manifest (default `.toron`).
    pub archive: PathBuf,
    /// Reports root, relative to the manifest (default `reports`).
    pub reports: PathBuf,
    /// Cases run in parallel (`None`: the number of cores).
    pub jobs: Option<usize>,
    /// The warroom (incidents, rollbacks, postmortems), relative to the manifest (default `warroom`).
    pub warroom: PathBuf,
}

/// `[pii]`: how the runs of this manifest scrub PII and secrets from what they write (case outputs, captured
/// output, goldens, reports, events). Scrubbing is on by default with every detector; `kinds = []` turns it
/// off.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PiiSettings {
    /// The detectors to run, by name (`None`: all of them).
    pub kinds: Option<Vec<String>>,
    /// Patterns of values that are test data, never reported (`*@example.com`).
    pub allow: Vec<String>,
    /// A finding fails its case and quarantines the artifact instead of redacting it (`PII_STRICT=1` also).
    pub strict: bool,
    /// The environment variable holding the placeholder key (`None`: the archive's own key).
    pub key_env: Option<String>,
}

/// `[[dataset]]`: a synthetic data set a run generates once, for the cases that name it.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetSpec {
    /// The name cases use (`dataset = "customers"`), and the `TORON_DATASET_<NAME>` variable's.
    pub name: String,
    /// The schema file, relative to the manifest.
    pub schema: PathBuf,
    /// The seed (`None`: the run's seed, else 0).
    pub seed: Option<u64>,
    /// `jsonl` (default), `csv` or `json`.
    pub format: String,
}

/// `[warroom]`: what a run's verdict does in the warroom.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WarroomSettings {
    /// `"no-go"`: a NO-GO run opens an incident (or joins the open one with its dedup key); `None`: never.
    pub open_on: Option<String>,
    /// A GO run of the same profile resolves the incidents it turns green.
    pub auto_resolve: bool,
    /// The dedup key of incidents runs open (`None`: the profile and the failing rules).
    pub dedup_key: Option<String>,
}

/// `[defaults]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Defaults {
    /// Per attempt of a case (default 10m).
    pub timeout: Duration,
    /// Extra attempts after a failure (default 0).
    pub retries: u32,
    /// A run still scheduled after this is errored (default 60s).
    pub schedule_timeout: Duration,
}

impl Default for Defaults {
    fn default() -> Self {
        Defaults {
            timeout: Duration(600_000_000_000),
            retries: 0,
            schedule_timeout: Duration(60_000_000_000),
        }
    }
}

/// One `[[suite.case]]`.
#[derive(Debug, Clone)]
pub struct Case {
    /// The case's name, unique in its suite.
    pub name: String,
    /// What it does.
    pub kind: CaseKind,
    /// The scenario file as written (relative to the manifest).
    pub scenario_file: Option<PathBuf>,
    /// The scenario, read and validated with the manifest.
    pub scenario: Option<Scenario>,
    /// Seeds (`seed = 7` is `[7]`); empty: `SIM_SEED`, else 0.
    pub seeds: Vec<u64>,
    /// Compare the output with `snapshots/<suite>/<case>.json`.
    pub golden: bool,
    /// How to compare with the golden.
    pub diff: DiffOptions,
    /// What a simulation must find.
    pub expect: Expect,
    /// A command's argv.
    pub argv: Vec<String>,
    /// A command's extra environment.
    pub env: BTreeMap<String, String>,
    /// Per attempt (`None`: the defaults').
    pub timeout: Option<Duration>,
    /// Extra attempts (`None`: the defaults').
    pub retries: Option<u32>,
    /// Coverage files a command writes (Cobertura or lcov), relative to the manifest.
    pub coverage: Vec<PathBuf>,
    /// JSON files a command writes, kept in the archive.
    pub artifacts: Vec<PathBuf>,
    /// Determinism: repeats per seed and thread count (default 2).
    pub repeats: u32,
    /// Determinism: thread counts (default `[1]`).
    pub threads: Vec<usize>,
    /// Determinism: separate processes (default 1).
    pub processes: u32,
    /// The `[[dataset]]`s the case uses, by name (a command gets `TORON_DATASET_<NAME>`).
    pub datasets: Vec<String>,
    /// The line of the case in the manifest.
    pub line: Option<usize>,
}

/// One `[[suite]]`.
#[derive(Debug, Clone)]
pub struct Suite {
    /// The suite's name, unique in the manifest.
    pub name: String,
    /// Its cases, in manifest order.
    pub cases: Vec<Case>,
}

/// A parsed and checked `testops.toml`.
#[derive(Debug, Clone)]
pub struct Manifest {
    file: Option<PathBuf>,
    root: PathBuf,
    /// `[project]`.
    pub project: Project,
    /// `[defaults]`.
    pub defaults: Defaults,
    /// Profile name → suite names, in order.
    pub profiles: BTreeMap<String, Vec<String>>,
    /// The suites, in manifest order.
    pub suites: Vec<Suite>,
    /// The gates (the defaults when the manifest has none).
    pub gates: Vec<Gate>,
    /// `[pii]`.
    pub pii: PiiSettings,
    /// `[[dataset]]`, in manifest order.
    pub datasets: Vec<DatasetSpec>,
    /// `[warroom]`.
    pub warroom: WarroomSettings,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    #[serde(default)]
    project: RawProject,
    #[serde(default)]
    defaults: RawDefaults,
    #[serde(default)]
    profiles: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    suite: Vec<RawSuite>,
    #[serde(default)]
    gate: Vec<RawGate>,
    #[serde(default)]
    pii: RawPii,
    #[serde(default)]
    dataset: Vec<RawDataset>,
    #[serde(default)]
    warroom: RawWarroom,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawPii {
    kinds: Option<Vec<String>>,
    allow: Option<Vec<String>>,
    strict: Option<bool>,
    key_env: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDataset {
    name: String,
    schema: PathBuf,
    seed: Option<u64>,
    format: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawWarroom {
    open_on: Option<String>,
    auto_resolve: Option<bool>,
    dedup_key: Option<String>,
}

/// A name or a list of names (`dataset = "a"` or `dataset = ["a", "b"]`).
#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawProject {
    name: Option<String>,
    snapshots: Option<PathBuf>,
    archive: Option<PathBuf>,
    reports: Option<PathBuf>,
    jobs: Option<usize>,
    warroom: Option<PathBuf>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDefaults {
    timeout: Option<Duration>,
    retries: Option<u32>,
    schedule_timeout: Option<Duration>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSuite {
    name: String,
    #[serde(default)]
    case: Vec<RawCase>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCase {
    name: String,
    kind: CaseKind,
    scenario: Option<PathBuf>,
    seed: Option<u64>,
    seeds: Option<Vec<u64>>,
    golden: Option<bool>,
    diff: Option<Value>,
    expect: Option<Expect>,
    argv: Option<Vec<String>>,
    env: Option<BTreeMap<String, String>>,
    timeout: Option<Duration>,
    retries: Option<u32>,
    coverage: Option<Vec<PathBuf>>,
    artifacts: Option<Vec<PathBuf>>,
    repeats: Option<u32>,
    threads: Option<Vec<usize>>,
    processes: Option<u32>,
    dataset: Option<OneOrMany>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGate {
    rule: String,
    scope: Option<String>,
    baseline: Option<String>,
    severity: Option<Severity>,
}

/// Where errors point: the file and the pointer → line table.
struct Source<'a> {
    file: Option<&'a Path>,
    text: &'a str,
    /// The elements of arrays of tables (each case's line).
    locations: Locations,
    /// Every key's location, found when an error needs it.
    all_locations: std::cell::OnceCell<Locations>,
    /// Scenario files read so far: many cases often share one (read and validated once).
    scenarios: std::cell::RefCell<BTreeMap<PathBuf, Scenario>>,
}

impl Source<'_> {
    fn error(&self, path: &FieldPath, message: impl Into<String>) -> Error {
        let pointer = path.pointer();
        let mut err = Error::new(ErrorKind::Manifest, message).with_path(pointer.clone());
        let dotted = path.dotted();
        if !dotted.is_empty() {
            err = err.with_field(dotted);
        }
        if let Some(f) = self.file {
            err = err.with_file(f);
        }
        let all = self
            .all_locations
            .get_or_init(|| locate::toml_to_json(self.text).map(|(_, l)| l).unwrap_or_default());
        if let Some((l, c)) = all.find(&pointer) {
            err = err.with_line(l, Some(c));
        }
        err
    }
}

/// A name usable as a path segment of goldens and archive cases.
fn check_name(name: &str) -> std::result::Result<(), String> {
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && name.len() <= 200
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid name {name:?} (expected letters, digits, `_`, `-` or `.`, not starting with `.`)"
        ))
    }
}

impl Manifest {
    /// Read a manifest file; relative paths in it are relative to its directory.
    ///
    /// ```no_run
    /// let m = toron_core::runner::Manifest::from_path("testops.toml")?;
    /// println!("{} suites", m.suites.len());
    /// # Ok::<(), toron_core::Error>(())
    /// ```
    pub fn from_path(path: impl AsRef<Path>) -> Result<Manifest> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::read(&e, path))?;
        let root = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        Manifest::parse(&text, &root, Some(path))
    }

    /// Parse manifest text; relative paths in it are relative to `root`.
    ///
    /// ```
    /// use toron_core::runner::Manifest;
    /// let m = Manifest::from_str(r#"
    ///     [profiles]
    ///     quick = ["unit"]
    ///     [[suite]]
    ///     name = "unit"
    ///     [[suite.case]]
    ///     name = "true"
    ///     kind = "command"
    ///     argv = ["true"]
    /// "#, ".")?;
    /// assert_eq!(m.profile_suites(Some("quick"))?[0].name, "unit");
    /// // The defaults (determinism >= 98%, coverage >= 90%), then the case rules (failed == 0, errored == 0).
    /// assert_eq!(m.gates.len(), 4);
    /// let err = Manifest::from_str("[[suite]]\nname = \"x\"\nflavour = 1\n", ".").unwrap_err();
    /// assert_eq!((err.line(), err.field()), (Some(3), Some("suite[0].flavour")));
    /// # Ok::<(), toron_core::Error>(())
    /// ```
    #[allow(clippy::should_implement_trait, reason = "takes a root directory, unlike FromStr")]
    pub fn from_str(text: &str, root: impl AsRef<Path>) -> Result<Manifest> {
        Manifest::parse(text, root.as_ref(), None)
    }

    /// The manifest file, if read from one.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// The directory relative paths are resolved against.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `path` resolved against the manifest's directory.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.root.join(path)
        }
    }

    /// The suite named `name`.
    pub fn suite(&self, name: &str) -> Option<&Suite> {
        self.suites.iter().find(|s| s.name == name)
    }

    /// The suites of `profile`, in the profile's order; `None`: every suite in manifest order.
    pub fn profile_suites(&self, profile: Option<&str>) -> Result<Vec<&Suite>> {
        let Some(name) = profile else {
            return Ok(self.suites.iter().collect());
        };
        let names = self.profiles.get(name).ok_or_else(|| {
            let known: Vec<&str> = self.profiles.keys().map(String::as_str).collect();
            let expected = if known.is_empty() {
                "the manifest defines no [profiles]: run every suite, or name suites".to_string()
            } else {
                format!("expected one of: {}", known.join(", "))
            };
            Error::new(
                ErrorKind::InvalidArgument,
                format!("unknown profile {name:?} ({expected})"),
            )
            .with_field("profile")
        })?;
        // Checked when the manifest was read: every name is a suite.
        Ok(names.iter().filter_map(|n| self.suite(n)).collect())
    }

    /// The suites to run: `suites` if given (each must exist), else the profile's.
    pub fn select(&self, profile: Option<&str>, suites: &[String]) -> Result<Vec<&Suite>> {
        if suites.is_empty() {
            return self.profile_suites(profile);
        }
        let mut out = Vec::new();
        for name in suites {
            let s = self.suite(name).ok_or_else(|| {
                let known: Vec<&str> = self.suites.iter().map(|s| s.name.as_str()).collect();
                Error::new(
                    ErrorKind::InvalidArgument,
                    format!("unknown suite {name:?} (expected one of: {})", known.join(", ")),
                )
                .with_field("suites")
            })?;
            if !out.iter().any(|o: &&Suite| o.name == s.name) {
                out.push(s);
            }
        }
        Ok(out)
    }

    fn parse(text: &str, root: &Path, file: Option<&Path>) -> Result<Manifest> {
        match Self::parse_fast(text, root, file) {
            Some(m) => Ok(m),
            None => Self::parse_located(text, root, file),
        }
    }

    /// A manifest that is valid, read straight from `toml`'s parse into the raw manifest: a thousand-case
    /// manifest is parsed before every run, and this is about twice as fast as [`Manifest::parse_located`]. `None`
    /// on any error: the located parse then says what and where.
    fn parse_fast(text: &str, root: &Path, file: Option<&Path>) -> Option<Manifest> {
        use serde::Deserialize;
        // A NaN or infinity becomes a JSON null on this path; the located one refuses it.
        if text.contains("nan") || text.contains("inf") {
            return None;
        }
        let doc = toml::de::DeTable::parse(text).ok()?;
        let locations = locate::table_array_locations(doc.get_ref(), text);
        let raw = RawManifest::deserialize(toml::de::Deserializer::from(doc)).ok()?;
        let src = Source {
            file,
            text,
            locations,
            all_locations: Default::default(),
            scenarios: Default::default(),
        };
        Manifest::build(raw, root, file, &src).ok()
    }

    /// The manifest through the JSON value the scenario files also go through, which knows every key's
    /// location: its errors name the file, line, field and JSON path.
    fn parse_located(text: &str, root: &Path, file: Option<&Path>) -> Result<Manifest> {
        let (value, locations) = locate::toml_to_json_with(text, false)
            .or_else(|_| locate::toml_to_json(text))
            .map_err(|e| {
                let mut m = Error::new(ErrorKind::Manifest, e.message());
                if let Some(l) = e.line() {
                    m = m.with_line(l, e.column());
                }
                match file {
                    Some(f) => m.with_file(f),
                    None => m,
                }
            })?;
        let src = Source {
            file,
            text,
            locations,
            all_locations: Default::default(),
            scenarios: Default::default(),
        };
        let top = FieldPath::default();
        let raw: RawManifest = typed(&value, &top).map_err(|(p, m)| src.error(&p, m))?;
        Manifest::build(raw, root, file, &src)
    }

    fn build(raw: RawManifest, root: &Path, file: Option<&Path>, src: &Source<'_>) -> Result<Manifest> {
        let top = FieldPath::default();
        let project = Project {
            name: raw.project.name.unwrap_or_default(),
            snapshots: raw.project.snapshots.unwrap_or_else(|| "snapshots".into()),
            archive: raw.project.archive.unwrap_or_else(|| ".toron".into()),
            reports: raw.project.reports.unwrap_or_else(|| "reports".into()),
            jobs: raw.project.jobs,
            warroom: raw.project.warroom.unwrap_or_else(|| "warroom".into()),
        };
        if project.jobs == Some(0) {
            return Err(src.error(
                &top.key("project").key("jobs"),
                "jobs is 0 (expected a positive number, or no jobs for the number of cores)",
            ));
        }
        let d = Defaults::default();
        let defaults = Defaults {
            timeout: raw.defaults.timeout.unwrap_or(d.timeout),
            retries: raw.defaults.retries.unwrap_or(d.retries),
            schedule_timeout: raw.defaults.schedule_timeout.unwrap_or(d.schedule_timeout),
        };

        let datasets = build_datasets(raw.dataset, root, src)?;
        let dataset_names: Vec<&str> = datasets.iter().map(|d| d.name.as_str()).collect();

        let mut suites = Vec::with_capacity(raw.suite.len());
        let mut suite_names = BTreeSet::new();
        for (si, rs) in raw.suite.into_iter().enumerate() {
            let sp = top.key("suite").index(si);
            check_name(&rs.name).map_err(|m| src.error(&sp.key("name"), format!("suite {m}")))?;
            if !suite_names.insert(rs.name.clone()) {
                return Err(src.error(
                    &sp.key("name"),
                    format!("duplicate suite name {:?} (expected each suite once)", rs.name),
                ));
            }
            if rs.case.is_empty() {
                return Err(src.error(
                    &sp,
                    format!(
                        "suite {:?} has no cases (expected at least one [[suite.case]])",
                        rs.name
                    ),
                ));
            }
            let mut cases = Vec::with_capacity(rs.case.len());
            let mut case_names = BTreeSet::new();
            for (ci, rc) in rs.case.into_iter().enumerate() {
                let cp = sp.key("case").index(ci);
                if !case_names.insert(rc.name.clone()) {
                    return Err(src.error(
                        &cp.key("name"),
                        format!(
                            "duplicate case name {:?} in suite {:?} (expected each case name once per suite)",
                            rc.name, rs.name
                        ),
                    ));
                }
                cases.push(build_case(rc, &cp, root, src, &dataset_names)?);
            }
            suites.push(Suite { name: rs.name, cases });
        }

        for (name, list) in &raw.profiles {
            let pp = top.key("profiles").key(name);
            check_name(name).map_err(|m| src.error(&pp, format!("profile {m}")))?;
            if list.is_empty() {
                return Err(src.error(
                    &pp,
                    format!("profile {name:?} names no suite (expected a list of suites)"),
                ));
            }
            for (i, s) in list.iter().enumerate() {
                if !suite_names.contains(s) {
                    let known: Vec<&str> = suite_names.iter().map(String::as_str).collect();
                    return Err(src.error(
                        &pp.index(i),
                        format!(
                            "profile {name:?} names suite {s:?}, which the manifest does not define (expected one of: {})",
                            known.join(", ")
                        ),
                    ));
                }
            }
        }

        let mut gates = Vec::with_capacity(raw.gate.len());
        for (gi, rg) in raw.gate.into_iter().enumerate() {
            let gp = top.key("gate").index(gi);
            let rule = Rule::parse(&rg.rule).map_err(|m| src.error(&gp.key("rule"), m))?;
            let scope = match &rg.scope {
                None => Scope::Run,
                Some(s) => {
                    let scope = Scope::parse(s).map_err(|m| src.error(&gp.key("scope"), m))?;
                    check_scope(&scope, &suites).map_err(|m| src.error(&gp.key("scope"), m))?;
                    scope
                }
            };
            let is_baseline = matches!(rule.threshold(), crate::gate::Threshold::Baseline { .. });
            if rg.baseline.is_some() && !is_baseline {
                return Err(src.error(
                    &gp.key("baseline"),
                    "baseline is set but the rule does not use it (expected a rule like `latency.p99 <= baseline * 1.10`)",
                ));
            }
            if let Some(b) = &rg.baseline {
                if b != "last-go" && !b.starts_with("run-") {
                    return Err(src.error(
                        &gp.key("baseline"),
                        format!("baseline {b:?} is not a run id (expected `last-go` or a run id like run-2.5.0-20261125T101530Z)"),
                    ));
                }
            }
            gates.push(Gate {
                rule,
                scope,
                severity: rg.severity.unwrap_or_default(),
                baseline: if is_baseline {
                    Some(rg.baseline.unwrap_or_else(|| "last-go".into()))
                } else {
                    None
                },
                default: false,
            });
        }
        if gates.is_empty() {
            gates = Gate::defaults();
        }
        let gates = Gate::with_case_rules(gates);
        for (i, k) in raw.pii.kinds.iter().flatten().enumerate() {
            if crate::pii::Kind::parse(k).is_none() {
                let names: Vec<&str> = crate::pii::Kind::ALL.iter().map(|k| k.name()).collect();
                return Err(src.error(
                    &top.key("pii").key("kinds").index(i),
                    format!("unknown kind {k:?} (expected one of: {})", names.join(", ")),
                ));
            }
        }
        for (i, p) in raw.pii.allow.iter().flatten().enumerate() {
            if p.is_empty() {
                return Err(src.error(
                    &top.key("pii").key("allow").index(i),
                    "empty allow pattern (expected a glob such as \"*@example.com\")",
                ));
            }
        }
        let pii = PiiSettings {
            kinds: raw.pii.kinds,
            allow: raw.pii.allow.unwrap_or_default(),
            strict: raw.pii.strict.unwrap_or(false),
            key_env: raw.pii.key_env,
        };
        let warroom = WarroomSettings {
            open_on: match raw.warroom.open_on.as_deref() {
                None | Some("never") => None,
                Some("no-go") => Some("no-go".to_string()),
                Some(other) => {
                    return Err(src.error(
                        &top.key("warroom").key("open_on"),
                        format!("open_on {other:?} is not a condition (expected \"no-go\" or \"never\")"),
                    ))
                }
            },
            auto_resolve: raw.warroom.auto_resolve.unwrap_or(false),
            dedup_key: raw.warroom.dedup_key,
        };

        Ok(Manifest {
            file: file.map(Path::to_path_buf),
            root: root.to_path_buf(),
            project,
            defaults,
            profiles: raw.profiles,
            suites,
            gates,
            pii,
            datasets,
            warroom,
        })
    }
}

/// The `[[dataset]]`s: unique names usable in an environment variable's name, schema files that exist, a
/// known format.
fn build_datasets(raw: Vec<RawDataset>, root: &Path, src: &Source<'_>) -> Result<Vec<DatasetSpec>> {
    let top = FieldPath::default();
    let mut out: Vec<DatasetSpec> = Vec::with_capacity(raw.len());
    for (i, rd) in raw.into_iter().enumerate() {
        let dp = top.key("dataset").index(i);
        check_name(&rd.name).map_err(|m| src.error(&dp.key("name"), format!("dataset {m}")))?;
        if out.iter().any(|d| d.name == rd.name) {
            return Err(src.error(
                &dp.key("name"),
                format!("duplicate dataset name {:?} (expected each data set once)", rd.name),
            ));
        }
        let full = if rd.schema.is_absolute() {
            rd.schema.clone()
        } else {
            root.join(&rd.schema)
        };
        if !full.is_file() {
            return Err(src.error(
                &dp.key("schema"),
                format!(
                    "schema file {} not found (looked for {}; expected a path relative to the manifest)",
                    rd.schema.display(),
                    full.display()
                ),
            ));
        }
        let format = rd.format.unwrap_or_else(|| "jsonl".to_string());
        if !DATASET_FORMATS.contains(&format.as_str()) {
            return Err(src.error(
                &dp.key("format"),
                format!(
                    "format {format:?} is not a data set format (expected one of: {})",
                    DATASET_FORMATS.join(", ")
                ),
            ));
        }
        out.push(DatasetSpec {
            name: rd.name,
            schema: rd.schema,
            seed: rd.seed,
            format,
        });
    }
    Ok(out)
}

/// The formats a `[[dataset]]` is written in.
const DATASET_FORMATS: &[&str] = &["jsonl", "csv", "json"];

fn check_scope(scope: &Scope, suites: &[Suite]) -> std::result::Result<(), String> {
    let (suite, case) = match scope {
        Scope::Run => return Ok(()),
        Scope::Suite(s) => (s, None),
        Scope::Case { suite, case } => (suite, Some(case)),
    };
    let Some(s) = suites.iter().find(|s| &s.name == suite) else {
        let known: Vec<&str> = suites.iter().map(|s| s.name.as_str()).collect();
        return Err(format!(
            "scope names suite {suite:?}, which the manifest does not define (expected one of: {})",
            known.join(", ")
        ));
    };
    if let Some(c) = case {
        if !s.cases.iter().any(|x| &x.name == c) {
            let known: Vec<&str> = s.cases.iter().map(|c| c.name.as_str()).collect();
            return Err(format!(
                "scope names case {c:?}, which suite {suite:?} does not have (expected one of: {})",
                known.join(", ")
            ));
        }
    }
    Ok(())
}

fn build_case(rc: RawCase, cp: &FieldPath, root: &Path, src: &Source<'_>, datasets: &[&str]) -> Result<Case> {
    let kind = rc.kind;
    let kname = kind.name();
    check_name(&rc.name).map_err(|m| src.error(&cp.key("name"), format!("case {m}")))?;
    // Fields that do not apply to the kind are mistakes, not silently ignored.
    let applies: &[(&str, bool, &[CaseKind])] = &[
        (
            "scenario",
            rc.scenario.is_some(),
            &[CaseKind::Sim, CaseKind::Chaos, CaseKind::Load, CaseKind::Determinism],
        ),
        (
            "seed",
            rc.seed.is_some(),
            &[CaseKind::Sim, CaseKind::Chaos, CaseKind::Load, CaseKind::Determinism],
        ),
        (
            "seeds",
            rc.seeds.is_some(),
            &[CaseKind::Sim, CaseKind::Chaos, CaseKind::Load, CaseKind::Determinism],
        ),
        (
            "expect",
            rc.expect.is_some(),
            &[CaseKind::Sim, CaseKind::Chaos, CaseKind::Load],
        ),
        ("argv", rc.argv.is_some(), &[CaseKind::Command, CaseKind::Determinism]),
        ("env", rc.env.is_some(), &[CaseKind::Command, CaseKind::Determinism]),
        ("coverage", rc.coverage.is_some(), &[CaseKind::Command]),
        (
            "artifacts",
            rc.artifacts.is_some(),
            &[CaseKind::Command, CaseKind::Determinism],
        ),
        ("repeats", rc.repeats.is_some(), &[CaseKind::Determinism]),
        ("threads", rc.threads.is_some(), &[CaseKind::Determinism]),
        ("processes", rc.processes.is_some(), &[CaseKind::Determinism]),
        (
            "dataset",
            rc.dataset.is_some(),
            &[CaseKind::Command, CaseKind::Determinism],
        ),
        (
            "golden",
            rc.golden.is_some(),
            &[CaseKind::Sim, CaseKind::Chaos, CaseKind::Load, CaseKind::Command],
        ),
        (
            "diff",
            rc.diff.is_some(),
            &[CaseKind::Sim, CaseKind::Chaos, CaseKind::Load, CaseKind::Command],
        ),
    ];
    for (field, present, kinds) in applies {
        if *present && !kinds.contains(&kind) {
            let names: Vec<&str> = kinds.iter().map(|k| k.name()).collect();
            return Err(src.error(
                &cp.key(field),
                format!(
                    "{field} does not apply to a {kname} case (expected only in: {})",
                    names.join(", ")
                ),
            ));
        }
    }
    if rc.seed.is_some() && rc.seeds.is_some() {
        return Err(src.error(&cp.key("seed"), "both seed and seeds are set (expected one of them)"));
    }
    let seeds = rc.seeds.unwrap_or_else(|| rc.seed.into_iter().collect());
    let argv = rc.argv.unwrap_or_default();
    let artifacts = rc.artifacts.unwrap_or_default();
    match kind {
        CaseKind::Command if argv.is_empty() => {
            return Err(src.error(
                &cp.key("argv"),
                "a command case needs argv (expected e.g. argv = [\"pytest\", \"-q\"])",
            ));
        }
        CaseKind::Sim | CaseKind::Chaos | CaseKind::Load if rc.scenario.is_none() => {
            return Err(src.error(
                &cp.key("scenario"),
                format!("a {kname} case needs a scenario (expected scenario = \"scenarios/<name>.toml\")"),
            ));
        }
        CaseKind::Determinism => {
            let command = !argv.is_empty();
            if command == rc.scenario.is_some() {
                return Err(src.error(
                    &cp.key("scenario"),
                    "a determinism case repeats either a scenario or a command with artifacts (expected exactly one of scenario, argv)",
                ));
            }
            if command && artifacts.is_empty() {
                return Err(src.error(
                    &cp.key("artifacts"),
                    "a determinism command needs artifacts to compare (expected e.g. artifacts = [\"out/result.json\"])",
                ));
            }
        }
        _ => {}
    }
    if let Some(ref t) = rc.threads {
        if t.is_empty() || t.contains(&0) {
            return Err(src.error(
                &cp.key("threads"),
                "threads must be positive counts (expected e.g. [1, 2])",
            ));
        }
    }
    if rc.repeats == Some(0) || rc.processes == Some(0) {
        let f = if rc.repeats == Some(0) { "repeats" } else { "processes" };
        return Err(src.error(&cp.key(f), format!("{f} is 0 (expected a positive number)")));
    }
    let diff = match &rc.diff {
        None => DiffOptions::default(),
        Some(v) => DiffOptions::from_json(v).map_err(|e| {
            let p = match e.field() {
                Some(f) => cp.key("diff").key(f.split(['[', '.']).next().unwrap_or(f)),
                None => cp.key("diff"),
            };
            src.error(&p, e.message().to_string())
        })?,
    };
    let scenario = match &rc.scenario {
        None => None,
        Some(rel) => {
            let full = if rel.is_absolute() { rel.clone() } else { root.join(rel) };
            // A file already read for another case is not looked up again.
            if !src.scenarios.borrow().contains_key(&full) && !full.is_file() {
                return Err(src.error(
                    &cp.key("scenario"),
                    format!(
                        "scenario file {} not found (looked for {}; expected a path relative to the manifest)",
                        rel.display(),
                        full.display()
                    ),
                ));
            }
            let known = src.scenarios.borrow().get(&full).cloned();
            match known {
                Some(s) => Some(s),
                None => {
                    let s = Scenario::from_path(&full)?;
                    src.scenarios.borrow_mut().insert(full, s.clone());
                    Some(s)
                }
            }
        }
    };
    let named = match rc.dataset {
        None => Vec::new(),
        Some(OneOrMany::One(n)) => vec![n],
        Some(OneOrMany::Many(v)) => v,
    };
    for (i, n) in named.iter().enumerate() {
        if !datasets.contains(&n.as_str()) {
            let field = if named.len() == 1 {
                cp.key("dataset")
            } else {
                cp.key("dataset").index(i)
            };
            let expected = if datasets.is_empty() {
                "the manifest declares no [[dataset]]".to_string()
            } else {
                format!("expected one of: {}", datasets.join(", "))
            };
            return Err(src.error(&field, format!("unknown dataset {n:?} ({expected})")));
        }
    }
    let line = src.locations.find(&cp.pointer()).map(|(l, _)| l);
    Ok(Case {
        name: rc.name,
        kind,
        scenario_file: rc.scenario,
        scenario,
        seeds,
        golden: rc.golden.unwrap_or(false),
        diff,
        expect: rc.expect.unwrap_or_default(),
        argv,
        env: rc.env.unwrap_or_default(),
        timeout: rc.timeout,
        retries: rc.retries,
        coverage: rc.coverage.unwrap_or_default(),
        artifacts,
        repeats: rc.repeats.unwrap_or(2),
        threads: rc.threads.unwrap_or_else(|| vec![1]),
        processes: rc.processes.unwrap_or(1),
        datasets: named,
        line,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_fast_parse_reads_what_the_located_parse_reads() {
        let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let extra = "\n[[suite]]\nname = \"inline\"\ncase = [{ name = \"i\", kind = \"command\", argv = [\"true\"] }]\n\
                     [[ suite ]] # spaced headers\nname = \"spaced\"\n  [[ suite.case ]]\nname = \"s\"\nkind = \"command\"\n\
                     argv = [\"true\"]\ntimeout = \"2s\"\n";
        for rel in [
            "testops.toml",
            "examples/testops/testops.toml",
            "tests/fixtures/runner/run/testops.toml",
        ] {
            let path = repo.join(rel);
            let root = path.parent().unwrap();
            let text = std::fs::read_to_string(&path).unwrap() + extra;
            let fast = Manifest::parse_fast(&text, root, Some(&path)).expect(rel);
            let located = Manifest::parse_located(&text, root, Some(&path)).unwrap();
            assert_eq!(format!("{fast:?}"), format!("{located:?}"), "{rel}");
            assert!(
                fast.suites.iter().flat_map(|s| &s.cases).all(|c| c.line.is_some()),
                "{rel}"
            );
        }
    }

    #[test]
    fn what_the_fast_parse_refuses_the_located_parse_explains() {
        let dir = std::path::Path::new("/nonexistent");
        for text in [
            "[[suite]]\nname = \"a\"\n[[suite.case]]\nname = \"c\"\nkind = \"command\"\nargv = [\"x\"]\ncolour = 1\n",
            "[[suite]]\nname = \"a\"\n[[suite.case]]\nname = \"c\"\nkind = \"sim\"\nscenario = \"missing.toml\"\n",
            "[[suite]]\nname = \"a\"\n[[suite.case]]\nname = \"c\"\nkind = \"command\"\nargv = [\"x\"]\n\
             diff = { tolerance = nan }\n",
        ] {
            assert!(Manifest::parse_fast(text, dir, None).is_none(), "{text}");
            let e = Manifest::parse(text, dir, None).unwrap_err();
            assert!(e.line().is_some(), "{e}");
        }
    }

    use super::*;
    use crate::gate::{Metric, Threshold};

    const SCENARIO: &str = "name = \"e\"\nstop = { requests = 10 }\n[[node]]\nid = \"server\"\nmodel = \"echo\"\n\
                            [load]\nmode = \"closed\"\nclients = 1\ntarget = \"server\"\n";

    fn dir() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("scenarios")).unwrap();
        std::fs::write(d.path().join("scenarios/e.toml"), SCENARIO).unwrap();
        d
    }

    fn base(extra: &str) -> String {
        format!(
            "[[suite]]\nname = \"sim\"\n[[suite.case]]\nname = \"e\"\nkind = \"sim\"\nscenario = \"scenarios/e.toml\"\n{extra}"
        )
    }

    /// Write `text` as testops.toml and read it, expecting a manifest error; returns it.
    fn bad(text: &str) -> Error {
        let d = dir();
        let path = d.path().join("testops.toml");
        std::fs::write(&path, text).unwrap();
        let e = Manifest::from_path(&path).expect_err(text);
        assert_eq!(e.kind(), ErrorKind::Manifest, "{e}");
        assert_eq!(e.file(), Some(path.as_path()), "{e}");
        e
    }

    #[test]
    fn a_full_manifest_reads() {
        let d = dir();
        let text = base("seeds = [1, 2]\ngolden = true\nexpect = \"violation\"\n")
            + "[[suite]]\nname = \"unit\"\n[[suite.case]]\nname = \"u\"\nkind = \"command\"\nargv = [\"true\"]\n\
               env = { A = \"1\" }\ncoverage = [\"coverage.xml\"]\nretries = 2\n\
               [profiles]\nquick = [\"unit\", \"sim\"]\n\
               [[gate]]\nrule = \"pass_rate >= 100%\"\nscope = \"unit/u\"\nseverity = \"warn\"\n";
        let m = Manifest::from_str(&text, d.path()).unwrap();
        assert_eq!(m.project.snapshots, PathBuf::from("snapshots"));
        assert_eq!(m.project.archive, PathBuf::from(".toron"));
        assert_eq!(m.defaults, Defaults::default());
        let e = &m.suites[0].cases[0];
        assert_eq!(
            (e.kind, e.seeds.as_slice(), e.golden, e.expect),
            (CaseKind::Sim, &[1u64, 2][..], true, Expect::Violation)
        );
        assert_eq!(e.scenario.as_ref().map(|s| s.name()), Some("e"));
        assert_eq!(e.line, Some(3));
        let u = &m.suites[1].cases[0];
        assert_eq!((u.argv.as_slice(), u.retries), (&["true".to_string()][..], Some(2)));
        let names: Vec<_> = m
            .profile_suites(Some("quick"))
            .unwrap()
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        assert_eq!(names, ["unit", "sim"]);
        // The manifest's rule, then the case rules (its rule is on one case, so both are added).
        assert_eq!(m.gates.len(), 3);
        assert!(m.gates[1].default && m.gates[2].default);
        assert_eq!(m.gates[0].severity, Severity::Warn);
        assert_eq!(m.gates[0].scope, Scope::parse("unit/u").unwrap());
        assert!(!m.gates[0].default);
    }

    #[test]
    fn defaults_gates_apply_without_gates() {
        let d = dir();
        let m = Manifest::from_str(&base(""), d.path()).unwrap();
        let rules: Vec<_> = m.gates.iter().map(|g| (g.rule.text().to_string(), g.default)).collect();
        assert_eq!(
            rules,
            [
                ("determinism >= 98%".to_string(), true),
                ("coverage >= 90%".to_string(), true),
                ("failed == 0".to_string(), true),
                ("errored == 0".to_string(), true)
            ]
        );
    }

    #[test]
    fn baseline_rules_default_to_last_go() {
        let d = dir();
        let m = Manifest::from_str(
            &(base("") + "[[gate]]\nrule = \"throughput >= baseline * 0.9\"\n"),
            d.path(),
        )
        .unwrap();
        assert_eq!(m.gates[0].baseline.as_deref(), Some("last-go"));
        assert_eq!(m.gates[0].rule.metric(), Metric::Throughput);
        assert_eq!(m.gates[0].rule.threshold(), Threshold::Baseline { factor: 0.9 });
    }

    #[test]
    fn unknown_field_names_file_line_and_field() {
        let e = bad(&base("seedz = [1]\n"));
        assert_eq!(e.line(), Some(7));
        assert_eq!(e.field(), Some("suite[0].case[0].seedz"));
        assert!(e.message().contains("unknown field `seedz`, expected one of"), "{e}");
        let e = bad("[project]\nname = \"x\"\nnmae = 1\n");
        assert_eq!((e.line(), e.field()), (Some(3), Some("project.nmae")));
        let e = bad("[defaults]\ntimeout = \"10 parsecs\"\n");
        assert_eq!((e.line(), e.field()), (Some(2), Some("defaults.timeout")));
    }

    #[test]
    fn unknown_kind_lists_the_kinds() {
        let e = bad(&base("").replace("kind = \"sim\"", "kind = \"smoke\""));
        assert_eq!((e.line(), e.field()), (Some(5), Some("suite[0].case[0].kind")));
        assert!(
            e.message()
                .contains("unknown variant `smoke`, expected one of `sim`, `chaos`, `load`, `determinism`, `command`"),
            "{e}"
        );
    }

    #[test]
    fn unknown_metric_and_bad_rules() {
        let e = bad(&(base("") + "[[gate]]\nrule = \"coverge >= 90%\"\n"));
        assert_eq!((e.line(), e.field()), (Some(8), Some("gate[0].rule")));
        assert!(
            e.message()
                .contains("unknown metric \"coverge\" (expected one of: determinism, coverage"),
            "{e}"
        );
        let e = bad(&(base("") + "[[gate]]\nrule = \"coverage 90%\"\n"));
        assert!(e.message().contains("no comparator"), "{e}");
        let e = bad(&(base("") + "[[gate]]\nrule = \"failed == 0\"\nseverity = \"fatal\"\n"));
        assert_eq!(e.field(), Some("gate[0].severity"));
        let e = bad(&(base("") + "[[gate]]\nrule = \"failed == 0\"\nbaseline = \"last-go\"\n"));
        assert_eq!((e.line(), e.field()), (Some(9), Some("gate[0].baseline")));
    }

    #[test]
    fn unknown_suite_in_profile_or_scope() {
        let e = bad(&(base("") + "[profiles]\noffline = [\"sim\", \"hardening\"]\n"));
        assert_eq!((e.line(), e.field()), (Some(8), Some("profiles.offline[1]")));
        assert!(
            e.message()
                .contains("names suite \"hardening\", which the manifest does not define (expected one of: sim)"),
            "{e}"
        );
        let e = bad(&(base("") + "[[gate]]\nrule = \"failed == 0\"\nscope = \"sim/nope\"\n"));
        assert_eq!((e.line(), e.field()), (Some(9), Some("gate[0].scope")));
        assert!(e.message().contains("expected one of: e"), "{e}");
    }

    #[test]
    fn duplicate_names() {
        let dup = base("") + "[[suite.case]]\nname = \"e\"\nkind = \"command\"\nargv = [\"true\"]\n";
        let e = bad(&dup);
        assert_eq!((e.line(), e.field()), (Some(8), Some("suite[0].case[1].name")));
        assert!(
            e.message().contains("duplicate case name \"e\" in suite \"sim\""),
            "{e}"
        );
        let e = bad(&(base("") + &base("")));
        assert_eq!(e.field(), Some("suite[1].name"));
        assert!(e.message().contains("duplicate suite name"), "{e}");
    }

    #[test]
    fn missing_scenario_file_is_named_relative_to_the_manifest() {
        let e = bad(&base("").replace("scenarios/e.toml", "scenarios/nope.toml"));
        assert_eq!((e.line(), e.field()), (Some(6), Some("suite[0].case[0].scenario")));
        assert!(
            e.message().starts_with("scenario file scenarios/nope.toml not found"),
            "{e}"
        );
    }

    #[test]
    fn kind_specific_fields_are_checked() {
        let e = bad(&base("argv = [\"x\"]\n"));
        assert!(e.message().contains("argv does not apply to a sim case"), "{e}");
        assert_eq!(e.line(), Some(7));
        let e = bad("[[suite]]\nname = \"u\"\n[[suite.case]]\nname = \"c\"\nkind = \"command\"\n");
        assert_eq!(e.field(), Some("suite[0].case[0].argv"));
        let e = bad("[[suite]]\nname = \"u\"\n[[suite.case]]\nname = \"c\"\nkind = \"load\"\n");
        assert!(e.message().contains("a load case needs a scenario"), "{e}");
        let e = bad(&base("seed = 1\nseeds = [2]\n"));
        assert!(e.message().contains("both seed and seeds"), "{e}");
        let e = bad("[[suite]]\nname = \"h\"\n[[suite.case]]\nname = \"d\"\nkind = \"determinism\"\nargv = [\"x\"]\n");
        assert_eq!(e.field(), Some("suite[0].case[0].artifacts"));
        let e = bad(&base("diff = { ignore = [\"meta\"] }\n"));
        assert_eq!(e.field(), Some("suite[0].case[0].diff.ignore"));
        let e = bad(&base("").replace("name = \"e\"", "name = \"a/b\""));
        assert!(e.message().contains("invalid name \"a/b\""), "{e}");
        let e = bad("[[suite]]\nname = \"empty\"\n");
        assert!(e.message().contains("has no cases"), "{e}");
    }

    #[test]
    fn toml_syntax_errors_are_manifest_errors_with_a_line() {
        let e = bad("[project\nname = 1\n");
        assert_eq!(e.line(), Some(1));
        assert!(e.message().starts_with("invalid TOML"), "{e}");
    }

    #[test]
    fn invalid_scenarios_keep_their_own_error() {
        let d = dir();
        std::fs::write(d.path().join("scenarios/e.toml"), "name = 3\n").unwrap();
        let e = Manifest::from_str(&base(""), d.path()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Scenario);
        assert!(e.file().is_some_and(|f| f.ends_with("scenarios/e.toml")), "{e}");
    }

    #[test]
    fn selection_by_profile_and_suites() {
        let d = dir();
        let text = base("")
            + "[[suite]]\nname = \"unit\"\n[[suite.case]]\nname = \"u\"\nkind = \"command\"\nargv = [\"true\"]\n\
                               [profiles]\nall = [\"unit\", \"sim\"]\n";
        let m = Manifest::from_str(&text, d.path()).unwrap();
        let names = |v: Vec<&Suite>| v.iter().map(|s| s.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(m.select(None, &[]).unwrap()), ["sim", "unit"]);
        assert_eq!(names(m.select(Some("all"), &[]).unwrap()), ["unit", "sim"]);
        assert_eq!(
            names(m.select(Some("all"), &["sim".into(), "sim".into()]).unwrap()),
            ["sim"]
        );
        let e = m.select(Some("nightly"), &[]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        assert!(
            e.message()
                .contains("unknown profile \"nightly\" (expected one of: all)"),
            "{e}"
        );
        assert!(m.select(None, &["lint".into()]).is_err());
    }

    #[test]
    fn pii_dataset_and_warroom_sections_read() {
        let d = dir();
        std::fs::write(d.path().join("people.toml"), "version = 1\n").unwrap();
        let text = base("")
            + "[[suite]]\nname = \"unit\"\n[[suite.case]]\nname = \"u\"\nkind = \"command\"\nargv = [\"true\"]\n\
               dataset = \"people\"\n[[suite.case]]\nname = \"v\"\nkind = \"command\"\nargv = [\"true\"]\n\
               dataset = [\"people\", \"more\"]\n\
               [pii]\nkinds = [\"email\", \"card\"]\nallow = [\"*@example.com\"]\nstrict = true\nkey_env = \"K\"\n\
               [[dataset]]\nname = \"people\"\nschema = \"people.toml\"\nseed = 3\n\
               [[dataset]]\nname = \"more\"\nschema = \"people.toml\"\nformat = \"csv\"\n\
               [warroom]\nopen_on = \"no-go\"\nauto_resolve = true\n";
        let m = Manifest::from_str(&text, d.path()).unwrap();
        assert_eq!(
            m.pii.kinds.as_deref(),
            Some(&["email".to_string(), "card".to_string()][..])
        );
        assert_eq!(
            (m.pii.allow.len(), m.pii.strict, m.pii.key_env.as_deref()),
            (1, true, Some("K"))
        );
        let names: Vec<_> = m
            .datasets
            .iter()
            .map(|x| (x.name.as_str(), x.seed, x.format.as_str()))
            .collect();
        assert_eq!(names, [("people", Some(3), "jsonl"), ("more", None, "csv")]);
        assert_eq!(m.suites[1].cases[0].datasets, ["people"]);
        assert_eq!(m.suites[1].cases[1].datasets, ["people", "more"]);
        assert_eq!(
            (m.warroom.open_on.as_deref(), m.warroom.auto_resolve),
            (Some("no-go"), true)
        );
        assert_eq!(m.project.warroom, Path::new("warroom"));
        // Defaults: scrub with every detector, not strict; no data sets; the warroom is never opened.
        let m = Manifest::from_str(&base(""), d.path()).unwrap();
        assert_eq!(
            (m.pii.kinds.is_none(), m.pii.strict, m.datasets.len()),
            (true, false, 0)
        );
        assert_eq!(m.warroom.open_on, None);
    }

    #[test]
    fn bad_dataset_and_warroom_sections_are_named() {
        let unit = "[[suite]]\nname = \"unit\"\n[[suite.case]]\nname = \"u\"\nkind = \"command\"\nargv = [\"true\"]\n";
        let e = bad(&(base("") + unit + "dataset = \"nope\"\n"));
        assert_eq!(e.field(), Some("suite[1].case[0].dataset"), "{e}");
        assert!(
            e.message()
                .contains("unknown dataset \"nope\" (the manifest declares no [[dataset]])"),
            "{e}"
        );
        let e = bad(&(base("") + "[[dataset]]\nname = \"p\"\nschema = \"missing.toml\"\n"));
        assert_eq!((e.field(), e.line()), (Some("dataset[0].schema"), Some(9)), "{e}");
        let e = bad(&(base("dataset = \"p\"\n")));
        assert_eq!(e.field(), Some("suite[0].case[0].dataset"), "{e}");
        assert!(e.message().contains("does not apply to a sim case"), "{e}");
        let e = bad(&(base("") + "[warroom]\nopen_on = \"always\"\n"));
        assert_eq!((e.field(), e.line()), (Some("warroom.open_on"), Some(8)), "{e}");
        let e = bad(&(base("") + "[pii]\nkinds = [\"email\", \"mail\"]\n"));
        assert_eq!((e.field(), e.line()), (Some("pii.kinds[1]"), Some(8)), "{e}");
        assert!(
            e.message()
                .starts_with("unknown kind \"mail\" (expected one of: email, phone,"),
            "{e}"
        );
        let e = bad(&(base("") + "[pii]\nstrict = \"yes\"\n"));
        assert_eq!(e.field(), Some("pii.strict"), "{e}");
    }
}
