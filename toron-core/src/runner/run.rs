//! A run: the selected suites' cases executed on `jobs` workers, events emitted, results archived, gates
//! evaluated.

use super::case::{run_case, CaseContext, CaseOutcome, CaseResult};
use super::events::{EventLog, Events, EVENTS_FILE};
use super::lock;
use super::manifest::{Case, Manifest};
use crate::gate::{evaluate_with, Baseline, Verdict};
use crate::report::coverage::Coverage;
use crate::report::Kpis;
use crate::snapshot::archive::{Archive, CaseRecord, ObjectId};
use crate::snapshot::{Snapshots, UtcTime};
use crate::{Error, ErrorKind, Result};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration as StdDuration, Instant};

/// How to run a manifest.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// The profile to run (`None`: every suite, unless `suites` is given).
    pub profile: Option<String>,
    /// Suites to run instead of the profile's.
    pub suites: Vec<String>,
    /// The seed of cases that name none (`None`: the scenario's, `SIM_SEED`, else 0).
    pub seed: Option<u64>,
    /// Cases run in parallel (`None`: the manifest's, else the number of cores).
    pub jobs: Option<usize>,
    /// Extra attempts after a failure (`None`: the manifest's defaults).
    pub retries: Option<u32>,
    /// Never write golden files (also when the `CI` environment variable is set).
    pub check: bool,
    /// The archive directory (`None`: the manifest's `project.archive`).
    pub archive: Option<PathBuf>,
    /// The command that simulates a scenario in a separate process, for determinism cases with
    /// `processes > 1`: it is called as `<worker...> simulate <scenario.json> --seed N --json`, followed by
    /// `--base-dir DIR` (the scenario's directory) when it has `python:` or `c:` nodes (the Python package's
    /// `python -m toron` is one). `None`: the `TORON_WORKER` environment variable, if set.
    pub worker: Option<Vec<String>>,
    /// Data sets (`[[dataset]]` names) generated for every case of the run, beside those each case names: the
    /// "synthetic data set" a run is started with.
    pub datasets: Vec<String>,
    /// The admission queue the run waits in before it takes the archive's run slot (a server's runner pool):
    /// runs start in submission order and wait without a `schedule_timeout` (see [`super::Queue`]).
    pub queue: Option<super::Queue>,
    /// Lower the run's CPU priority by this much (a nice increment; 0: leave it). A server sets it so that
    /// answering requests and feeding event streams goes before running cases when the cores are busy. On
    /// Linux the run's thread is lowered, and every thread and command it starts inherits it; elsewhere the
    /// nice value is per process, and nothing is changed.
    pub nice: i32,
}

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunState {
    /// Created, not started.
    Scheduled,
    /// Cases are running.
    Running,
    /// Finished with a GO verdict.
    Passed,
    /// Finished with a NO-GO verdict.
    Failed,
    /// A harness failure (with the reason).
    Errored,
    /// Cancelled.
    Cancelled,
}

impl RunState {
    /// `scheduled`, `running`, `passed`, `failed`, `errored`, `cancelled`.
    pub fn name(self) -> &'static str {
        match self {
            RunState::Scheduled => "scheduled",
            RunState::Running => "running",
            RunState::Passed => "passed",
            RunState::Failed => "failed",
            RunState::Errored => "errored",
            RunState::Cancelled => "cancelled",
        }
    }
}

/// What a run produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    /// The run id (the archive tag `run-<semver>-<UTC timestamp>`).
    pub id: String,
    /// The final state.
    pub state: RunState,
    /// Why the run errored, if it did.
    pub error: Option<String>,
    /// The profile run, if any.
    pub profile: Option<String>,
    /// The suites run, in order.
    pub suites: Vec<String>,
    /// The run-level seed, if given (by option, else by `SIM_SEED`).
    pub seed: Option<u64>,
    /// Where the seed of cases that name none came from: `option`, `SIM_SEED`, or `scenario` (each
    /// scenario's own seed, else 0).
    #[serde(default = "scenario_source")]
    pub seed_source: String,
    /// When it started (RFC 3339 UTC).
    pub started: String,
    /// Wall-clock seconds.
    pub duration: f64,
    /// Cases in manifest order.
    pub cases: Vec<CaseResult>,
    /// The KPIs.
    pub kpis: Kpis,
    /// The verdict.
    pub verdict: Verdict,
    /// The archive root.
    pub archive: PathBuf,
    /// Where the reports were written (`<reports>/<run id>/`), if they were.
    pub report_dir: Option<PathBuf>,
    /// Golden files of the suites that ran in full that no case of the run compared (`suite/case`). Reported,
    /// never deleted.
    #[serde(default)]
    pub unused_goldens: Vec<String>,
    /// The `[[dataset]]`s generated for the run's cases, with their seeds and digests.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub datasets: Vec<super::datasets::DatasetRecord>,
    /// The warroom incident this run opened or joined (`[warroom] open_on = "no-go"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident: Option<RunIncident>,
    /// The cases whose scenario file's seed this run replaced with its own (`--seed`, else `SIM_SEED`).
    #[serde(default)]
    pub seed_overrides: Vec<SeedOverride>,
}

/// The incident a NO-GO run opened or joined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunIncident {
    /// `INC-<n>`.
    pub id: String,
    /// Opened by this run (`false`: it joined an open incident with the same dedup key).
    pub created: bool,
    /// The incident's severity (`sev1`-`sev4`).
    pub severity: String,
}

fn scenario_source() -> String {
    "scenario".to_string()
}

