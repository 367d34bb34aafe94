//! `index.html`: a run's report for people ([`run_html`]) and the list of runs ([`index_html`]).
//!
//! Each page is one self-contained file: inline CSS, inline SVG charts, no JavaScript, and no reference to
//! anything outside itself (no `<link>`, `src=`, `url(...)`, `@import` or network address), so it opens the
//! same from a CI artifact, a mail attachment or a machine without network. The only links are in-page
//! anchors and, in the runs list, the relative `./<run id>/index.html` of each run.
//!
//! A run's page shows, in this order: the verdict (GO / NO-GO) with the failing rules and their sentences;
//! the run's KPIs; a table of cases; the HTML diff of each golden that did not match; a chart of the latency
//! percentiles per seed of each simulation with latency; the digests seen by each determinism check and,
//! when one drifted, the first divergent event of two traced re-runs.
//!
//! # Why minijinja
//!
//! The pages are [minijinja](https://docs.rs/minijinja) templates (`report/html/*.html`) with HTML
//! auto-escaping on for every value. Run ids, case names, messages, command output and rule text are all
//! user-provided; with `format!`-building one forgotten escape is an injection, while here escaping is the
//! default and the one raw insertion (the golden diff fragment, already escaped by [`crate::diff`]) is
//! explicit (`|safe`) and checked. The layout also reads as HTML rather than as Rust string pushes. Numbers
//! and coordinates are formatted in Rust before rendering, so the templates hold no arithmetic.
//!
//! As defence in depth, each page carries a `Content-Security-Policy` of `default-src 'none'` (inline styles
//! only): a browser will neither run a script nor fetch anything, whatever a page contains.
//!
//! # Determinism
//!
//! The same [`RunResult`] gives the same bytes: nothing reads the clock or the environment, every map
//! iterated is ordered (`BTreeMap`), and floats are formatted with fixed precision.
//!
//! ```
//! use toron_core::report::html::run_html;
//! use toron_core::runner::RunResult;
//! let result: RunResult = serde_json::from_value(serde_json::json!({
//!     "id": "run-1", "state": "passed", "error": null, "profile": null, "suites": [], "seed": null,
//!     "started": "2026-01-01T00:00:00Z", "duration": 0.5, "cases": [],
//!     "kpis": {"run": {}, "suites": {}, "cases": {}},
//!     "verdict": {"go": true, "verdict": "GO", "rules": []},
//!     "archive": ".toron", "report_dir": null
//! }))?;
//! let page = run_html(&result);
//! assert!(page.starts_with("<!DOCTYPE html>"));
//! assert!(page.contains(r#"<div class="big">GO</div>"#));
//! assert_eq!(page, run_html(&result));
//! # Ok::<(), serde_json::Error>(())
//! ```

use crate::gate::{LatencyStat, Metric, RuleResult, RuleStatus, Severity};
use crate::runner::{
    Attempt, CaseKind, CaseOutcome, CaseResult, DeterminismResult, RunOverview, RunResult, RunState, SeedResult,
};
use crate::sim::LatencySummary;
use minijinja::syntax::SyntaxConfig;
use minijinja::value::{Serde, Value};
use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::Serialize;
use std::collections::BTreeMap;

const RUN_TEMPLATE: &str = include_str!("html/run.html");
const INDEX_TEMPLATE: &str = include_str!("html/index.html");
const INCIDENTS_TEMPLATE: &str = include_str!("html/incidents.html");
const STYLE: &str = include_str!("html/style.css");

/// Command output shown per failed case: its last 4 KiB (the whole output is in `report.json`).
const OUTPUT_TAIL: usize = 4096;
/// Seeds listed in a case's row before the rest are counted.
const ROW_SEEDS: usize = 8;
/// The start of every fragment `crate::diff` renders as HTML; anything else is shown as text.
const DIFF_FRAGMENT_START: &str = "<div class=\"toron-diff\"";
/// Line colours of the latency charts, one per seed (cycled).
const PALETTE: &[&str] = &[
    "#0969da", "#cf222e", "#1a7f37", "#8250df", "#bc4c00", "#1b7c83", "#bf3989", "#6e7781", "#4d2d00", "#0550ae",
];
/// KPIs the runs list shows per run, when the run has them.
const INDEX_KPIS: &[Metric] = &[
    Metric::PassRate,
    Metric::Failed,
    Metric::Errored,
    Metric::Flaky,
    Metric::Determinism,
    Metric::Coverage,
    Metric::Latency(LatencyStat::P99),
];

/// The run's `index.html`: one self-contained page (see the [module documentation](self)).
pub fn run_html(result: &RunResult) -> String {
    let view = RunView::new(result);
    render(
        "run.html",
        RUN_TEMPLATE,
        minijinja::context! { run => Value::from(Serde(&view)), style => Value::from_safe_string(STYLE.into()) },
    )
}

