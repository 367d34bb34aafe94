//! Running one case: its attempts (sim, chaos, load, determinism, command), golden comparison and outcome.

use super::command::{run_command, CommandOutput};
use super::manifest::{Case, CaseKind, Expect, Manifest};
use crate::diff::DiffOptions;
use crate::report::coverage::Coverage;
use crate::sim::{self, LatencySummary, SimOptions};
use crate::snapshot::Snapshots;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

/// How a case (or one attempt) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseOutcome {
    /// It passed.
    Passed,
    /// It failed (a check did not hold).
    Failed,
    /// It failed, then passed on a retry.
    Flaky,
    /// It could not run (a harness or input problem).
    Errored,
    /// It ran past its timeout.
    TimedOut,
    /// It was not run.
    Skipped,
    /// The run was cancelled.
    Cancelled,
}

impl CaseOutcome {
    /// `passed`, `failed`, `flaky`, `errored`, `timed_out`, `skipped`, `cancelled`.
    pub fn name(self) -> &'static str {
        match self {
            CaseOutcome::Passed => "passed",
            CaseOutcome::Failed => "failed",
            CaseOutcome::Flaky => "flaky",
            CaseOutcome::Errored => "errored",
            CaseOutcome::TimedOut => "timed_out",
            CaseOutcome::Skipped => "skipped",
            CaseOutcome::Cancelled => "cancelled",
        }
    }

    /// Passed or flaky.
    pub fn is_pass(self) -> bool {
        matches!(self, CaseOutcome::Passed | CaseOutcome::Flaky)
    }
}

/// One seed's simulation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedResult {
    /// The seed.
    pub seed: u64,
    /// The trace digest.
    pub digest: String,
    /// Invariant violations found.
    pub violations: usize,
    /// Latency of the load's requests (seconds).
    pub latency: LatencySummary,
    /// Successful requests per second of virtual time.
    pub throughput: f64,
}

/// A determinism check: per seed, the digests seen and how often.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeterminismResult {
    /// Simulations made.
    pub runs: u64,
    /// Seed → digest → times seen.
    pub digests: BTreeMap<u64, BTreeMap<String, u64>>,
    /// Every seed gave one digest.
    pub deterministic: bool,
    /// Thread counts used.
    pub threads: Vec<usize>,
    /// Repeats per seed and thread count.
    pub repeats: u32,
    /// Separate processes per seed (1: in this process only).
    #[serde(default = "one")]
    pub processes: u32,
    /// When not deterministic: the first divergent event of two traced re-runs of the first drifting seed
    /// (`None` when the traced pair agreed, i.e. the drift did not reproduce).
    pub drift: Option<super::drift::Divergence>,
    /// A command's artifacts: file → identity → times seen over the repeats.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub artifacts: BTreeMap<String, BTreeMap<String, u64>>,
    /// A command's artifacts that drifted: the first differing JSON paths with both values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub artifact_drift: Vec<ValueDrift>,
}

fn one() -> u32 {
    1
}

/// A JSON value that differs between two repeats of a command: the artifact, the JSON path (RFC 6901) and both
/// values (`None`: absent on that side).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValueDrift {
    /// The artifact file, as named in the manifest.
    pub artifact: String,
    /// The JSON path.
    pub path: String,
    /// The value in the first repeat.
    pub a: Option<Value>,
    /// The value in the repeat that differed.
    pub b: Option<Value>,
}

/// A golden comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GoldenResult {
    /// `suite/case`.
    pub case: String,
    /// `passed`, `failed`, `created`, `updated`, or `missing` (check mode, no golden).
    pub status: String,
    /// A one-line summary of the difference, if any.
    pub summary: Option<String>,
    /// The difference rendered as a self-contained HTML fragment (for `index.html`), if there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    /// The candidate value's identity (blake3 of its canonical JSON), when it did not match; the candidate is
    /// the case's output in the run's archive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub candidate: Option<String>,
}

/// A mark a scenario expects some seed to reach, and the seeds that did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MarkResult {
    /// The mark.
    pub mark: String,
    /// The seeds that reached it, in the case's order.
    pub seeds: Vec<u64>,
}