/// A run at a glance: what `reports/index.html` and `toron runs` show. A finished run's archived manifest
/// keeps it beside the id of the whole [`RunResult`], so listing runs never reads their cases.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunOverview {
    /// The run id.
    pub id: String,
    /// The final state (or where an unfinished run is).
    pub state: RunState,
    /// Why the run errored, if it did.
    pub error: Option<String>,
    /// The profile run, if any.
    pub profile: Option<String>,
    /// The suites run, in order.
    pub suites: Vec<String>,
    /// The run-level seed, if given.
    pub seed: Option<u64>,
    /// Where the seed of cases that name none came from (see [`RunResult::seed_source`]).
    pub seed_source: String,
    /// When it started (RFC 3339 UTC).
    pub started: String,
    /// Wall-clock seconds.
    pub duration: f64,
    /// How many cases it ran.
    pub cases: usize,
    /// The run's and each suite's KPIs (per-case KPIs are in the run's [`RunResult`]; overviews of runs
    /// archived by earlier builds may have them).
    pub kpis: Kpis,
    /// `GO`, `NO-GO`, or `none` for a run that never reached its gates.
    pub verdict: String,
    /// Whether the verdict is GO.
    pub go: bool,
    /// Where the reports were written, if they were.
    pub report_dir: Option<PathBuf>,
    /// The warroom incident the run opened or joined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident: Option<RunIncident>,
}

impl From<&RunResult> for RunOverview {
    fn from(r: &RunResult) -> RunOverview {
        RunOverview {
            id: r.id.clone(),
            state: r.state,
            error: r.error.clone(),
            profile: r.profile.clone(),
            suites: r.suites.clone(),
            seed: r.seed,
            seed_source: r.seed_source.clone(),
            started: r.started.clone(),
            duration: r.duration,
            cases: r.cases.len(),
            // Per-case KPIs stay in the result: every listing reads every run's overview.
            kpis: Kpis {
                run: r.kpis.run.clone(),
                suites: r.kpis.suites.clone(),
                cases: Default::default(),
            },
            verdict: r.verdict.verdict.clone(),
            go: r.verdict.go,
            report_dir: r.report_dir.clone(),
            incident: r.incident.clone(),
        }
    }
}

/// The run entry point.
#[derive(Debug)]
pub struct Run;

/// A started run: its id, its events, cancel and wait.
#[derive(Debug)]
pub struct RunHandle {
    id: String,
    log: Arc<EventLog>,
    cancel: Arc<AtomicBool>,
    state: Arc<Mutex<RunState>>,
    thread: Mutex<Option<std::thread::JoinHandle<RunResult>>>,
    result: OnceLock<Arc<RunResult>>,
}

impl Run {
    /// Start running `manifest` in the background. Bad options (an unknown profile or suite) are errors here,
    /// before anything runs; everything after is reported through events and the [`RunResult`].
    ///
    /// The run is recorded in the archive at once (state `scheduled`), then waits for the archive's run slot
    /// (one run at a time per archive, across processes) at most `defaults.schedule_timeout`; a run that does
    /// not get it ends `errored` with the reason.
    pub fn start(manifest: &Manifest, options: RunOptions) -> Result<RunHandle> {
        for (i, name) in options.datasets.iter().enumerate() {
            if !manifest.datasets.iter().any(|d| &d.name == name) {
                let known: Vec<&str> = manifest.datasets.iter().map(|d| d.name.as_str()).collect();
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    format!(
                        "no data set named {name:?} in the manifest (expected one of its [[dataset]] names: {})",
                        if known.is_empty() {
                            "it has none".to_string()
                        } else {
                            known.join(", ")
                        }
                    ),
                )
                .with_field(format!("datasets[{i}]")));
            }
        }
        let selected: Vec<(String, Vec<Case>)> = manifest
            .select(options.profile.as_deref(), &options.suites)?
            .into_iter()
            .map(|s| {
                let mut cases = s.cases.clone();
                for c in &mut cases {
                    for d in &options.datasets {
                        if !c.datasets.contains(d) {
                            c.datasets.push(d.clone());
                        }
                    }
                }
                (s.name.clone(), cases)
            })
            .collect();
        if options.jobs == Some(0) {
            return Err(
                Error::new(ErrorKind::InvalidArgument, "jobs is 0 (expected a positive number)").with_field("jobs"),
            );
        }
        let mut options = options;
        // Recorded only: a case's own seeds and a scenario's seed come before SIM_SEED (sim::resolve_seed).
        let (recorded_seed, seed_source) = match (options.seed, sim_seed_env()?) {
            (Some(s), _) => (Some(s), "option"),
            (None, Some(s)) => (Some(s), "SIM_SEED"),
            (None, None) => (None, "scenario"),
        };
        if options.worker.is_none() {
            options.worker = super::case::worker_from_env();
        }
        let archive_root = manifest.resolve(options.archive.as_ref().unwrap_or(&manifest.project.archive));
        let archive = Archive::open(&archive_root);
        let started = UtcTime::now();
        let writer = archive.new_run_at(crate::VERSION, Value::Null, started)?;
        let id = writer.tag().to_string();
        let liveness = lock::hold_liveness(&archive_root, &id)?;
        let place = options.queue.as_ref().map(super::Queue::enter);
        let protect = super::protect::Protect::for_run(manifest, &archive_root, &id)?;
        let events_path = events_path(&archive_root, &id);
        let log = EventLog::new(&id, Some(&events_path));
        let worker = Worker {
            state: Arc::new(Mutex::new(RunState::Scheduled)),
            manifest: manifest.clone(),
            options,
            recorded_seed,
            seed_source,
            selected,
            archive,
            archive_root,
            writer,
            log: log.clone(),
            cancel: Arc::new(AtomicBool::new(false)),
            started,
            liveness,
            protect,
            generated: Default::default(),
            datasets: Vec::new(),
            place,
        };
        worker.record_state(RunState::Scheduled, None)?;
        log.emit(
            "run.scheduled",
            json!({ "profile": worker.options.profile, "suites": meta_suites(&worker.selected),
                    "engine": crate::VERSION, "seed": recorded_seed, "seed_source": seed_source }),
        );
        let (cancel, state) = (worker.cancel.clone(), worker.state.clone());
        let thread = std::thread::Builder::new()
            .name(format!("toron-{id}"))
            .spawn(move || worker.run())
            .map_err(|e| Error::new(ErrorKind::Run, format!("cannot start the run's thread: {e}")))?;
        Ok(RunHandle {
            id,
            log,
            cancel,
            state,
            thread: Mutex::new(Some(thread)),
            result: OnceLock::new(),
        })
    }
}