/// `reports/index.html`: every run in `runs`, in the order given (callers pass them newest first), each with
/// its state (and error, if it errored), verdict, start, duration and key KPIs, linking to
/// `./<run id>/index.html`.
pub fn index_html(runs: &[RunOverview]) -> String {
    let rows: Vec<IndexRow> = runs.iter().map(IndexRow::new).collect();
    let summary = match runs.len() {
        1 => "1 run, newest first".to_string(),
        n => format!("{n} runs, newest first"),
    };
    render(
        "index.html",
        INDEX_TEMPLATE,
        minijinja::context! {
            has_incidents => rows.iter().any(|r| r.incident.is_some()),
            runs => Value::from(Serde(&rows)),
            summary => summary,
            index_file => super::INDEX_FILE,
            style => Value::from_safe_string(STYLE.into()),
        },
    )
}

/// Render `source` with every value HTML-escaped. A template error is a bug (the tests render every
/// template); it still gives a page, saying what went wrong, rather than a panic.
/// `reports/incidents.html`: the warroom's incidents (newest first), each with its status, severity, title,
/// profile, runs, failing rules and postmortem (`postmortems`: the incident ids that have one, and where).
pub fn incidents_html(incidents: &[crate::warroom::Incident], postmortems: &BTreeMap<String, String>) -> String {
    #[derive(Serialize)]
    struct Row<'a> {
        id: &'a str,
        status: &'static str,
        open: bool,
        severity: &'static str,
        title: &'a str,
        profile: Option<&'a str>,
        runs: usize,
        opened_at: &'a str,
        rules: Vec<&'a str>,
        postmortem: Option<&'a str>,
    }
    let rows: Vec<Row> = incidents
        .iter()
        .rev()
        .map(|i| Row {
            id: &i.id,
            status: i.status.name(),
            open: i.status != crate::warroom::Status::Resolved,
            severity: i.severity.name(),
            title: &i.title,
            profile: i.profile.as_deref(),
            runs: i.runs.len(),
            opened_at: &i.opened_at,
            rules: i.rules.iter().map(|r| r.rule.as_str()).collect(),
            postmortem: postmortems.get(&i.id).map(String::as_str),
        })
        .collect();
    let open = rows.iter().filter(|r| r.open).count();
    let summary = format!(
        "{}, {open} not resolved, newest first",
        plural(rows.len(), "incident", "incidents")
    );
    render(
        "incidents.html",
        INCIDENTS_TEMPLATE,
        minijinja::context! {
            incidents => Value::from(Serde(&rows)),
            summary => summary,
            index_file => super::INDEX_FILE,
            style => Value::from_safe_string(STYLE.into()),
        },
    )
}

fn render(name: &'static str, source: &'static str, ctx: Value) -> String {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    if let Ok(syntax) = SyntaxConfig::builder().trim_blocks(true).lstrip_blocks(true).build() {
        env.set_syntax(syntax);
    }
    if let Err(e) = env.add_template(name, source) {
        return error_page(name, &e.to_string());
    }
    match env.get_template(name).and_then(|t| t.render(ctx)) {
        Ok(mut page) => {
            if !page.ends_with('\n') {
                page.push('\n');
            }
            page
        }
        Err(e) => error_page(name, &e.to_string()),
    }
}

fn error_page(name: &str, error: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>Toron report</title></head>\n\
         <body><p>The report page {} could not be rendered (a bug in Toron): {}</p></body>\n</html>\n",
        escape(name),
        escape(error)
    )
}

/// HTML-escape text outside the templates (the error page only).
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `n thing` or `n things`.
fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A metric's value as a person reads it, or a dash.
fn show(metric: &str, value: Option<f64>) -> String {
    match (value, Metric::parse(metric)) {
        (Some(v), Ok(m)) if v.is_finite() => m.show(v),
        (Some(v), Err(_)) if v.is_finite() => format!("{v}"),
        _ => "—".to_string(),
    }
}

/// [`show`] for a known metric (no name to look up: this runs for every case of the run).
fn shown(m: Metric, v: f64) -> String {
    if v.is_finite() {
        m.show(v)
    } else {
        "—".to_string()
    }
}

fn seconds(s: f64) -> String {
    shown(Metric::Duration, s)
}

/// The last `max` bytes of `s` (on a character boundary) and whether it was cut.
fn tail(s: &str, max: usize) -> (&str, bool) {
    if s.len() <= max {
        return (s, false);
    }
    let mut start = s.len() - max;
    while !s.is_char_boundary(start) {
        start += 1;
    }
    (s.get(start..).unwrap_or_default(), true)
}

#[derive(Serialize)]
struct RuleView<'a> {
    rule: &'a str,
    scope: Option<&'a str>,
    severity: &'static str,
    status: &'static str,
    actual: String,
    threshold: String,
    explanation: &'a str,
}