/// The linearizability counterexample of one seed's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedCounterexample {
    /// The seed.
    pub seed: u64,
    /// The checker's verdict in text: the window of operations that cannot be ordered.
    pub text: String,
}

/// One attempt of a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    /// 1, 2...
    pub number: u32,
    /// How it ended.
    pub outcome: CaseOutcome,
    /// Why, when it did not pass.
    pub message: Option<String>,
    /// Wall-clock seconds.
    pub duration: f64,
    /// Per seed (simulations).
    pub seeds: Vec<SeedResult>,
    /// A command's exit code.
    pub exit_code: Option<i32>,
    /// A command's standard output (the first 64 KiB).
    pub stdout: String,
    /// A command's standard error (the first 64 KiB).
    pub stderr: String,
    /// The output's identity (blake3 of its canonical JSON), if it produced one.
    pub digest: Option<String>,
    /// The determinism check.
    pub determinism: Option<DeterminismResult>,
    /// The golden comparison.
    pub golden: Option<GoldenResult>,
    /// Coverage files read after a command, merged: (covered, valid) lines.
    pub coverage: Option<(u64, u64)>,
    /// A simulation's `[expect] sometimes`: each mark with the seeds that reached it (none: the case fails).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub marks: Vec<MarkResult>,
    /// A simulation's `[invariants] linearizable` counterexamples, per seed that was not linearizable.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub counterexamples: Vec<SeedCounterexample>,
    /// What the PII scrubber found (and replaced) in the attempt's output, stdout, stderr and message.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pii: Vec<super::protect::PiiFinding>,
    #[serde(skip)]
    pub(crate) output: Value,
    /// The output's canonical encoding, hashed for `digest` and kept for the archive: a new output is encoded
    /// once, not again when it is stored.
    #[serde(skip)]
    pub(crate) output_bytes: Option<Vec<u8>>,
    #[serde(skip)]
    pub(crate) coverage_data: Option<Coverage>,
}

impl Attempt {
    fn new(number: u32) -> Attempt {
        Attempt {
            number,
            outcome: CaseOutcome::Passed,
            message: None,
            duration: 0.0,
            seeds: Vec::new(),
            exit_code: None,
            stdout: String::new(),
            stderr: String::new(),
            digest: None,
            determinism: None,
            golden: None,
            coverage: None,
            marks: Vec::new(),
            counterexamples: Vec::new(),
            pii: Vec::new(),
            output: Value::Null,
            output_bytes: None,
            coverage_data: None,
        }
    }

    pub(crate) fn fail(&mut self, outcome: CaseOutcome, message: impl Into<String>) {
        self.outcome = outcome;
        self.message = Some(message.into());
    }
}

/// A case's result: its outcome and every attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseResult {
    /// The suite.
    pub suite: String,
    /// The case.
    pub name: String,
    /// Its kind.
    pub kind: CaseKind,
    /// The final outcome (flaky when an earlier attempt failed and the last passed).
    pub outcome: CaseOutcome,
    /// Every attempt, in order.
    pub attempts: Vec<Attempt>,
    /// The scenario id, if any.
    pub scenario: Option<String>,
    /// Whether the case expected a violation.
    pub expect_violation: bool,
    /// Wall-clock seconds over all attempts.
    pub duration: f64,
    /// Why the case errored outside any attempt (a harness failure), if it did.
    pub error: Option<String>,
}

impl CaseResult {
    /// `suite/case`.
    pub fn id(&self) -> String {
        format!("{}/{}", self.suite, self.name)
    }

    /// The last attempt.
    pub fn last(&self) -> Option<&Attempt> {
        self.attempts.last()
    }

    /// A case that was not run.
    pub(crate) fn not_run(suite: &str, case: &Case, outcome: CaseOutcome) -> CaseResult {
        CaseResult {
            suite: suite.to_string(),
            name: case.name.clone(),
            kind: case.kind,
            outcome,
            attempts: Vec::new(),
            scenario: case.scenario.as_ref().map(|s| s.id()),
            expect_violation: case.expect == Expect::Violation,
            duration: 0.0,
            error: None,
        }
    }
}