/// Lower the calling thread's CPU priority by `nice` (at most to 19), on Linux, where the nice value is per
/// thread and inherited by the threads and processes the thread starts. A refusal (a sandbox) is ignored: the
/// run is only less polite.
fn lower_priority(nice: i32) {
    #[cfg(target_os = "linux")]
    if nice > 0 {
        let me = Some(rustix::thread::gettid());
        if let Ok(now) = rustix::process::getpriority_process(me) {
            let _ = rustix::process::setpriority_process(me, now.saturating_add(nice).min(19));
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = nice;
}

/// Where a run's events are appended: `<archive>/events/<run id>.events.ndjson`, beside the run's directory
/// (which the archive reserves for its manifest). Captured command output is under `<archive>/logs/<run id>/`.
pub fn events_path(archive_root: &std::path::Path, run_id: &str) -> PathBuf {
    archive_root.join("events").join(format!("{run_id}.{EVENTS_FILE}"))
}

/// `SIM_SEED`, if set; a value that is not a seed is bad input, refused before the run starts.
fn sim_seed_env() -> Result<Option<u64>> {
    match std::env::var("SIM_SEED") {
        Ok(v) => v.trim().parse().map(Some).map_err(|_| {
            Error::new(
                ErrorKind::InvalidArgument,
                format!("SIM_SEED={v:?} is not a seed (expected an integer from 0 to 2^64-1)"),
            )
            .with_field("SIM_SEED")
        }),
        Err(_) => Ok(None),
    }
}

fn meta_suites(selected: &[(String, Vec<Case>)]) -> Vec<String> {
    selected.iter().map(|(s, _)| s.clone()).collect()
}

impl RunHandle {
    /// The run id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The events after `after` (0: from the first), live: the iterator waits for new events and ends after
    /// `run.finished`.
    pub fn events(&self, after: u64) -> Events {
        Events::new(self.log.clone(), after)
    }

    /// Where the run is now: scheduled, running, then its final state.
    pub fn state(&self) -> RunState {
        *self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Ask the run to stop: running attempts are stopped (command process groups killed), pending cases are
    /// recorded as cancelled, and the run ends `cancelled` with its archive and results intact.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::SeqCst);
    }

    /// Wait for the run to end. Callable several times (and from several threads).
    pub fn wait(&self) -> Result<RunResult> {
        self.wait_shared().map(|r| RunResult::clone(&r))
    }

    /// [`RunHandle::wait`] without copying the result (a large run's is large): every call shares one.
    pub fn wait_shared(&self) -> Result<Arc<RunResult>> {
        if let Some(r) = self.result.get() {
            return Ok(r.clone());
        }
        let mut guard = self.thread.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(t) = guard.take() {
            let r = t
                .join()
                .map_err(|_| Error::new(ErrorKind::Run, format!("run {} panicked (a bug)", self.id)))?;
            let _ = self.result.set(Arc::new(r));
        }
        drop(guard);
        self.result.get().cloned().ok_or_else(|| {
            Error::new(
                ErrorKind::Run,
                format!("run {} has no result (its thread failed)", self.id),
            )
        })
    }
}

struct Worker {
    manifest: Manifest,
    options: RunOptions,
    recorded_seed: Option<u64>,
    seed_source: &'static str,
    selected: Vec<(String, Vec<Case>)>,
    archive: Archive,
    archive_root: PathBuf,
    writer: crate::snapshot::archive::RunWriter,
    log: Arc<EventLog>,
    cancel: Arc<AtomicBool>,
    state: Arc<Mutex<RunState>>,
    started: UtcTime,
    liveness: lock::Held,
    /// The run's scrubber (`None`: `[pii] kinds = []`).
    protect: Option<super::protect::Protect>,
    /// The data sets the selected cases name, once generated (at the start of the run).
    generated: super::datasets::Generated,
    datasets: Vec<super::datasets::DatasetRecord>,
    /// The run's place in its admission queue, if it has one.
    place: Option<super::queue::Place>,
}

impl Worker {
    fn set_state(&self, state: RunState) {
        *self.state.lock().unwrap_or_else(|p| p.into_inner()) = state;
    }

    /// The run's manifest in the archive while it is not finished: its state, so `toron runs` shows it (and
    /// shows it interrupted if the process dies).
    fn record_state(&self, state: RunState, error: Option<&str>) -> Result<()> {
        let mut m = self.writer.manifest().clone();
        m.meta = json!({
            "profile": self.options.profile,
            "suites": meta_suites(&self.selected),
            "seed": self.recorded_seed,
            "seed_source": self.seed_source,
            "state": state.name(),
            "error": error,
            "pid": std::process::id(),
        });
        self.archive.write_manifest(self.writer.tag(), &m)
    }

    fn run(mut self) -> RunResult {
        // Whatever happens below, consumers of the events see the end of the stream.
        let _close = CloseOnDrop(self.log.clone());
        lower_priority(self.options.nice);
        let clock = Instant::now();
        let (turn, slot) = match self.place.take() {
            None => {
                let timeout = StdDuration::from_nanos(self.manifest.defaults.schedule_timeout.nanos());
                (None, lock::acquire_slot(&self.archive_root, timeout, &self.cancel))
            }
            Some(place) => {
                let log = self.log.clone();
                let waited = place.wait(&self.cancel, |ahead, runners, waited| {
                    log.emit(
                        "run.waiting",
                        json!({ "waited": waited.as_secs_f64(), "ahead": ahead, "runners": runners,
                                "reason": format!("still scheduled after {:.0} s: {ahead} run(s) ahead in the \
                                                   queue, {runners} runner(s) busy", waited.as_secs_f64()) }),
                    );
                });
                match waited {
                    // The queue serialises this process's runs; another process's run may hold the slot.
                    Ok(turn) => {
                        let timeout = StdDuration::from_nanos(self.manifest.defaults.schedule_timeout.nanos());
                        (
                            Some(turn),
                            lock::acquire_slot(&self.archive_root, timeout, &self.cancel),
                        )
                    }
                    Err(super::queue::Refused::Cancelled) => (None, Err(lock::SlotError::Cancelled)),
                }
            }
        };
        let (cases, harness_error, _slot) = match slot {
            Ok(held) => {
                self.set_state(RunState::Running);
                let error = self.record_state(RunState::Running, None).err().map(|e| e.to_string());
                self.log.emit(
                    "run.started",
                    json!({ "cases": self.selected.iter().map(|(_, c)| c.len()).sum::<usize>() }),
                );
                self.generate_datasets();
                (self.run_cases(), error, Some(held))
            }
            Err(e) => {
                let (outcome, error) = match e {
                    lock::SlotError::Cancelled => (CaseOutcome::Cancelled, None),
                    lock::SlotError::TimedOut(t) => (
                        CaseOutcome::Skipped,
                        Some(format!(
                            "still scheduled after {} (schedule_timeout): another run holds the archive's run \
                             slot {}",
                            crate::scenario::Duration(t.as_nanos() as u64),
                            lock::slot_path(&self.archive_root).display()
                        )),
                    ),
                    lock::SlotError::Failed(e) => (CaseOutcome::Skipped, Some(e.to_string())),
                };
                let cases = self
                    .flat()
                    .iter()
                    .map(|(s, c)| CaseResult::not_run(s, c, outcome))
                    .collect();
                (cases, error, None)
            }
        };
        let result = self.finish(cases, harness_error, clock);
        drop(turn);
        result
    }

    /// The run in the warroom, before its reports are written (so they name the incident): with `[warroom]
    /// open_on = "no-go"`, a NO-GO opens an incident or joins the open one with its dedup key, and a GO run
    /// marks its profile's incidents green (resolving them with `auto_resolve`); without it, a GO run still
    /// marks the incidents of an existing warroom green. A warroom that cannot be used does not fail the run:
    /// the event `warroom.failed` says why.
    fn record_in_warroom(&self, result: &RunResult) -> Option<RunIncident> {
        use crate::warroom::{OpenOn, Warroom, WarroomPolicy, DB_FILE};
        if result.state == RunState::Cancelled || result.verdict.verdict == "none" {
            return None;
        }
        let settings = &self.manifest.warroom;
        let dir = self.manifest.resolve(&self.manifest.project.warroom);
        let marks_green = result.verdict.go && dir.join(DB_FILE).is_file();
        if settings.open_on.is_none() && !marks_green {
            return None;
        }
        let policy = WarroomPolicy {
            open_on: OpenOn::NoGo,
            auto_resolve: settings.auto_resolve,
            dedup_key: settings.dedup_key.clone(),
        };
        let recorded = Warroom::open(&dir).and_then(|w| {
            let opened = w.record_run(result, &policy)?;
            // The incidents page beside the runs' index, with each incident's postmortem when written.
            let incidents = w.incidents(None)?;
            let postmortems = incidents
                .iter()
                .map(|i| (i.id.clone(), dir.join("postmortems").join(format!("{}.md", i.id))))
                .filter(|(_, p)| p.is_file())
                .map(|(id, p)| (id, p.display().to_string()))
                .collect();
            let reports = self.manifest.resolve(&self.manifest.project.reports);
            crate::report::write_incidents(&incidents, &postmortems, &reports)?;
            Ok(opened)
        });
        match recorded {
            Ok(Some(opened)) => {
                let i = &opened.incident;
                self.log.emit(
                    if opened.created {
                        "incident.opened"
                    } else {
                        "incident.joined"
                    },
                    json!({ "incident": i.id, "severity": i.severity.name(), "title": i.title }),
                );
                Some(RunIncident {
                    id: i.id.clone(),
                    created: opened.created,
                    severity: i.severity.name().to_string(),
                })
            }
            Ok(None) => None,
            Err(e) => {
                self.log.emit("warroom.failed", json!({ "error": e.to_string() }));
                None
            }
        }
    }

    /// Generate the data sets the selected cases name (each once), before any case runs.
    fn generate_datasets(&mut self) {
        let mut used: Vec<&str> = self
            .selected
            .iter()
            .flat_map(|(_, cases)| cases.iter().flat_map(|c| c.datasets.iter().map(String::as_str)))
            .collect();
        used.sort_unstable();
        used.dedup();
        if used.is_empty() {
            return;
        }
        let dir = super::datasets::run_dir(&self.archive_root, self.writer.tag());
        let seed = self.options.seed.or(self.recorded_seed);
        for (name, result) in super::datasets::generate(&self.manifest, &used, &dir, seed) {
            let entry = match result {
                Ok(mut record) => {
                    // The schema's text goes into the archive, so replay regenerates it from there alone.
                    record.schema_object = super::datasets::schema_document(&self.manifest, &record)
                        .and_then(|doc| self.writer.put(&doc))
                        .ok()
                        .map(|id| id.as_str().to_string());
                    self.log.emit(
                        "dataset.generated",
                        json!({ "dataset": name, "digest": record.digest, "seed": record.seed }),
                    );
                    let dir = record.dir.clone();
                    self.datasets.push(record);
                    Ok(dir)
                }
                Err(e) => {
                    self.log
                        .emit("dataset.failed", json!({ "dataset": name, "error": e.to_string() }));
                    Err(e.to_string())
                }
            };
            self.generated.insert(name, entry);
        }
    }

    fn flat(&self) -> Vec<(&str, &Case)> {
        self.selected
            .iter()
            .flat_map(|(s, cases)| cases.iter().map(move |c| (s.as_str(), c)))
            .collect()
    }

    fn run_cases(&self) -> Vec<CaseResult> {
        let id = self.writer.tag();
        let check = self.options.check || std::env::var_os("CI").is_some();
        let logs_dir = Some(self.archive_root.join("logs").join(id));
        if let Some(d) = &logs_dir {
            let _ = std::fs::create_dir_all(d);
        }
        let flat = self.flat();
        let jobs = self
            .options
            .jobs
            .or(self.manifest.project.jobs)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
            .clamp(1, flat.len().max(1));
        let protect = self.protect.as_ref();
        let generated = &self.generated;
        let ctx = CaseContext {
            manifest: &self.manifest,
            // `--seed`, else SIM_SEED: it also replaces a scenario file's own seed (call > run > scenario).
            seed: self.recorded_seed,
            retries: self.options.retries.unwrap_or(self.manifest.defaults.retries),
            check,
            cancel: &self.cancel,
            logs: logs_dir.as_deref(),
            worker: self.options.worker.as_deref(),
            protect,
            datasets: generated,
        };
        let slots: Vec<Mutex<Option<CaseResult>>> = flat.iter().map(|_| Mutex::new(None)).collect();
        let next = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..jobs {
                scope.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some((suite, case)) = flat.get(i) else { return };
                    let result = if self.cancel.load(Ordering::SeqCst) {
                        CaseResult::not_run(suite, case, CaseOutcome::Cancelled)
                    } else {
                        let cid = format!("{suite}/{}", case.name);
                        self.log
                            .emit("case.started", json!({ "case": cid, "kind": case.kind.name() }));
                        let mut on_attempt = |a: &super::case::Attempt| {
                            self.log.emit(
                                "case.attempt",
                                json!({ "case": cid, "attempt": a.number, "outcome": a.outcome.name(),
                                        "message": a.message, "digest": a.digest, "duration": a.duration,
                                        "seeds": a.seeds.iter().map(|s| s.seed).collect::<Vec<_>>() }),
                            );
                        };
                        // A panic in a case is a bug; it must not take the run (and its consumers) down with it.
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            run_case(&ctx, suite, case, &mut on_attempt)
                        }))
                        .unwrap_or_else(|_| {
                            let mut r = CaseResult::not_run(suite, case, CaseOutcome::Errored);
                            r.error = Some("the case panicked (a bug in Toron)".to_string());
                            r
                        })
                    };
                    self.log.emit(
                        "case.finished",
                        json!({ "case": result.id(), "outcome": result.outcome.name(),
                                "attempts": result.attempts.len(), "duration": result.duration }),
                    );
                    if let Some(slot) = slots.get(i) {
                        *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(result);
                    }
                });
            }
        });
        slots
            .into_iter()
            .zip(&flat)
            .map(|(m, (s, c))| {
                m.into_inner()
                    .unwrap_or_else(|p| p.into_inner())
                    .unwrap_or_else(|| CaseResult::not_run(s, c, CaseOutcome::Errored))
            })
            .collect()
    }

    /// Golden files of the selected suites that no golden case of theirs compared. Every selected suite runs
    /// in full (selection is by suite), so only a cancelled run reports none.
    fn unused_goldens(&self) -> Vec<String> {
        if self.cancel.load(Ordering::SeqCst) {
            return Vec::new();
        }
        let root = self.manifest.resolve(&self.manifest.project.snapshots);
        let seen: Vec<String> = self
            .flat()
            .iter()
            .filter(|(_, c)| c.golden)
            .map(|(s, c)| format!("{s}/{}", c.name))
            .collect();
        let suites: Vec<&str> = self.selected.iter().map(|(s, _)| s.as_str()).collect();
        Snapshots::new(root)
            .unused(&seen)
            .unwrap_or_default()
            .into_iter()
            .filter(|g| g.split_once('/').is_some_and(|(s, _)| suites.contains(&s)))
            .collect()
    }

    /// The selected cases whose scenario's own seed the run's seed replaces, in manifest order.
    fn seed_overrides(&self) -> Vec<SeedOverride> {
        let Some(run) = self.recorded_seed else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (suite, cases) in &self.selected {
            for case in cases {
                let own = case.scenario.as_ref().and_then(|s| s.spec().seed);
                if let (true, Some(own)) = (case.seeds.is_empty(), own) {
                    if own != run {
                        out.push(SeedOverride {
                            case: format!("{suite}/{}", case.name),
                            scenario_seed: own,
                            seed: run,
                            source: self.seed_source.to_string(),
                        });
                    }
                }
            }
        }
        out
    }

    fn finish(mut self, cases: Vec<CaseResult>, harness_error: Option<String>, clock: Instant) -> RunResult {
        let id = self.writer.tag().to_string();
        let cancelled = self.cancel.load(Ordering::SeqCst);
        let mut coverage = Coverage::new();
        let mut has_coverage = false;
        for c in &cases {
            if let Some(cov) = c.last().and_then(|a| a.coverage_data.as_ref()) {
                coverage.merge(cov);
                has_coverage = true;
            }
        }
        let duration = clock.elapsed().as_secs_f64();
        let kpis = Kpis::from_cases(&cases, has_coverage.then_some(&coverage), duration);
        let verdict = evaluate_gates(
            &self.archive,
            &self.manifest,
            &id,
            self.options.profile.as_deref(),
            &kpis,
        );
        self.log
            .emit("gate.evaluated", serde_json::to_value(&verdict).unwrap_or(Value::Null));
        let unused_goldens = self.unused_goldens();

        let mut error = harness_error;
        if let Some(e) = self.log.write_error() {
            error.get_or_insert(e);
        }
        let state = if cancelled {
            RunState::Cancelled
        } else if error.is_some() {
            RunState::Errored
        } else if verdict.go {
            RunState::Passed
        } else {
            RunState::Failed
        };
        let reports_root = self.manifest.resolve(&self.manifest.project.reports);
        let mut result = RunResult {
            id: id.clone(),
            state,
            error,
            profile: self.options.profile.clone(),
            suites: meta_suites(&self.selected),
            seed: self.recorded_seed,
            seed_source: self.seed_source.to_string(),
            started: self.started.rfc3339(),
            duration,
            cases,
            kpis,
            verdict,
            archive: self.archive_root.clone(),
            report_dir: Some(crate::report::run_dir(&reports_root, &id)),
            unused_goldens,
            datasets: std::mem::take(&mut self.datasets),
            incident: None,
            seed_overrides: self.seed_overrides(),
        };
        result.incident = self.record_in_warroom(&result);

        // The archive (every case's output with what replay needs, then the whole result) and the reports are
        // written side by side, each assuming the other succeeds; the rare failure of either errors the run,
        // and what was written with the old state is written again.
        let mut writer = self.writer;
        // The result as a JSON value, built once: the archive stores it and report.json is made of it.
        let value = std::sync::OnceLock::new();
        let (archived, reported) = std::thread::scope(|scope| {
            let reports = scope.spawn(|| {
                crate::report::write_reports_with(&result, &reports_root, &value)?;
                crate::report::determinism::write(&result, &reports_root)
            });
            let archived = archive_run(&mut writer, &self.manifest, &result, &value);
            let reported = reports
                .join()
                .unwrap_or_else(|_| Err(Error::new(ErrorKind::Run, "rendering the reports panicked (a bug)")));
            (archived, reported)
        });
        // The outputs are archived, and the result's value written: freeing them takes about as long as
        // building them did, so it is done off the way to the run's end (and to its caller dropping the result).
        let outputs: Vec<(Value, Option<Vec<u8>>)> = result
            .cases
            .iter_mut()
            .flat_map(|c| c.attempts.iter_mut())
            .map(|a| (std::mem::take(&mut a.output), a.output_bytes.take()))
            .collect();
        let garbage = (value.into_inner(), outputs);
        let _ = std::thread::Builder::new()
            .name("toron-free".into())
            .spawn(move || drop(garbage));
        let mut meta = archived.as_ref().ok().cloned();
        if let Err(e) = &reported {
            result.error.get_or_insert(e.to_string());
            result.state = RunState::Errored;
            result.report_dir = None;
        }
        if let Err(e) = &archived {
            result.error.get_or_insert(e.to_string());
            result.state = RunState::Errored;
            if reported.is_ok() {
                let _ = write_all_reports(&result, &reports_root);
            }
        }
        if reported.is_err() || archived.is_err() {
            meta = store_result(&mut writer, &result).ok();
        }
        // The objects are durable (one pack, one fsync) before the manifest names them.
        if let Err(e) = writer.flush() {
            result.error.get_or_insert(e.to_string());
            result.state = RunState::Errored;
            meta = None;
            if result.report_dir.is_some() {
                let _ = write_all_reports(&result, &reports_root);
            }
        }
        let mut m = writer.manifest().clone();
        m.meta = meta.unwrap_or_else(|| run_meta(&result, None));
        if let Err(e) = self.archive.write_manifest(&id, &m) {
            result.error.get_or_insert(e.to_string());
            result.state = RunState::Errored;
            m.meta = store_result(&mut writer, &result)
                .and_then(|meta| writer.flush().map(|()| meta))
                .unwrap_or_else(|_| run_meta(&result, None));
            let _ = self.archive.write_manifest(&id, &m);
        }
        if let Err(e) = super::history::write_index_with(&self.archive_root, &reports_root, &RunOverview::from(&result))
        {
            // The run itself is complete; `toron report --all` re-renders the index.
            result.error.get_or_insert(format!("reports/index.html: {e}"));
        }
        *self.state.lock().unwrap_or_else(|p| p.into_inner()) = result.state;
        self.log.emit(
            "run.finished",
            json!({ "state": result.state.name(), "verdict": result.verdict.verdict, "error": result.error,
                    "duration": result.duration, "report": result.report_dir }),
        );
        self.log.close();
        drop(self.liveness);
        result
    }
}

