//! Shrinking a failing simulation: the smallest scenario that, with the same seed, still breaks the same
//! invariant.
//!
//! A chaos run that finds a bug usually finds it in a large scenario: many clients, thousands of requests and
//! a fault plan of which one or two faults matter. Property-testing tools shrink a failing input; here the
//! input is the scenario itself. While the violation (the same invariant) still reproduces with the same seed,
//! the shrinker greedily tries, round after round until a whole round changes nothing:
//!
//! 1. drop each fault (last first);
//! 2. move each fault earlier and shorten its duration (to millisecond steps, halving the cut on a miss);
//! 3. move each fault to just after the earliest acknowledged client operation that still breaks it;
//! 4. fewer closed-loop clients;
//! 5. an earlier stop: the violation's time, then a request limit as low as still reproduces.
//!
//! Step 3 is what halving cannot do: whether a fault breaks an invariant depends on *what* it interrupts, not
//! on how early it comes (a crash loses a write only inside the moments after the write was acknowledged), so
//! its candidate times are the moments the system's state changed from a client's view: just after each `ok`
//! of the failing run's history, earliest first. A reduction that loses the violation (fewer clients shift
//! every request) gets the same retry with its own history before it is given up.
//!
//! Every candidate is a full simulation with the same seed, so a reduction is kept only when it reproduces by
//! itself: the minimal scenario replays to the violation with `toron simulate` alone. Candidates that do not
//! validate (say, a request limit on a scenario without load) are skipped, never an error.
//!
//! ```
//! use toron_core::scenario::Scenario;
//! use toron_core::shrink::{shrink, ShrinkOptions};
//! let s = Scenario::from_path(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/scenarios/kv_buggy.toml"))?;
//! let shrunk = shrink(&s, Some(3), &ShrinkOptions::default())?;
//! assert_eq!(shrunk.invariant, "acknowledged_write_lost");
//! assert!(shrunk.minimal.faults < shrunk.original.faults);
//! let again = toron_core::sim::simulate(&shrunk.scenario, None)?;
//! assert_eq!(again.violations[0].invariant, "acknowledged_write_lost");
//! # Ok::<(), toron_core::Error>(())
//! ```

use crate::scenario::{Duration, LoadMode, Scenario, ScenarioSpec};
use crate::sim::{self, Outcome, SimOptions, Violation};
use crate::{Error, ErrorKind, Result};
use serde::{Deserialize, Serialize};
use std::sync::atomic::AtomicBool;

/// Limits of a shrink.
#[derive(Debug, Clone)]
pub struct ShrinkOptions {
    /// At most this many simulations (the original one included); the best scenario found so far is returned
    /// when they run out.
    pub max_runs: usize,
}

impl Default for ShrinkOptions {
    fn default() -> Self {
        ShrinkOptions { max_runs: 1000 }
    }
}

/// The size of a scenario, as the shrinker measures it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Size {
    /// Faults in the plan.
    pub faults: usize,
    /// Closed-loop clients (1 for an open loop, 0 without load).
    pub clients: u32,
    /// Load requests the failing run sent.
    pub requests: u64,
    /// Virtual time the failing run lasted, in nanoseconds.
    pub virtual_time_ns: u64,
}

/// What [`shrink`] found.
#[derive(Debug, Clone, Serialize)]
pub struct Shrunk {
    /// The minimal scenario, with the seed written into it (so it replays alone).
    #[serde(skip)]
    pub scenario: Scenario,
    /// The file the original scenario was read from, if any.
    pub source: Option<std::path::PathBuf>,
    /// The seed.
    pub seed: u64,
    /// The invariant that is still violated.
    pub invariant: String,
    /// The minimal scenario's first violation of it.
    pub violation: Violation,
    /// Simulations made.
    pub runs: usize,
    /// Each accepted reduction, in order, for people.
    pub steps: Vec<String>,
    /// Whether the run budget ran out before a round changed nothing (the result may shrink further).
    pub exhausted: bool,
    /// The size before.
    pub original: Size,
    /// The size after.
    pub minimal: Size,
}