/// What a case needs from its run.
pub(crate) struct CaseContext<'a> {
    pub manifest: &'a Manifest,
    pub seed: Option<u64>,
    pub retries: u32,
    pub check: bool,
    pub cancel: &'a Arc<AtomicBool>,
    pub logs: Option<&'a Path>,
    /// The command that simulates in a separate process (determinism `processes > 1`).
    pub worker: Option<&'a [String]>,
    /// The run's scrubber (`None`: `[pii] kinds = []`).
    pub protect: Option<&'a super::protect::Protect>,
    /// The data sets generated for the run: name → directory (see [`super::datasets`]).
    pub datasets: &'a super::datasets::Generated,
}

/// Run a case with its retries.
pub(crate) fn run_case(
    ctx: &CaseContext<'_>,
    suite: &str,
    case: &Case,
    on_attempt: &mut dyn FnMut(&Attempt),
) -> CaseResult {
    let mut result = CaseResult::not_run(suite, case, CaseOutcome::Passed);
    let attempts = 1 + case.retries.unwrap_or(ctx.retries);
    for n in 1..=attempts {
        if ctx.cancel.load(Ordering::SeqCst) {
            if result.attempts.is_empty() {
                result.outcome = CaseOutcome::Cancelled;
                return result;
            }
            break;
        }
        let attempt = run_attempt(ctx, suite, case, n);
        result.duration += attempt.duration;
        on_attempt(&attempt);
        let done = attempt.outcome == CaseOutcome::Passed || attempt.outcome == CaseOutcome::Cancelled;
        result.attempts.push(attempt);
        if done {
            break;
        }
    }
    let last = result.attempts.last().map_or(CaseOutcome::Cancelled, |a| a.outcome);
    result.outcome = if last == CaseOutcome::Passed && result.attempts.len() > 1 {
        CaseOutcome::Flaky
    } else {
        last
    };
    result
}

/// When the run's seed (`--seed`, else `SIM_SEED`) replaces the seed the case's scenario file names (the case
/// names none itself): `(scenario's seed, run's seed)`. A case's own `seed`/`seeds` are never overridden.
pub(crate) fn seed_override(ctx: &CaseContext<'_>, case: &Case) -> Option<(u64, u64)> {
    let run = ctx.seed?;
    if !case.seeds.is_empty() {
        return None;
    }
    let own = case.scenario.as_ref()?.spec().seed?;
    (own != run).then_some((own, run))
}

fn seeds_of(ctx: &CaseContext<'_>, case: &Case) -> Vec<Option<u64>> {
    if case.seeds.is_empty() {
        vec![ctx.seed]
    } else {
        case.seeds.iter().map(|s| Some(*s)).collect()
    }
}

pub(crate) fn run_attempt(ctx: &CaseContext<'_>, suite: &str, case: &Case, number: u32) -> Attempt {
    let started = Instant::now();
    let mut a = Attempt::new(number);
    let timeout = case.timeout.unwrap_or(ctx.manifest.defaults.timeout);
    let timeout = StdDuration::from_nanos(timeout.nanos());
    let dog = super::deadline::Deadline::start(ctx.cancel, timeout);
    // The run's cancel and the deadline both set the stop flag, which the work polls.
    let stop: &AtomicBool = dog.stop();
    match case.kind {
        CaseKind::Sim | CaseKind::Chaos | CaseKind::Load => simulate_case(ctx, case, stop, &mut a),
        CaseKind::Determinism => determinism_case(ctx, suite, case, stop, &mut a),
        CaseKind::Command => command_case(ctx, suite, case, stop, timeout, &mut a),
    }
    // Before anything is compared or kept: goldens, the archive, reports and events get placeholders only.
    if let Some(p) = ctx.protect {
        p.attempt(&format!("{suite}/{}", case.name), &mut a);
    }
    let timed_out = dog.timed_out();
    drop(dog);
    if a.outcome != CaseOutcome::Passed || timed_out || ctx.cancel.load(Ordering::SeqCst) {
        if ctx.cancel.load(Ordering::SeqCst) {
            a.fail(CaseOutcome::Cancelled, "the run was cancelled");
        } else if timed_out {
            a.fail(
                CaseOutcome::TimedOut,
                format!(
                    "timed out after {}",
                    crate::scenario::Duration(timeout.as_nanos() as u64)
                ),
            );
        }
    } else if case.golden && a.output != Value::Null {
        match seed_override(ctx, case) {
            // The golden belongs to the scenario's own seed: comparing another seed's output with it says
            // nothing, so it is skipped, with why (report.json's run.seed_overrides lists the case too).
            Some((own, seed)) => {
                a.golden = Some(GoldenResult {
                    case: format!("{suite}/{}", case.name),
                    status: "skipped".to_string(),
                    summary: Some(format!(
                        "not compared: this run overrode the scenario's seed {own} with {seed}, and the golden is \
                         of seed {own}"
                    )),
                    html: None,
                    candidate: None,
                });
            }
            None => golden(ctx, suite, case, &mut a),
        }
    }
    if a.output != Value::Null {
        if let Ok(bytes) = crate::canon::canonical_bytes(&a.output) {
            a.digest = Some(crate::canon::digest_bytes(&bytes));
            a.output_bytes = Some(bytes);
        }
    }
    a.duration = started.elapsed().as_secs_f64();
    a
}