/// `reports/<run id>/` (report.json, verdict.json, junit.xml, index.html, determinism.json) and
/// `reports/determinism.json`.
fn write_all_reports(result: &RunResult, reports_root: &std::path::Path) -> Result<()> {
    crate::report::write_reports(result, reports_root)?;
    crate::report::determinism::write(result, reports_root)
}

/// Store every case's output with what replay needs (the scenario itself, the seeds), then the whole result;
/// returns the manifest's metadata. A case that cannot be stored does not stop the others: the first error
/// is returned after them all.
fn archive_run(
    writer: &mut crate::snapshot::archive::RunWriter,
    manifest: &Manifest,
    result: &RunResult,
    value: &std::sync::OnceLock<Value>,
) -> Result<Value> {
    // Built first: the report thread waits for it while the cases are archived.
    let value = value.get_or_init(|| crate::report::result_value(result));
    let mut scenarios = BTreeMap::new();
    // Looked up once, not per case (a linear search per case made archiving quadratic in the case count).
    let cases: BTreeMap<(&str, &str), &Case> = manifest
        .suites
        .iter()
        .flat_map(|s| s.cases.iter().map(move |c| ((s.name.as_str(), c.name.as_str()), c)))
        .collect();
    let mut first = None;
    for c in &result.cases {
        let case = cases.get(&(c.suite.as_str(), c.name.as_str())).copied();
        if let Err(e) = archive_case(writer, case, c, &mut scenarios) {
            first.get_or_insert(e);
        }
    }
    match first {
        Some(e) => Err(e),
        None => store_result_value(writer, result, value).map(|mut meta| {
            // Replay scrubs what it re-runs as this run did (its `[pii]` kinds and allow list), or its
            // outputs would differ from the archived ones wherever the policies differ.
            if let Value::Object(m) = &mut meta {
                let pii = &manifest.pii;
                m.insert(
                    PII_KEY.to_string(),
                    json!({ "kinds": pii.kinds, "allow": pii.allow, "key_env": pii.key_env }),
                );
            }
            meta
        }),
    }
}