impl<'a> RuleView<'a> {
    fn new(r: &'a RuleResult) -> RuleView<'a> {
        RuleView {
            rule: &r.rule,
            scope: r.scope.as_deref(),
            severity: r.severity.name(),
            status: r.status.name(),
            actual: show(&r.metric, r.actual),
            threshold: match r.threshold {
                Some(t) => format!("{} {}", r.comparator, show(&r.metric, Some(t))),
                None => "—".to_string(),
            },
            explanation: &r.explanation,
        }
    }
}

#[derive(Serialize)]
struct Kpi {
    name: String,
    value: String,
}

/// The run's KPIs: known metrics in report order, then any other the run has (newer engines), by name.
fn kpis(values: &super::Values, only: Option<&[Metric]>) -> Vec<Kpi> {
    let metrics: Vec<Metric> = only.map_or_else(Metric::all, <[Metric]>::to_vec);
    let mut out: Vec<Kpi> = metrics
        .iter()
        .filter_map(|m| {
            let v = values.get(m.name())?;
            Some(Kpi {
                name: m.name().to_string(),
                value: show(m.name(), Some(*v)),
            })
        })
        .collect();
    if only.is_none() {
        out.extend(
            values
                .iter()
                .filter(|(k, _)| Metric::parse(k).is_err())
                .map(|(k, v)| Kpi {
                    name: k.clone(),
                    value: show(k, Some(*v)),
                }),
        );
    }
    out
}

#[derive(Serialize)]
struct Link {
    anchor: String,
    label: &'static str,
}

#[derive(Serialize)]
struct Output {
    label: String,
    text: String,
}

#[derive(Serialize)]
struct CaseRow {
    n: usize,
    id: String,
    kind: &'static str,
    outcome: &'static str,
    bad: bool,
    attempts: usize,
    seeds: String,
    duration: String,
    message: String,
    links: Vec<Link>,
    outputs: Vec<Output>,
}

fn is_bad(o: CaseOutcome) -> bool {
    matches!(o, CaseOutcome::Failed | CaseOutcome::Errored | CaseOutcome::TimedOut)
}

/// The seeds of an attempt (a determinism check's from its digests), the first few listed.
fn seeds_text(a: Option<&Attempt>) -> String {
    let seeds: Vec<u64> = match a {
        Some(a) if a.seeds.is_empty() => a
            .determinism
            .as_ref()
            .map(|d| d.digests.keys().copied().collect())
            .unwrap_or_default(),
        Some(a) => a.seeds.iter().map(|s| s.seed).collect(),
        None => Vec::new(),
    };
    if seeds.is_empty() {
        return "—".to_string();
    }
    let shown: Vec<String> = seeds.iter().take(ROW_SEEDS).map(u64::to_string).collect();
    let mut s = shown.join(", ");
    if seeds.len() > ROW_SEEDS {
        s.push_str(&format!(" … ({} seeds)", seeds.len()));
    }
    s
}

/// Why a case did not pass: the last attempt's message; for a flaky case, the last failed attempt's; else
/// the harness error.
fn message_of(c: &CaseResult) -> String {
    let message = case_message(c);
    // What the scrubber found in the case: the kinds and how many, never the values.
    let Some(a) = c.last().filter(|a| !a.pii.is_empty()) else {
        return message;
    };
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for f in &a.pii {
        *kinds.entry(f.kind.as_str()).or_default() += 1;
    }
    let list: Vec<String> = kinds.iter().map(|(k, n)| format!("{n} {k}")).collect();
    let pii = format!("PII {}: {}", a.pii[0].action, list.join(", "));
    if message.is_empty() {
        pii
    } else {
        format!("{message} · {pii}")
    }
}

fn case_message(c: &CaseResult) -> String {
    let last = c.last();
    if let Some(m) = last.and_then(|a| a.message.as_deref()) {
        return m.to_string();
    }
    if c.outcome == CaseOutcome::Flaky {
        if let Some(a) = c.attempts.iter().rev().find(|a| a.outcome != CaseOutcome::Passed) {
            let m = a.message.as_deref().unwrap_or(a.outcome.name());
            return format!("attempt {} {}: {m}", a.number, a.outcome.name());
        }
    }
    c.error.clone().unwrap_or_default()
}

fn outputs_of(c: &CaseResult) -> Vec<Output> {
    let Some(a) = c.last() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    // What the checkers found, whether the case expected it or not.
    for x in &a.counterexamples {
        out.push(Output {
            label: format!("linearizability counterexample, seed {}", x.seed),
            text: x.text.clone(),
        });
    }
    if !a.marks.is_empty() {
        let text = a
            .marks
            .iter()
            .map(|m| match m.seeds.len() {
                0 => format!("{}: reached on no seed\n", m.mark),
                _ => format!(
                    "{}: seeds {}\n",
                    m.mark,
                    m.seeds.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
                ),
            })
            .collect();
        out.push(Output {
            label: "marks (expect.sometimes)".to_string(),
            text,
        });
    }
    if !is_bad(c.outcome) {
        return out;
    }
    for (name, text) in [("stdout", &a.stdout), ("stderr", &a.stderr)] {
        if text.is_empty() {
            continue;
        }
        let (t, cut) = tail(text, OUTPUT_TAIL);
        let label = if cut {
            format!("{name} (last {} of {} bytes)", t.len(), text.len())
        } else {
            format!("{name} ({} bytes)", text.len())
        };
        out.push(Output {
            label,
            text: t.to_string(),
        });
    }
    out
}

#[derive(Serialize)]
struct GoldenView<'a> {
    anchor: String,
    case: &'a str,
    status: &'a str,
    summary: Option<&'a str>,
    candidate: Option<&'a str>,
    /// The diff fragment, inserted as-is: only when it is one `crate::diff` made.
    html: Option<&'a str>,
    /// Anything else given as a diff, shown as text.
    escaped: Option<&'a str>,
}