fn seed_output(o: &sim::Outcome) -> Value {
    let mut v = o.to_value();
    if let Value::Object(m) = &mut v {
        // The engine version is in the archive's manifest; keeping it out of outputs keeps goldens stable.
        m.remove("engine");
        // Thousands of operations: the verdict (kept) says what the golden needs to.
        m.remove("history");
    }
    v
}

fn simulate_case(ctx: &CaseContext<'_>, case: &Case, stop: &AtomicBool, a: &mut Attempt) {
    let Some(scenario) = &case.scenario else {
        return a.fail(CaseOutcome::Errored, "the case has no scenario");
    };
    let mut out = Map::new();
    let mut found = 0usize;
    let mut outcomes = Vec::new();
    for seed in seeds_of(ctx, case) {
        let opts = SimOptions {
            seed,
            trace: None,
            cancel: Some(stop),
            history: false,
        };
        match sim::simulate_with(scenario, &opts) {
            Ok(o) => {
                found += o.violations.len();
                a.seeds.push(SeedResult {
                    seed: o.seed,
                    digest: o.digest.clone(),
                    violations: o.violations.len(),
                    latency: o.latency.clone(),
                    throughput: o.stats.throughput,
                });
                if case.expect == Expect::Pass && !o.violations.is_empty() && a.message.is_none() {
                    let v = &o.violations[0];
                    a.fail(
                        CaseOutcome::Failed,
                        format!(
                            "seed {}: invariant {} violated at {}s on {}: {}",
                            o.seed, v.invariant, v.time, v.node, v.message
                        ),
                    );
                }
                if let Some(c) = o.linearizable.as_ref().filter(|v| v.linearizable == Some(false)) {
                    a.counterexamples.push(SeedCounterexample {
                        seed: o.seed,
                        text: c.text(),
                    });
                }
                out.insert(o.seed.to_string(), seed_output(&o));
                outcomes.push(o);
            }
            Err(e) if e.kind() == crate::ErrorKind::Cancelled => {
                return a.fail(CaseOutcome::Cancelled, "stopped");
            }
            Err(e) => return a.fail(CaseOutcome::Errored, e.to_string()),
        }
    }
    if case.expect == Expect::Violation && found == 0 {
        a.fail(CaseOutcome::Failed, "expected a violation, but no seed found one");
    }
    a.marks = sim::sometimes(scenario, &outcomes)
        .into_iter()
        .map(|(mark, seeds)| MarkResult { mark, seeds })
        .collect();
    if let Err(e) = sim::expect_sometimes(scenario, &outcomes) {
        if a.message.is_none() {
            a.fail(CaseOutcome::Failed, e.message());
        }
    }
    a.output = Value::Object(out);
}