impl Shrunk {
    /// The minimal scenario as TOML, headed by a comment of how it was reached.
    pub fn to_toml(&self) -> Result<String> {
        let body = toml::to_string(self.scenario.spec())
            .map_err(|e| Error::new(ErrorKind::Scenario, format!("cannot write the scenario as TOML: {e}")))?;
        let from = match &self.source {
            Some(f) => format!("{} ({})", self.scenario.name(), f.display()),
            None => self.scenario.name().to_string(),
        };
        let mut head = vec![
            format!(
                "Shrunk by `toron shrink` from {from}, seed {}: the invariant",
                self.seed
            ),
            format!(
                "{} is still violated ({}s, {}: {}).",
                self.invariant,
                self.violation.time,
                self.violation.node,
                one_line(&self.violation.message)
            ),
            format!(
                "faults {} -> {}, clients {} -> {}, requests {} -> {}, virtual time {} -> {};",
                self.original.faults,
                self.minimal.faults,
                self.original.clients,
                self.minimal.clients,
                self.original.requests,
                self.minimal.requests,
                Duration(self.original.virtual_time_ns),
                Duration(self.minimal.virtual_time_ns),
            ),
            format!(
                "{} reductions kept in {} simulations{}:",
                self.steps.len(),
                self.runs,
                if self.exhausted {
                    " (the run budget ran out: it may shrink further)"
                } else {
                    ""
                }
            ),
        ];
        head.extend(self.steps.iter().map(|s| format!("  - {s}")));
        let mut out: String = head.iter().map(|l| format!("# {l}\n")).collect();
        out.push('\n');
        out.push_str(&body);
        Ok(out)
    }

    /// A summary for machines: everything but the scenario, plus the scenario's structure.
    pub fn to_value(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or(serde_json::Value::Null);
        if let serde_json::Value::Object(m) = &mut v {
            m.insert("scenario".into(), self.scenario.to_value());
        }
        v
    }
}

fn one_line(s: &str) -> String {
    let first = s.lines().next().unwrap_or("");
    if first.len() < s.trim_end().len() {
        format!("{first} ...")
    } else {
        first.to_string()
    }
}

/// At most this many candidate times per fault when a fault is moved to just after an acknowledged operation.
const RETIME_TRIES: usize = 24;

struct Shrinker<'a> {
    seed: u64,
    invariant: String,
    runs: usize,
    max_runs: usize,
    cancel: Option<&'a AtomicBool>,
    best: ScenarioSpec,
    best_outcome: Outcome,
    steps: Vec<String>,
}