/// The key of a finished run's manifest metadata holding the manifest's `[pii]` settings (`kinds`, `allow`,
/// `key_env`); runs archived by earlier builds have none, and replay then uses the default policy.
pub(crate) const PII_KEY: &str = "pii";

/// Store the whole `result` as an object of the run and return the manifest's metadata naming it.
fn store_result(writer: &mut crate::snapshot::archive::RunWriter, result: &RunResult) -> Result<Value> {
    store_result_value(writer, result, &crate::report::result_value(result))
}

/// [`store_result`] of a result already converted to its JSON `value`.
fn store_result_value(
    writer: &mut crate::snapshot::archive::RunWriter,
    result: &RunResult,
    value: &Value,
) -> Result<Value> {
    let id = writer.put(value)?;
    Ok(run_meta(result, Some(id.as_str())))
}

/// The archived manifest's metadata of a finished run: its [`RunOverview`] and the object id of the whole
/// [`RunResult`] (`result`; absent when it could not be stored).
fn run_meta(result: &RunResult, result_object: Option<&str>) -> Value {
    let mut meta = serde_json::to_value(RunOverview::from(result)).unwrap_or(Value::Null);
    if let (Value::Object(m), Some(id)) = (&mut meta, result_object) {
        m.insert(RESULT_KEY.to_string(), json!(id));
    }
    meta
}