fn determinism_case(ctx: &CaseContext<'_>, suite: &str, case: &Case, stop: &AtomicBool, a: &mut Attempt) {
    if !case.argv.is_empty() {
        return command_determinism(ctx, suite, case, stop, a);
    }
    let Some(scenario) = &case.scenario else {
        return a.fail(CaseOutcome::Errored, "the case has no scenario");
    };
    let seeds: Vec<u64> = match seeds_of(ctx, case)
        .into_iter()
        .map(|s| sim::resolve_seed(scenario, s))
        .collect::<crate::Result<Vec<u64>>>()
    {
        Ok(s) => s,
        Err(e) => return a.fail(CaseOutcome::Errored, e.to_string()),
    };
    let mut digests: BTreeMap<u64, BTreeMap<String, u64>> = BTreeMap::new();
    let mut runs = 0u64;
    for &threads in &case.threads {
        let batch: Vec<u64> = seeds
            .iter()
            .flat_map(|s| std::iter::repeat_n(*s, case.repeats as usize))
            .collect();
        match sim::sweep_with(scenario, &batch, Some(threads), Some(stop)) {
            Ok(outcomes) => {
                for o in outcomes {
                    runs += 1;
                    *digests.entry(o.seed).or_default().entry(o.digest).or_insert(0) += 1;
                }
            }
            Err(e) if e.kind() == crate::ErrorKind::Cancelled => return a.fail(CaseOutcome::Cancelled, "stopped"),
            Err(e) => return a.fail(CaseOutcome::Errored, e.to_string()),
        }
    }
    if case.processes > 1 {
        for &seed in &seeds {
            for p in 0..case.processes {
                if stop.load(Ordering::SeqCst) {
                    return a.fail(CaseOutcome::Cancelled, "stopped");
                }
                match simulate_in_process(ctx, suite, case, scenario, seed, p) {
                    Ok(d) => {
                        runs += 1;
                        *digests.entry(seed).or_default().entry(d).or_insert(0) += 1;
                    }
                    Err(m) => return a.fail(CaseOutcome::Errored, m),
                }
            }
        }
    }
    let deterministic = digests.values().all(|d| d.len() == 1);
    let mut drift = None;
    if !deterministic {
        let (seed, seen) = digests
            .iter()
            .find(|(_, d)| d.len() > 1)
            .map(|(s, d)| (*s, d.len()))
            .unwrap_or((0, 0));
        drift = localise(ctx, scenario, seed, stop);
        let at = drift
            .as_ref()
            .map_or(String::new(), |d| format!("; first divergent event {}", d.index));
        a.fail(
            CaseOutcome::Failed,
            format!("seed {seed} gave {seen} different digests across repeats and threads{at}"),
        );
    }
    a.output = json!({ "digests": digests });
    a.determinism = Some(DeterminismResult {
        runs,
        digests,
        deterministic,
        threads: case.threads.clone(),
        repeats: case.repeats,
        processes: case.processes,
        drift,
        artifacts: BTreeMap::new(),
        artifact_drift: Vec::new(),
    });
}

/// Simulate `seed` in a separate process: `<worker...> simulate <scenario.json> --seed N --json [--base-dir
/// DIR]`; returns the digest it printed. The scenario goes as JSON in the run's logs and, when it has
/// `python:` or `c:` nodes, its directory ([`crate::scenario::Scenario::base_dir`], absolute) as
/// `--base-dir`: a `c:` node's relative `library` and the modules of `python:` nodes are found there, not
/// beside the copy.
fn simulate_in_process(
    ctx: &CaseContext<'_>,
    suite: &str,
    case: &Case,
    scenario: &crate::scenario::Scenario,
    seed: u64,
    n: u32,
) -> Result<String, String> {
    let Some(worker) = ctx.worker.filter(|w| !w.is_empty()) else {
        return Err(format!(
            "processes = {} needs a worker command to simulate in separate processes (set {WORKER_ENV}, e.g. \
             \"python -m toron\", or the run's worker option; the Python surface sets it)",
            case.processes
        ));
    };
    let dir = ctx
        .logs
        .ok_or_else(|| "the run has no logs directory for the worker's scenario".to_string())?;
    // Absolute: the worker runs in the manifest's directory, not ours.
    let file = std::path::absolute(dir.join(format!("{suite}.{}.scenario.json", case.name)))
        .map_err(|e| format!("cannot resolve the worker's scenario path: {e}"))?;
    if !file.exists() {
        let text = serde_json::to_string(&scenario.to_value()).map_err(|e| e.to_string())?;
        std::fs::write(&file, text).map_err(|e| format!("cannot write {}: {e}", file.display()))?;
    }
    let mut argv: Vec<String> = worker.to_vec();
    argv.extend([
        "simulate".to_string(),
        file.to_string_lossy().into_owned(),
        "--seed".to_string(),
        seed.to_string(),
        "--json".to_string(),
    ]);
    // Only for outside models, which alone look for files there: a worker of scenarios without them need not
    // know the option.
    let outside = scenario.models().iter().any(|m| m.external().is_some());
    if let Some(base) = scenario.base_dir().filter(|_| outside) {
        let base = std::path::absolute(base).map_err(|e| format!("cannot resolve the scenario's directory: {e}"))?;
        argv.extend(["--base-dir".to_string(), base.to_string_lossy().into_owned()]);
    }
    let log = dir.join(format!("{suite}.{}.process-{seed}-{n}", case.name));
    let out = run_command(&argv, &BTreeMap::new(), ctx.manifest.root(), ctx.cancel, Some(&log))
        .map_err(|e| format!("worker {}: {e}", argv.join(" ")))?;
    let parsed: Value = serde_json::from_str(out.stdout.trim()).map_err(|e| {
        format!(
            "worker {} printed no outcome JSON ({e}); stderr: {}",
            argv.join(" "),
            out.stderr.trim()
        )
    })?;
    parsed
        .get("digest")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| format!("worker {}: the outcome has no digest", argv.join(" ")))
}