#[derive(Serialize)]
struct Tick {
    x: String,
    y: String,
    label: String,
}

#[derive(Serialize)]
struct Dot {
    x: String,
    y: String,
    title: String,
}

#[derive(Serialize)]
struct Line {
    seed: u64,
    color: &'static str,
    points: String,
    dots: Vec<Dot>,
}

#[derive(Serialize)]
struct LatencyRow {
    seed: u64,
    color: &'static str,
    count: u64,
    p50: String,
    p90: String,
    p99: String,
    p999: String,
    max: String,
    mean: String,
    throughput: String,
}

#[derive(Serialize)]
struct Chart {
    anchor: String,
    case: String,
    width: u32,
    height: u32,
    left: u32,
    right: u32,
    bottom: u32,
    label_x: u32,
    x_label_y: u32,
    /// Whether to draw the curves: not when every seed has a single sample (all its percentiles are that
    /// sample; the table says it all, and a run of many one-request cases would carry a drawing per case).
    svg: bool,
    y_ticks: Vec<Tick>,
    x_ticks: Vec<Tick>,
    lines: Vec<Line>,
    rows: Vec<LatencyRow>,
}

/// A chart's statistic: its label and how to read it.
type Stat = (&'static str, fn(&LatencySummary) -> f64);

/// The statistics a chart draws, left to right.
const CHART_STATS: [Stat; 5] = [
    ("p50", |l| l.p50),
    ("p90", |l| l.p90),
    ("p99", |l| l.p99),
    ("p99.9", |l| l.p999),
    ("max", |l| l.max),
];

/// `1`, `2` or `5` × a power of ten, at least `x` (for axis steps).
fn nice_step(x: f64) -> f64 {
    if !(x.is_finite() && x > 0.0) {
        return 1.0;
    }
    let p = 10f64.powf(x.log10().floor());
    // A relative tolerance: 0.02 must give 0.02 even when 10^-2 is a hair below 0.01.
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * p)
        .find(|s| *s >= x * (1.0 - 1e-9))
        .unwrap_or(10.0 * p)
}

fn latency(v: f64) -> String {
    shown(Metric::Latency(LatencyStat::P50), v)
}

impl Chart {
    const WIDTH: u32 = 640;
    const HEIGHT: u32 = 260;
    const LEFT: u32 = 64;
    const RIGHT: u32 = 624;
    const TOP: u32 = 16;
    const BOTTOM: u32 = 224;

    /// A chart of the seeds with latency of the last attempt of `c`, if it has any.
    fn new(n: usize, c: &CaseResult) -> Option<Chart> {
        let seeds: Vec<_> = c.last()?.seeds.iter().filter(|s| s.latency.count > 0).collect();
        if seeds.is_empty() {
            return None;
        }
        let rows = seeds
            .iter()
            .enumerate()
            .map(|(k, s)| {
                let l = &s.latency;
                LatencyRow {
                    seed: s.seed,
                    color: PALETTE[k % PALETTE.len()],
                    count: l.count,
                    p50: latency(l.p50),
                    p90: latency(l.p90),
                    p99: latency(l.p99),
                    p999: latency(l.p999),
                    max: latency(l.max),
                    mean: latency(l.mean),
                    throughput: shown(Metric::Throughput, s.throughput),
                }
            })
            .collect();
        let svg = seeds.iter().any(|s| s.latency.count > 1);
        let (y_ticks, x_ticks, lines) = if svg { Self::curves(&seeds) } else { Default::default() };
        Some(Chart {
            anchor: format!("latency-{n}"),
            case: c.id(),
            width: Self::WIDTH,
            height: Self::HEIGHT,
            left: Self::LEFT,
            right: Self::RIGHT,
            bottom: Self::BOTTOM,
            label_x: Self::LEFT - 6,
            x_label_y: Self::BOTTOM + 18,
            svg,
            y_ticks,
            x_ticks,
            lines,
            rows,
        })
    }