/// The key of a finished run's manifest metadata naming its [`RunResult`] object. Manifests written by
/// earlier builds hold the result itself there (still read).
pub(crate) const RESULT_KEY: &str = "result";

/// Store a case's output, and for simulations the scenario (of `case`, its manifest entry) and what replay needs
/// to re-run it.
fn archive_case(
    writer: &mut crate::snapshot::archive::RunWriter,
    case: Option<&Case>,
    c: &CaseResult,
    stored: &mut BTreeMap<String, String>,
) -> Result<()> {
    let output = c.last().map_or(&Value::Null, |a| &a.output);
    let mut meta = json!({
        "outcome": c.outcome.name(),
        "attempts": c.attempts.len(),
        "kind": c.kind.name(),
        "suite": c.suite,
        "name": c.name,
    });
    let mut rec = CaseRecord::new();
    if let (Some(case), Value::Object(m)) = (case, &mut meta) {
        if let Some(s) = &case.scenario {
            // Many cases share a scenario: store it once per run (`stored`: scenario id → object id).
            let sid = s.id();
            let object = match stored.get(&sid) {
                Some(o) => o.clone(),
                None => {
                    let o = writer.put(&s.to_value())?.as_str().to_string();
                    stored.insert(sid.clone(), o.clone());
                    o
                }
            };
            m.insert("scenario_object".into(), json!(object));
            // Outside models find their files (a `c:` library, `python:` modules) in the scenario's directory:
            // a replay rebuilds the scenario from the archive with it.
            let outside = s.models().iter().any(|m| m.external().is_some());
            if let Some(dir) = s.base_dir().filter(|_| outside) {
                let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
                m.insert("scenario_dir".into(), json!(dir.to_string_lossy()));
            }
            rec = rec.scenario(sid);
        }
        let seeds: Vec<u64> = c
            .last()
            .map(|a| a.seeds.iter().map(|s| s.seed).collect())
            .unwrap_or_default();
        let det_seeds: Vec<u64> = c
            .last()
            .and_then(|a| a.determinism.as_ref())
            .map(|d| d.digests.keys().copied().collect())
            .unwrap_or_default();
        m.insert("seeds".into(), json!(if seeds.is_empty() { det_seeds } else { seeds }));
        m.insert("expect".into(), json!(case.expect));
        m.insert("repeats".into(), json!(case.repeats));
        m.insert("threads".into(), json!(case.threads));
        m.insert("processes".into(), json!(case.processes));
        m.insert("golden".into(), json!(case.golden));
        if !case.argv.is_empty() {
            m.insert("argv".into(), json!(case.argv));
        }
    }
    if let Some(seed) = c.last().and_then(|a| a.seeds.first()).map(|s| s.seed) {
        rec = rec.seed(seed);
    }
    // The attempt's digest is the output's archive id: an output stored already is not encoded again.
    // The attempt hashed the output's canonical bytes for its digest: stored as they are, not encoded again.
    let id = c
        .last()
        .and_then(|a| a.digest.as_deref())
        .and_then(|d| ObjectId::parse(d).ok());
    match (id, c.last().and_then(|a| a.output_bytes.as_deref())) {
        (Some(id), Some(bytes)) if !output.is_null() => {
            writer.add_case_with_bytes(&c.id(), id, bytes, rec.meta(meta))?
        }
        (Some(id), _) if !output.is_null() => writer.add_case_with_id(&c.id(), id, output, rec.meta(meta))?,
        _ => writer.add_case(&c.id(), output, rec.meta(meta))?,
    };
    Ok(())
}