/// The environment variable naming the worker command (whitespace-separated argv, or a JSON array).
pub const WORKER_ENV: &str = "TORON_WORKER";

/// The worker command from [`WORKER_ENV`], if set.
pub(crate) fn worker_from_env() -> Option<Vec<String>> {
    let text = std::env::var(WORKER_ENV).ok()?;
    let text = text.trim();
    if text.starts_with('[') {
        serde_json::from_str(text).ok()
    } else {
        Some(text.split_whitespace().map(str::to_string).collect()).filter(|v: &Vec<String>| !v.is_empty())
    }
}

/// Run a command `repeats` times and compare its artifacts' identities; where they differ, the first differing
/// JSON paths with both values.
fn command_determinism(ctx: &CaseContext<'_>, suite: &str, case: &Case, stop: &AtomicBool, a: &mut Attempt) {
    let root = ctx.manifest.root();
    let mut seen: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    let mut first: BTreeMap<String, Value> = BTreeMap::new();
    let mut drift: Vec<ValueDrift> = Vec::new();
    let repeats = case.repeats.max(1);
    let env = match command_env(ctx, case) {
        Ok(e) => e,
        Err(m) => return a.fail(CaseOutcome::Errored, m),
    };
    for r in 1..=repeats {
        let logs = ctx
            .logs
            .map(|d| d.join(format!("{suite}.{}.{}.repeat-{r}", case.name, a.number)));
        let out = run_command(&case.argv, &env, root, stop, logs.as_deref());
        if let (Some(p), Some(prefix)) = (ctx.protect, logs.as_deref()) {
            p.scrub_logs(&format!("{suite}/{}", case.name), prefix);
        }
        let out = match out {
            Ok(o) => o,
            Err(e) => return a.fail(CaseOutcome::Errored, e.to_string()),
        };
        a.exit_code = out.exit_code;
        a.stdout = out.stdout;
        a.stderr = out.stderr;
        if out.killed {
            return a.fail(CaseOutcome::Errored, "the command was killed");
        }
        if out.exit_code != Some(0) {
            return a.fail(
                CaseOutcome::Failed,
                format!("repeat {r}: {} ended with {:?}", case.argv.join(" "), out.exit_code),
            );
        }
        for p in &case.artifacts {
            let name = p.to_string_lossy().replace('\\', "/");
            let value = match read_artifact(&ctx.manifest.resolve(p), &name) {
                Ok(v) => v,
                Err(m) => return a.fail(CaseOutcome::Failed, format!("repeat {r}: {m}")),
            };
            let id = match crate::canon::digest(&value) {
                Ok(d) => d,
                Err(e) => return a.fail(CaseOutcome::Failed, format!("repeat {r}: artifact {name}: {e}")),
            };
            *seen.entry(name.clone()).or_default().entry(id).or_insert(0) += 1;
            match first.get(&name) {
                None => {
                    first.insert(name, value);
                }
                Some(f) if drift.iter().all(|d| d.artifact != name) => {
                    drift.extend(value_drift(&name, f, &value));
                }
                Some(_) => {}
            }
        }
    }
    let deterministic = seen.values().all(|d| d.len() == 1);
    if !deterministic {
        let at = drift
            .first()
            .map_or(String::new(), |d| format!(": first at {} {}", d.artifact, d.path));
        a.fail(
            CaseOutcome::Failed,
            format!("the artifacts differ across {repeats} repeats{at}"),
        );
    }
    a.output = json!({ "artifacts": seen });
    a.determinism = Some(DeterminismResult {
        runs: u64::from(repeats),
        digests: BTreeMap::new(),
        deterministic,
        threads: Vec::new(),
        repeats,
        processes: repeats,
        drift: None,
        artifacts: seen,
        artifact_drift: drift,
    });
}