    /// The axes' ticks and a line per seed through its percentiles.
    fn curves(seeds: &[&SeedResult]) -> (Vec<Tick>, Vec<Tick>, Vec<Line>) {
        let finite = |v: f64| if v.is_finite() && v > 0.0 { v } else { 0.0 };
        let top_value = seeds
            .iter()
            .flat_map(|s| CHART_STATS.iter().map(|(_, f)| finite(f(&s.latency))))
            .fold(0.0, f64::max);
        let step = nice_step(top_value / 4.0);
        let steps = if top_value > 0.0 {
            (top_value / step - 1e-9).ceil().max(1.0)
        } else {
            4.0
        };
        let y_max = step * steps;
        let (left, right, top, bottom) = (
            Self::LEFT as f64,
            Self::RIGHT as f64,
            Self::TOP as f64,
            Self::BOTTOM as f64,
        );
        let y = |v: f64| bottom - (finite(v) / y_max).min(1.0) * (bottom - top);
        let x = |i: usize| left + 24.0 + i as f64 * (right - left - 48.0) / (CHART_STATS.len() - 1) as f64;
        let y_ticks = (0..=steps as u32)
            .map(|i| {
                let v = step * i as f64;
                Tick {
                    x: String::new(),
                    y: format!("{:.1}", y(v)),
                    label: latency(v),
                }
            })
            .collect();
        let x_ticks = CHART_STATS
            .iter()
            .enumerate()
            .map(|(i, (name, _))| Tick {
                x: format!("{:.1}", x(i)),
                y: String::new(),
                label: (*name).to_string(),
            })
            .collect();
        let mut lines = Vec::new();
        for (k, s) in seeds.iter().enumerate() {
            let color = PALETTE[k % PALETTE.len()];
            let l = &s.latency;
            let dots: Vec<Dot> = CHART_STATS
                .iter()
                .enumerate()
                .map(|(i, (name, f))| Dot {
                    x: format!("{:.1}", x(i)),
                    y: format!("{:.1}", y(f(l))),
                    title: format!("{name} {}", latency(f(l))),
                })
                .collect();
            let points = dots
                .iter()
                .map(|d| format!("{},{}", d.x, d.y))
                .collect::<Vec<_>>()
                .join(" ");
            lines.push(Line {
                seed: s.seed,
                color,
                points,
                dots,
            });
        }
        (y_ticks, x_ticks, lines)
    }
}

#[derive(Serialize)]
struct DigestSeen {
    digest: String,
    count: u64,
}

#[derive(Serialize)]
struct SeedDigests {
    seed: u64,
    drifting: bool,
    digests: Vec<DigestSeen>,
}

#[derive(Serialize)]
struct DriftView {
    index: u64,
    time: Option<String>,
    a: String,
    b: String,
}

#[derive(Serialize)]
struct DeterminismView {
    anchor: String,
    case: String,
    outcome: &'static str,
    verdict: &'static str,
    message: String,
    checked: bool,
    runs: u64,
    repeats: u32,
    threads: String,
    seeds: Vec<SeedDigests>,
    drift: Option<DriftView>,
    drift_seed: String,
    drift_note: Option<&'static str>,
}

fn event_text(e: Option<&serde_json::Value>) -> String {
    match e {
        None => "(the trace ended here)".to_string(),
        Some(v) => serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string()),
    }
}