struct CloseOnDrop(Arc<EventLog>);

impl Drop for CloseOnDrop {
    fn drop(&mut self) {
        self.0.close();
    }
}

/// A case whose scenario names a seed that the run's seed (`--seed`, else `SIM_SEED`) replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedOverride {
    /// `suite/case`.
    pub case: String,
    /// The seed the scenario file names.
    pub scenario_seed: u64,
    /// The seed used instead.
    pub seed: u64,
    /// Where it came from: `option` or `SIM_SEED`.
    pub source: String,
}

/// The verdict of the run `current`'s `kpis` under `manifest`'s gates, each baseline rule (`last-go` or a run
/// id) resolved among the runs of `archive` (never `current` itself). A run computes it at its end; a server
/// filing a run that ran elsewhere (a remote runner, whose own archive holds no earlier run) computes it
/// again over its own archive, so both give the same verdict.
pub fn evaluate_gates(
    archive: &Archive,
    manifest: &Manifest,
    current: &str,
    profile: Option<&str>,
    kpis: &Kpis,
) -> Verdict {
    let mut baselines = Baselines::new(archive, manifest, current, profile);
    let resolved = baselines.resolve(&manifest.gates);
    let gates = &manifest.gates;
    let baselines = &baselines;
    evaluate_with(gates, kpis, |g| {
        let i = gates.iter().position(|x| std::ptr::eq(x, g));
        match i
            .and_then(|i| resolved.get(i))
            .ok_or_else(|| "the rule is not the manifest's".to_string())?
        {
            Ok(tag) => match baselines.kpis(tag) {
                Some(kpis) => Ok(Baseline { run: tag, kpis }),
                None => Err(format!("the baseline run {tag:?} cannot be read")),
            },
            Err(why) => Err(why.clone()),
        }
    })
}