/// At most this many differing paths are kept per artifact.
const DRIFT_PATHS: usize = 10;

fn value_drift(artifact: &str, first: &Value, other: &Value) -> Vec<ValueDrift> {
    let Ok(d) = crate::diff::diff(first, other, &DiffOptions::default()) else {
        return Vec::new();
    };
    d.ops()
        .iter()
        .take(DRIFT_PATHS)
        .map(|op| ValueDrift {
            artifact: artifact.to_string(),
            path: op.path.clone(),
            a: op.old.clone(),
            b: op.value.clone(),
        })
        .collect()
}

fn read_artifact(path: &Path, name: &str) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("artifact {name} not readable: {e}"))?;
    crate::canon::parse_json(&text).map_err(|e| format!("artifact {name} is not JSON: {e}"))
}

/// Re-run `seed` twice with full traces (under the run's logs) and find their first divergent event.
fn localise(
    ctx: &CaseContext<'_>,
    scenario: &crate::scenario::Scenario,
    seed: u64,
    stop: &AtomicBool,
) -> Option<super::drift::Divergence> {
    let dir = ctx.logs?;
    let mut texts = Vec::new();
    for n in 0..2 {
        let path = dir.join(format!("drift-{}-{seed}-{n}.jsonl", scenario.name()));
        let opts = SimOptions {
            seed: Some(seed),
            trace: Some(path.clone()),
            cancel: Some(stop),
            history: false,
        };
        sim::simulate_with(scenario, &opts).ok()?;
        texts.push(std::fs::read_to_string(&path).ok()?);
    }
    super::drift::first_divergence(&texts[0], &texts[1]).ok().flatten()
}

/// A command's environment: the case's `env`, and its data sets' variables when it names any.
fn command_env<'c>(
    ctx: &CaseContext<'_>,
    case: &'c Case,
) -> std::result::Result<std::borrow::Cow<'c, BTreeMap<String, String>>, String> {
    if case.datasets.is_empty() {
        return Ok(std::borrow::Cow::Borrowed(&case.env));
    }
    super::datasets::case_env(&case.env, &case.datasets, ctx.datasets).map(std::borrow::Cow::Owned)
}