impl Shrinker<'_> {
    fn out_of_runs(&self) -> bool {
        self.runs >= self.max_runs
    }

    /// Simulate `spec`, recording the client history (retiming reads it; recording never changes the run);
    /// `None` when it does not validate.
    fn simulate(&mut self, spec: &ScenarioSpec) -> Result<Option<Outcome>> {
        let Ok(s) = Scenario::from_spec(spec.clone()) else {
            return Ok(None);
        };
        self.runs += 1;
        sim::simulate_with(
            &s,
            &SimOptions {
                seed: Some(self.seed),
                cancel: self.cancel,
                history: true,
                ..Default::default()
            },
        )
        .map(Some)
    }

    fn violates(&self, o: &Outcome) -> bool {
        o.violations.iter().any(|v| v.invariant == self.invariant)
    }

    /// Simulate `spec`; `Some(outcome)` when it still violates the invariant.
    fn reproduces(&mut self, spec: &ScenarioSpec) -> Result<Option<Outcome>> {
        Ok(self.simulate(spec)?.filter(|o| self.violates(o)))
    }

    /// `spec` with one fault moved to just after an acknowledged client operation of `spec`'s own run
    /// (`acked`, from [`acked_times`]), the earliest such time that violates the invariant (earlier than the
    /// fault is now), with that run's outcome and the step that says so.
    fn retimed(&mut self, spec: &ScenarioSpec, acked: &[u64]) -> Result<Option<(ScenarioSpec, Outcome, String)>> {
        for i in 0..spec.faults.len() {
            let at = spec.faults[i].at.0;
            for &t in acked.iter().take_while(|&&t| t < at).take(RETIME_TRIES) {
                if self.out_of_runs() {
                    return Ok(None);
                }
                let mut candidate = spec.clone();
                candidate.faults[i].at = Duration(t);
                if let Some(o) = self.reproduces(&candidate)? {
                    let what = format!(
                        "fault[{i}] ({}) to just after an acknowledged operation: at {} -> {}",
                        fault_text(&spec.faults[i]),
                        Duration(at),
                        Duration(t)
                    );
                    return Ok(Some((candidate, o, what)));
                }
            }
        }
        Ok(None)
    }

    /// Step 3 on the best scenario so far, from the history of its own run.
    fn retime_faults(&mut self) -> Result<bool> {
        let best = self.best.clone();
        let acked = acked_times(&self.best_outcome);
        match self.retimed(&best, &acked)? {
            Some((spec, o, what)) => {
                self.best = spec;
                self.best_outcome = o;
                self.steps.push(what);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// [`Shrinker::accept`], and when `spec` loses the violation, `spec` with a fault retimed from the history
    /// of that same run ([`Shrinker::retimed`]); the move is logged as its own step.
    fn accept_retimed(&mut self, spec: ScenarioSpec) -> Result<bool> {
        if self.out_of_runs() || spec == self.best {
            return Ok(false);
        }
        let Some(o) = self.simulate(&spec)? else {
            return Ok(false);
        };
        if self.violates(&o) {
            self.best = spec;
            self.best_outcome = o;
            return Ok(true);
        }
        match self.retimed(&spec, &acked_times(&o))? {
            Some((spec, o, what)) => {
                self.best = spec;
                self.best_outcome = o;
                self.steps.push(what);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Try `spec`; keep it when it reproduces.
    fn accept(&mut self, spec: ScenarioSpec) -> Result<bool> {
        if self.out_of_runs() || spec == self.best {
            return Ok(false);
        }
        match self.reproduces(&spec)? {
            Some(o) => {
                self.best = spec;
                self.best_outcome = o;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// [`Shrinker::accept`], logging `step` when kept.
    fn attempt(&mut self, spec: ScenarioSpec, step: impl FnOnce() -> String) -> Result<bool> {
        let kept = self.accept(spec)?;
        if kept {
            self.steps.push(step());
        }
        Ok(kept)
    }

    /// Lower an integer field from its current value toward `min`: the biggest cut first, halving the cut on a
    /// miss. `get` reads it from a spec, `set` writes it; one step is logged, from the first value to the last.
    fn lower(
        &mut self,
        min: u64,
        retime: bool,
        get: impl Fn(&ScenarioSpec) -> Option<u64>,
        set: impl Fn(&mut ScenarioSpec, u64),
        describe: impl Fn(u64, u64) -> String,
    ) -> Result<bool> {
        let Some(first) = get(&self.best) else {
            return Ok(false);
        };
        let mut cur = first;
        let mut cut = cur.saturating_sub(min);
        while cut > 0 && !self.out_of_runs() {
            let next = cur - cut;
            let mut spec = self.best.clone();
            set(&mut spec, next);
            let kept = if retime {
                self.accept_retimed(spec)?
            } else {
                self.accept(spec)?
            };
            if kept {
                cur = next;
                cut = cur.saturating_sub(min).min(cut);
            } else {
                cut /= 2;
            }
        }
        if cur != first {
            self.steps.push(describe(first, cur));
        }
        Ok(cur != first)
    }

    fn drop_faults(&mut self) -> Result<bool> {
        let mut changed = false;
        let mut i = self.best.faults.len();
        while i > 0 && !self.out_of_runs() {
            i -= 1;
            let mut spec = self.best.clone();
            let f = spec.faults.remove(i);
            if self.attempt(spec, || format!("dropped fault[{i}] ({})", fault_text(&f)))? {
                changed = true;
            }
        }
        Ok(changed)
    }

    fn earlier_faults(&mut self) -> Result<bool> {
        const MS: u64 = 1_000_000;
        let mut changed = false;
        for i in 0..self.best.faults.len() {
            let what = fault_text(&self.best.faults[i]);
            changed |= self.lower(
                0,
                false,
                |s| s.faults.get(i).map(|f| f.at.0 / MS),
                |s, v| s.faults[i].at = Duration(v * MS),
                |a, b| {
                    format!(
                        "fault[{i}] ({what}) earlier: at {} -> {}",
                        Duration(a * MS),
                        Duration(b * MS)
                    )
                },
            )?;
            changed |= self.lower(
                1,
                false,
                |s| s.faults.get(i).and_then(|f| f.duration).map(|d| d.0.div_ceil(MS)),
                |s, v| s.faults[i].duration = Some(Duration(v * MS)),
                |a, b| {
                    format!(
                        "fault[{i}] ({what}) shorter: {} -> {}",
                        Duration(a * MS),
                        Duration(b * MS)
                    )
                },
            )?;
        }
        Ok(changed)
    }

    fn fewer_clients(&mut self) -> Result<bool> {
        self.lower(
            1,
            true,
            |s| {
                s.load
                    .as_ref()
                    .filter(|l| l.mode == LoadMode::Closed)
                    .and_then(|l| l.clients)
                    .map(u64::from)
            },
            |s, v| {
                if let Some(l) = &mut s.load {
                    l.clients = Some(v as u32);
                }
            },
            |a, b| format!("clients {a} -> {b}"),
        )
    }

    fn earlier_stop(&mut self) -> Result<bool> {
        let mut changed = false;
        // The run needs to last only until the violation (rounded up to a millisecond, for people).
        if let Some(v) = self.violation().cloned() {
            let end = v.time_ns.max(1).div_ceil(1_000_000) * 1_000_000;
            let before = self.best.stop.time;
            if before.is_none_or(|t| t.0 > end) {
                let mut spec = self.best.clone();
                spec.stop.time = Some(Duration(end));
                changed |= self.attempt(spec, || {
                    format!(
                        "stop at the violation: time {} -> {}",
                        before.map_or("none".to_string(), |t| t.to_string()),
                        Duration(end)
                    )
                })?;
            }
        }
        if self.best.load.is_some() {
            if self.best.stop.requests.is_none() {
                let sent = self.best_outcome.stats.requests_sent.max(1);
                let mut spec = self.best.clone();
                spec.stop.requests = Some(sent);
                changed |= self.attempt(spec, || format!("request limit none -> {sent}"))?;
            }
            changed |= self.lower(
                1,
                false,
                |s| s.stop.requests,
                |s, v| s.stop.requests = Some(v),
                |a, b| format!("requests {a} -> {b}"),
            )?;
        }
        Ok(changed)
    }

    fn violation(&self) -> Option<&Violation> {
        self.best_outcome
            .violations
            .iter()
            .find(|v| v.invariant == self.invariant)
    }
}

/// The moments just after each `ok` of a run's client history, rounded up to the next microsecond (scenario
/// files stay readable), in time order.
fn acked_times(o: &Outcome) -> Vec<u64> {
    let mut acked: Vec<u64> = o
        .history
        .iter()
        .flat_map(|h| &h.ops)
        .filter(|op| op.r#type == crate::check::OpType::Ok)
        .filter_map(|op| op.time)
        .map(|t| (t / 1_000 + 1) * 1_000)
        .collect();
    acked.dedup();
    acked
}

fn fault_text(f: &crate::scenario::FaultSpec) -> String {
    match &f.node {
        Some(n) => format!("{} of {n} at {}", f.kind.name(), f.at),
        None => format!("{} at {}", f.kind.name(), f.at),
    }
}

fn size(spec: &ScenarioSpec, o: &Outcome) -> Size {
    Size {
        faults: spec.faults.len(),
        clients: match &spec.load {
            None => 0,
            Some(l) if l.mode == LoadMode::Closed => l.clients.unwrap_or(1),
            Some(_) => 1,
        },
        requests: o.stats.requests_sent,
        virtual_time_ns: o.stats.virtual_time_ns,
    }
}

/// Shrink `scenario` while `seed` (see [`sim::resolve_seed`] for `None`) still violates the invariant its
/// first violation names. Fails with [`ErrorKind::InvalidArgument`] when that seed shows no violation.
pub fn shrink(scenario: &Scenario, seed: Option<u64>, options: &ShrinkOptions) -> Result<Shrunk> {
    shrink_with(scenario, seed, options, None)
}

/// [`shrink`] with a cancel flag (checked inside every simulation).
pub fn shrink_with(
    scenario: &Scenario,
    seed: Option<u64>,
    options: &ShrinkOptions,
    cancel: Option<&AtomicBool>,
) -> Result<Shrunk> {
    let seed = sim::resolve_seed(scenario, seed)?;
    let first = sim::simulate_with(
        scenario,
        &SimOptions {
            seed: Some(seed),
            cancel,
            ..Default::default()
        },
    )?;
    let Some(v) = first.violations.first() else {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "{:?} with seed {seed} violates no invariant: there is nothing to shrink (expected a seed that \
                 fails, e.g. one a chaos sweep found)",
                scenario.name()
            ),
        ));
    };
    let mut spec = scenario.spec().clone();
    spec.seed = Some(seed);
    let original = size(&spec, &first);
    let mut s = Shrinker {
        seed,
        invariant: v.invariant.clone(),
        runs: 1,
        max_runs: options.max_runs.max(1),
        cancel,
        best: spec,
        best_outcome: first,
        steps: Vec::new(),
    };
    loop {
        let mut changed = s.drop_faults()?;
        changed |= s.earlier_faults()?;
        changed |= s.retime_faults()?;
        changed |= s.fewer_clients()?;
        changed |= s.earlier_stop()?;
        if !changed || s.out_of_runs() {
            break;
        }
    }
    let exhausted = s.out_of_runs();
    let minimal = size(&s.best, &s.best_outcome);
    let violation = s
        .violation()
        .cloned()
        .ok_or_else(|| Error::new(ErrorKind::Sim, "the shrunk scenario lost its violation"))?;
    Ok(Shrunk {
        scenario: Scenario::from_spec(s.best)?,
        source: scenario.file().map(std::path::Path::to_path_buf),
        seed,
        invariant: s.invariant,
        violation,
        runs: s.runs,
        steps: s.steps,
        exhausted,
        original,
        minimal,
    })
}