impl DeterminismView {
    fn new(n: usize, c: &CaseResult) -> DeterminismView {
        let det: Option<&DeterminismResult> = c.last().and_then(|a| a.determinism.as_ref());
        let verdict = match det {
            Some(d) if d.deterministic => "deterministic",
            Some(_) => "NOT deterministic",
            None => "not checked",
        };
        let seeds: Vec<SeedDigests> = det
            .map(|d| {
                d.digests
                    .iter()
                    .map(|(seed, seen)| SeedDigests {
                        seed: *seed,
                        drifting: seen.len() > 1,
                        digests: seen
                            .iter()
                            .map(|(digest, count)| DigestSeen {
                                digest: digest.clone(),
                                count: *count,
                            })
                            .collect(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let drift_seed = seeds
            .iter()
            .find(|s| s.drifting)
            .map(|s| s.seed.to_string())
            .unwrap_or_default();
        let drift = det.and_then(|d| d.drift.as_ref()).map(|d| DriftView {
            index: d.index,
            time: d.time.map(|t| latency(t as f64 / 1e9)),
            a: event_text(d.a.as_ref()),
            b: event_text(d.b.as_ref()),
        });
        let drift_note = match det {
            Some(d) if !d.deterministic && d.drift.is_none() => {
                Some("The drift did not reproduce in two traced re-runs: no divergent event to show.")
            }
            _ => None,
        };
        DeterminismView {
            anchor: format!("determinism-{n}"),
            case: c.id(),
            outcome: c.outcome.name(),
            verdict,
            message: if det.is_some_and(|d| d.deterministic) {
                String::new()
            } else {
                message_of(c)
            },
            checked: det.is_some(),
            runs: det.map_or(0, |d| d.runs),
            repeats: det.map_or(0, |d| d.repeats),
            threads: det
                .map(|d| d.threads.iter().map(usize::to_string).collect::<Vec<_>>().join(", "))
                .unwrap_or_default(),
            seeds,
            drift,
            drift_seed,
            drift_note,
        }
    }
}

#[derive(Serialize)]
struct RunView<'a> {
    id: &'a str,
    state: &'static str,
    error: Option<&'a str>,
    profile: Option<&'a str>,
    suites: String,
    seed: Option<String>,
    started: &'a str,
    duration: String,
    summary: String,
    verdict: &'a str,
    verdict_class: &'static str,
    failing: Vec<RuleView<'a>>,
    failing_title: String,
    warnings: Vec<RuleView<'a>>,
    rules_note: &'static str,
    rules: Vec<RuleView<'a>>,
    rules_count: usize,
    kpis: Vec<Kpi>,
    cases: Vec<CaseRow>,
    cases_count: usize,
    goldens: Vec<GoldenView<'a>>,
    goldens_count: usize,
    charts: Vec<Chart>,
    charts_count: usize,
    determinism: Vec<DeterminismView>,
    determinism_count: usize,
    /// `INC-3 (sev2), opened by this run` or `... joined by this run`.
    incident: Option<String>,
}

/// `6 cases: 4 passed, 1 failed, 1 flaky` (outcomes in a fixed order).
fn outcome_summary(cases: &[CaseResult]) -> String {
    const ORDER: [CaseOutcome; 7] = [
        CaseOutcome::Passed,
        CaseOutcome::Failed,
        CaseOutcome::Flaky,
        CaseOutcome::Errored,
        CaseOutcome::TimedOut,
        CaseOutcome::Skipped,
        CaseOutcome::Cancelled,
    ];
    let parts: Vec<String> = ORDER
        .iter()
        .filter_map(|o| {
            let n = cases.iter().filter(|c| c.outcome == *o).count();
            (n > 0).then(|| format!("{n} {}", o.name()))
        })
        .collect();
    let head = plural(cases.len(), "case", "cases");
    if parts.is_empty() {
        head
    } else {
        format!("{head}: {}", parts.join(", "))
    }
}

impl<'a> RunView<'a> {
    fn new(r: &'a RunResult) -> RunView<'a> {
        let failing: Vec<RuleView> = r.verdict.blocking_failures().map(RuleView::new).collect();
        let warnings: Vec<RuleView> = r
            .verdict
            .rules
            .iter()
            .filter(|x| x.status == RuleStatus::Failed && x.severity == Severity::Warn)
            .map(RuleView::new)
            .collect();
        let rules: Vec<RuleView> = r.verdict.rules.iter().map(RuleView::new).collect();
        let mut goldens = Vec::new();
        let mut charts = Vec::new();
        let mut determinism = Vec::new();
        let mut cases = Vec::with_capacity(r.cases.len());
        for (n, c) in r.cases.iter().enumerate() {
            let mut links = Vec::new();
            if let Some(g) = c
                .last()
                .and_then(|a| a.golden.as_ref())
                .filter(|g| g.status != "passed" && (g.html.is_some() || g.summary.is_some()))
            {
                let html = g.html.as_deref();
                let trusted = html.filter(|h| h.starts_with(DIFF_FRAGMENT_START));
                let anchor = format!("golden-{n}");
                links.push(Link {
                    anchor: anchor.clone(),
                    label: "diff",
                });
                goldens.push(GoldenView {
                    anchor,
                    case: &g.case,
                    status: &g.status,
                    summary: g.summary.as_deref(),
                    candidate: g.candidate.as_deref(),
                    html: trusted,
                    escaped: if trusted.is_none() { html } else { None },
                });
            }
            if c.kind != CaseKind::Command && c.kind != CaseKind::Determinism {
                if let Some(chart) = Chart::new(n, c) {
                    links.push(Link {
                        anchor: chart.anchor.clone(),
                        label: "latency",
                    });
                    charts.push(chart);
                }
            }
            if c.kind == CaseKind::Determinism {
                let d = DeterminismView::new(n, c);
                links.push(Link {
                    anchor: d.anchor.clone(),
                    label: "digests",
                });
                determinism.push(d);
            }
            cases.push(CaseRow {
                n,
                id: c.id(),
                kind: c.kind.name(),
                outcome: c.outcome.name(),
                bad: is_bad(c.outcome),
                attempts: c.attempts.len(),
                seeds: seeds_text(c.last()),
                duration: seconds(c.duration),
                message: message_of(c),
                links,
                outputs: outputs_of(c),
            });
        }
        let rules_note = if r.verdict.rules.is_empty() {
            "No gate rule applies to this run."
        } else {
            "Every blocking rule held."
        };
        RunView {
            id: &r.id,
            state: r.state.name(),
            error: r.error.as_deref(),
            profile: r.profile.as_deref(),
            suites: r.suites.join(", "),
            seed: r.seed.map(|s| s.to_string()),
            started: &r.started,
            duration: seconds(r.duration),
            summary: outcome_summary(&r.cases),
            verdict: &r.verdict.verdict,
            verdict_class: if r.verdict.go { "go" } else { "nogo" },
            failing_title: format!("{} failed:", plural(failing.len(), "blocking rule", "blocking rules")),
            failing,
            warnings,
            rules_note,
            rules_count: rules.len(),
            rules,
            kpis: kpis(&r.kpis.run, None),
            cases_count: cases.len(),
            cases,
            goldens_count: goldens.len(),
            goldens,
            charts_count: charts.len(),
            charts,
            determinism_count: determinism.len(),
            determinism,
            incident: r.incident.as_ref().map(incident_text),
        }
    }
}

/// `INC-3 (sev2), opened by this run` / `joined by this run`: what the run did in the warroom.
fn incident_text(i: &crate::runner::RunIncident) -> String {
    let how = if i.created { "opened" } else { "joined" };
    format!("{} ({}), {how} by this run", i.id, i.severity)
}

#[derive(Serialize)]
struct IndexRow<'a> {
    id: &'a str,
    /// The id is a plain path segment: `./<id>/index.html` is its page (escaping leaves such an id as it is).
    linked: bool,
    state: &'static str,
    error: Option<&'a str>,
    bad: bool,
    verdict: &'a str,
    started: &'a str,
    duration: String,
    cases: usize,
    kpis: Vec<Kpi>,
    incident: Option<String>,
}

/// Whether `id` can be a link's path segment as it is: letters, digits, `.`, `_`, `-`, `+`, not `.`/`..`
/// (run ids always are). Anything else gets no link rather than a link somewhere unexpected.
fn linkable(id: &str) -> bool {
    !id.is_empty()
        && id != "."
        && id != ".."
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+'))
}

impl<'a> IndexRow<'a> {
    fn new(r: &'a RunOverview) -> IndexRow<'a> {
        IndexRow {
            id: &r.id,
            linked: linkable(&r.id),
            state: r.state.name(),
            error: r.error.as_deref(),
            bad: matches!(r.state, RunState::Errored | RunState::Failed) || !r.go,
            verdict: &r.verdict,
            started: &r.started,
            duration: seconds(r.duration),
            cases: r.cases,
            kpis: kpis(&r.kpis.run, Some(INDEX_KPIS)),
            incident: r.incident.as_ref().map(|i| i.id.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tail_cuts_on_a_character_boundary() {
        assert_eq!(tail("abc", 4), ("abc", false));
        // "é" is two bytes: the last 3 bytes of "aéé" start inside the first é, so only the last one is kept.
        assert_eq!(tail("aéé", 3), ("é", true));
        assert_eq!(tail("aéé", 4), ("éé", true));
    }

    #[test]
    fn nice_steps_are_one_two_five() {
        let close = |a: f64, b: f64| (a - b).abs() <= b * 1e-9;
        for (x, step) in [
            (0.0023, 0.005),
            (0.001, 0.001),
            (0.0011, 0.002),
            (0.02, 0.02),
            (3.0, 5.0),
            (7.0, 10.0),
        ] {
            assert!(close(nice_step(x), step), "{x}: {}", nice_step(x));
        }
        assert_eq!(nice_step(f64::NAN), 1.0);
        assert_eq!(nice_step(0.0), 1.0);
    }

    #[test]
    fn only_plain_run_ids_are_linked() {
        assert!(linkable("run-2.5.0-20261125T120000Z"));
        assert!(linkable("run-2.5.0-20261125T120000Z-1"));
        for bad in ["", ".", "..", "a/b", "javascript:alert(1)", "x\"onclick", "a b"] {
            assert!(!linkable(bad), "{bad}");
        }
    }

    fn run(cases: serde_json::Value, verdict: serde_json::Value) -> RunResult {
        serde_json::from_value(json!({
            "id": "run-1", "state": "failed", "error": null, "profile": null, "suites": ["s"], "seed": null,
            "started": "2026-01-01T00:00:00Z", "duration": 1.5, "cases": cases,
            "kpis": {"run": {"pass_rate": 0.5, "failed": 1.0, "latency.p99": 0.012, "future": 2.0},
                     "suites": {}, "cases": {}},
            "verdict": verdict, "archive": ".toron", "report_dir": null
        }))
        .unwrap()
    }

    fn attempt(extra: serde_json::Value) -> serde_json::Value {
        let mut a = json!({"number": 1, "outcome": "passed", "duration": 0.25, "seeds": [],
                           "stdout": "", "stderr": ""});
        if let (Some(a), Some(e)) = (a.as_object_mut(), extra.as_object()) {
            a.extend(e.clone());
        }
        a
    }

    fn case(name: &str, kind: &str, outcome: &str, attempts: Vec<serde_json::Value>) -> serde_json::Value {
        json!({"suite": "s", "name": name, "kind": kind, "outcome": outcome, "attempts": attempts,
               "expect_violation": false, "duration": 0.25})
    }

    #[test]
    fn kpis_are_in_report_order_then_unknown_ones() {
        let r = run(json!([]), json!({"go": true, "verdict": "GO", "rules": []}));
        let k: Vec<(String, String)> = kpis(&r.kpis.run, None).into_iter().map(|k| (k.name, k.value)).collect();
        assert_eq!(
            k,
            [
                ("pass_rate".to_string(), "50%".to_string()),
                ("failed".to_string(), "1".to_string()),
                ("latency.p99".to_string(), "12ms".to_string()),
                ("future".to_string(), "2".to_string()),
            ]
        );
    }

    #[test]
    fn a_flaky_case_shows_why_its_earlier_attempt_failed() {
        let c: CaseResult = serde_json::from_value(case(
            "f",
            "command",
            "flaky",
            vec![
                attempt(json!({"outcome": "failed", "message": "exit code 1"})),
                attempt(json!({"number": 2})),
            ],
        ))
        .unwrap();
        assert_eq!(message_of(&c), "attempt 1 failed: exit code 1");
    }

    #[test]
    fn a_diff_that_is_not_a_toron_fragment_is_shown_as_text() {
        let golden = json!({"case": "s/g", "status": "failed", "summary": "1 change",
                            "html": "<img src=x onerror=alert(1)>"});
        let r = run(
            json!([case(
                "g",
                "sim",
                "failed",
                vec![attempt(json!({"outcome": "failed", "golden": golden}))]
            )]),
            json!({"go": true, "verdict": "GO", "rules": []}),
        );
        let page = run_html(&r);
        assert!(!page.contains("<img"), "{page}");
        assert!(page.contains("<pre>&lt;img src=x onerror=alert(1)&gt;</pre>"), "{page}");
    }

    #[test]
    fn a_chart_has_a_line_per_seed_with_latency() {
        let lat = |p: f64| {
            json!({"count": 10, "min": p / 2.0, "mean": p, "p50": p, "p90": p * 1.5, "p99": p * 2.0,
                   "p999": p * 3.0, "max": p * 4.0})
        };
        let seeds = json!([
            {"seed": 1, "digest": "d1", "violations": 0, "latency": lat(0.01), "throughput": 100.0},
            {"seed": 2, "digest": "d2", "violations": 0, "latency": lat(0.02), "throughput": 50.0},
            {"seed": 3, "digest": "d3", "violations": 0, "latency": {"count": 0, "min": 0.0, "mean": 0.0,
             "p50": 0.0, "p90": 0.0, "p99": 0.0, "p999": 0.0, "max": 0.0}, "throughput": 0.0}
        ]);
        let c: CaseResult =
            serde_json::from_value(case("l", "load", "passed", vec![attempt(json!({"seeds": seeds}))])).unwrap();
        let chart = Chart::new(0, &c).unwrap();
        assert_eq!(chart.lines.iter().map(|l| l.seed).collect::<Vec<_>>(), [1, 2]);
        // The largest value (seed 2's max, 80 ms) is the top tick: 4 steps of 20 ms.
        let labels: Vec<&str> = chart.y_ticks.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(labels, ["0s", "20ms", "40ms", "60ms", "80ms"]);
        assert_eq!(chart.lines[1].dots[4].y, format!("{:.1}", Chart::TOP as f64));
        assert_eq!(chart.rows[0].p99, "20ms");
        assert!(chart.svg);
    }

    #[test]
    fn single_samples_get_the_table_without_curves() {
        let one = json!({"count": 1, "min": 0.004, "mean": 0.004, "p50": 0.004, "p90": 0.004, "p99": 0.004,
                         "p999": 0.004, "max": 0.004});
        let seeds = json!([{"seed": 1, "digest": "d1", "violations": 0, "latency": one, "throughput": 250.0}]);
        let c: CaseResult =
            serde_json::from_value(case("s", "sim", "passed", vec![attempt(json!({"seeds": seeds}))])).unwrap();
        let chart = Chart::new(0, &c).unwrap();
        assert!(!chart.svg && chart.lines.is_empty() && chart.y_ticks.is_empty());
        assert_eq!((chart.rows.len(), chart.rows[0].p50.as_str()), (1, "4ms"));
        let page = run_html(&run(
            json!([case("s", "sim", "passed", vec![attempt(json!({"seeds": seeds}))])]),
            json!({"go": true, "verdict": "GO", "rules": []}),
        ));
        assert!(page.contains("latency-0") && !page.contains("<svg"), "{page}");
    }

    #[test]
    fn rendering_twice_gives_the_same_bytes() {
        let r = run(
            json!([case(
                "a",
                "command",
                "failed",
                vec![attempt(json!({"outcome": "failed", "message": "m",
                                                                           "stdout": "out"}))]
            )]),
            json!({"go": false, "verdict": "NO-GO", "rules": [{
                "rule": "failed == 0", "metric": "failed", "scope": null, "comparator": "==", "threshold": 0.0,
                "baseline_run": null, "baseline": null, "actual": 1.0, "severity": "block", "default": false,
                "status": "failed", "passed": false, "explanation": "Failed: failed for the run is 1."}]}),
        );
        let page = run_html(&r);
        assert_eq!(page, run_html(&r));
        assert!(page.contains("1 blocking rule failed:"), "{page}");
        assert!(page.contains("Failed: failed for the run is 1."), "{page}");
        assert!(
            page.contains("<summary>stdout (3 bytes)</summary><pre>out</pre>"),
            "{page}"
        );
        assert!(!page.contains("could not be rendered"), "{page}");
    }
}