fn command_case(
    ctx: &CaseContext<'_>,
    suite: &str,
    case: &Case,
    stop: &AtomicBool,
    _timeout: StdDuration,
    a: &mut Attempt,
) {
    let root = ctx.manifest.root();
    let logs = ctx.logs.map(|d| d.join(format!("{suite}.{}.{}", case.name, a.number)));
    let env = match command_env(ctx, case) {
        Ok(e) => e,
        Err(m) => return a.fail(CaseOutcome::Errored, m),
    };
    let out = run_command(&case.argv, &env, root, stop, logs.as_deref());
    if let (Some(p), Some(prefix)) = (ctx.protect, logs.as_deref()) {
        p.scrub_logs(&format!("{suite}/{}", case.name), prefix);
    }
    let out: CommandOutput = match out {
        Ok(o) => o,
        Err(e) => return a.fail(CaseOutcome::Errored, e.to_string()),
    };
    a.exit_code = out.exit_code;
    a.stdout = out.stdout;
    a.stderr = out.stderr;
    if out.killed {
        // The watchdog or the run's cancel decides which; run_attempt sets the outcome.
        return a.fail(CaseOutcome::Errored, "the command was killed");
    }
    if out.exit_code != Some(0) {
        let how = match out.exit_code {
            Some(c) => format!("exit code {c}"),
            None => "a signal".to_string(),
        };
        a.fail(CaseOutcome::Failed, format!("{} ended with {how}", case.argv.join(" ")));
    }
    if !case.coverage.is_empty() {
        let files: Vec<_> = case.coverage.iter().map(|p| ctx.manifest.resolve(p)).collect();
        match Coverage::read_all(&files, root) {
            Ok(c) => {
                a.coverage = Some((c.lines_covered(), c.lines_valid()));
                a.coverage_data = Some(c);
            }
            Err(e) if a.outcome == CaseOutcome::Passed => {
                return a.fail(CaseOutcome::Failed, format!("coverage: {e}"));
            }
            Err(_) => {}
        }
    }
    if !case.artifacts.is_empty() {
        let mut arts = Map::new();
        for p in &case.artifacts {
            let full = ctx.manifest.resolve(p);
            let value = std::fs::read_to_string(&full)
                .map_err(|e| format!("artifact {} not readable: {e}", p.display()))
                .and_then(|t| {
                    serde_json::from_str::<Value>(&t).map_err(|e| format!("artifact {} is not JSON: {e}", p.display()))
                });
            match value {
                Ok(v) => {
                    arts.insert(p.to_string_lossy().replace('\\', "/"), v);
                }
                Err(m) if a.outcome == CaseOutcome::Passed => return a.fail(CaseOutcome::Failed, m),
                Err(_) => {}
            }
        }
        a.output = json!({ "artifacts": arts });
    }
}

fn golden(ctx: &CaseContext<'_>, suite: &str, case: &Case, a: &mut Attempt) {
    let id = format!("{suite}/{}", case.name);
    let root = ctx.manifest.resolve(&ctx.manifest.project.snapshots);
    let options: &DiffOptions = &case.diff;
    if ctx.check {
        // Never write under snapshots/: compare only; the candidate stays in the archive.
        let snaps = Snapshots::new(root);
        let res = match snaps.read(&id) {
            Ok(None) => Ok((
                "missing",
                Some("no golden file (check mode: not written)".to_string()),
                None,
            )),
            Ok(Some(g)) => crate::diff::diff(&g.value, &a.output, options).map(|d| {
                if d.is_empty() {
                    ("passed", None, None)
                } else {
                    ("failed", Some(d.summary()), Some(d.render(crate::diff::Format::Html)))
                }
            }),
            Err(e) => Err(e),
        };
        match res {
            Ok((status, summary, html)) => {
                if status != "passed" {
                    a.fail(
                        CaseOutcome::Failed,
                        format!("golden {id}: {}", summary.clone().unwrap_or_default()),
                    );
                }
                let candidate = (status != "passed")
                    .then(|| crate::canon::digest(&a.output).ok())
                    .flatten();
                a.golden = Some(GoldenResult {
                    case: id,
                    status: status.to_string(),
                    summary,
                    html,
                    candidate,
                });
            }
            Err(e) => a.fail(CaseOutcome::Errored, e.to_string()),
        }
        return;
    }
    match Snapshots::from_env(root).check(&id, &a.output, options) {
        Ok(r) => {
            let summary = r
                .diff()
                .map(|d| d.summary())
                .or_else(|| r.golden_missing().then(|| "no golden file".to_string()));
            if !r.passed() {
                a.fail(CaseOutcome::Failed, format!("golden {id}: {}", r.summary()));
            }
            let html = r.diff().map(|d| d.render(crate::diff::Format::Html));
            let candidate = (!r.passed()).then(|| crate::canon::digest(&a.output).ok()).flatten();
            a.golden = Some(GoldenResult {
                case: id,
                status: r.status().name().to_string(),
                summary,
                html,
                candidate,
            });
        }
        Err(e) => a.fail(CaseOutcome::Errored, e.to_string()),
    }
}