/// The archived runs a baseline rule can compare with, newest first, read from the archive on first use.
struct Baselines<'a> {
    archive: &'a Archive,
    current: &'a str,
    profile: Option<&'a str>,
    /// Whether a rule scoped to a case names a baseline (the manifest keeps the run's and suites' KPIs; a
    /// case needs the stored result's).
    per_case: bool,
    /// Run tags, newest first (not the current run).
    tags: Vec<String>,
    /// Per tag: its verdict, profile and KPIs (`None`: unreadable or unfinished).
    runs: BTreeMap<String, Option<(String, Option<String>, Kpis)>>,
}

impl<'a> Baselines<'a> {
    fn new(archive: &'a Archive, manifest: &Manifest, current: &'a str, profile: Option<&'a str>) -> Self {
        let named = manifest.gates.iter().any(|g| g.baseline.is_some());
        let mut tags: Vec<String> = if named {
            archive
                .runs()
                .map(|r| r.into_iter().map(|r| r.tag).collect())
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        tags.retain(|t| t != current);
        tags.sort_by(|a, b| b.cmp(a));
        let per_case = manifest
            .gates
            .iter()
            .any(|g| g.baseline.is_some() && matches!(g.scope, crate::gate::Scope::Case { .. }));
        Baselines {
            archive,
            current,
            profile,
            per_case,
            tags,
            runs: BTreeMap::new(),
        }
    }

    fn load(&mut self, tag: &str) {
        if self.runs.contains_key(tag) {
            return;
        }
        let read = || -> Option<(String, Option<String>, Kpis)> {
            let m = self.archive.manifest_head(tag).ok()?;
            let verdict = m.meta.get("verdict")?.as_str()?.to_string();
            let profile = m.meta.get("profile").and_then(Value::as_str).map(str::to_string);
            let mut k: Kpis = serde_json::from_value(m.meta.get("kpis")?.clone()).ok()?;
            if self.per_case && k.cases.is_empty() {
                let result = m
                    .meta
                    .get(RESULT_KEY)
                    .and_then(Value::as_str)
                    .and_then(|id| ObjectId::parse(id).ok());
                if let Some(v) = result.and_then(|id| self.archive.get(&id).ok()) {
                    k = serde_json::from_value(v.get("kpis")?.clone()).ok()?;
                }
            }
            Some((verdict, profile, k))
        };
        let got = read();
        self.runs.insert(tag.to_string(), got);
    }

    /// Resolve every baseline rule of `gates` to the run it compares with. `last-go` is the newest GO run of
    /// the same profile that has the rule's metric for its scope, else the newest GO run of any profile that
    /// has it (a chaos-smoke or offline run in between must not hide the last `full` run's throughput); a
    /// run id is that run.
    fn resolve(&mut self, gates: &[crate::gate::Gate]) -> Vec<std::result::Result<String, String>> {
        gates.iter().map(|g| self.resolve_one(g)).collect()
    }

    fn resolve_one(&mut self, gate: &crate::gate::Gate) -> std::result::Result<String, String> {
        let metric = gate.rule.metric();
        let name = metric.name();
        let scope = &gate.scope;
        let Some(wanted) = gate.baseline.as_deref() else {
            return Err("the rule names no baseline".to_string());
        };
        if wanted != "last-go" {
            if wanted == self.current {
                return Err(format!("the baseline run {wanted:?} is this run"));
            }
            self.load(wanted);
            return match self.runs.get(wanted) {
                Some(Some(_)) => Ok(wanted.to_string()),
                _ => Err(format!(
                    "there is no finished run {wanted:?} in the archive to compare {name} with"
                )),
            };
        }
        let tags = self.tags.clone();
        let mut any_go = false;
        let mut fallback = None;
        for tag in &tags {
            self.load(tag);
            let Some(Some((verdict, profile, kpis))) = self.runs.get(tag) else {
                continue;
            };
            if verdict != "GO" {
                continue;
            }
            any_go = true;
            if kpis.get(scope, metric).is_none() {
                continue;
            }
            if profile.as_deref() == self.profile {
                return Ok(tag.clone());
            }
            if fallback.is_none() {
                fallback = Some(tag.clone());
            }
        }
        fallback.ok_or_else(|| {
            if any_go {
                format!("no earlier GO run has {name} for {scope} to compare with (baseline last-go)")
            } else {
                format!("there is no earlier GO run to compare {name} with (baseline last-go)")
            }
        })
    }

    fn kpis(&self, tag: &str) -> Option<&Kpis> {
        self.runs.get(tag)?.as_ref().map(|(_, _, k)| k)
    }
}
