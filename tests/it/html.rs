//! Reports: the self-contained `index.html` of a run and the `reports/index.html` list of runs.
//!
//! Most tests read a real run (check mode) of the runner fixture with suites added here: a command whose
//! argv and output carry a script tag, a command whose artifact differs from its golden, and the fixture's
//! load and determinism suites. A drift and an interrupted run are built from JSON, since a deterministic
//! engine does not drift on demand.

use serde_json::json;
use std::path::Path;
use toron_core::report::html::{index_html, run_html};
use toron_core::report::{write_index, write_reports, INDEX_FILE};
use toron_core::runner::{CaseOutcome, Manifest, Run, RunOptions, RunOverview, RunResult, RunState};
use toron_core::snapshot::{Golden, Snapshots};

use crate::scratch::Scratch;

const HOSTILE: &str = "<script>alert(1)</script>";

const EXTRA_SUITES: &str = r#"
[[suite]]
name = "hostile"

[[suite.case]]
name = "xss"
kind = "command"
argv = ["sh", "-c", "echo '<script>alert(1)</script>'; echo 'a&b \"q\" <i>' >&2; exit 3"]

[[suite]]
name = "golden"

[[suite.case]]
name = "report"
kind = "command"
argv = ["sh", "-c", "mkdir -p out && echo '{\"total\": 42, \"items\": [\"a\", \"b\"]}' > out/report.json"]
artifacts = ["out/report.json"]
golden = true
"#;

/// How the templates escape text (minijinja's HTML escaping, `/` included).
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
        .replace('/', "&#x2f;")
}

/// A real run of the fixture in a temporary project, removed when dropped.
struct Project {
    dir: Scratch,
    run: RunResult,
}

/// Run the fixture with the suites added here (about a tenth of a second).
fn real_run(name: &str) -> Project {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/runner/run");
    let dir = Scratch::new(&format!("html-{name}"));
    std::fs::create_dir_all(dir.join("scenarios")).unwrap();
    for f in ["testops.toml", "scenarios/echo.toml", "scenarios/kv_buggy.toml"] {
        std::fs::copy(src.join(f), dir.join(f)).unwrap();
    }
    let text = std::fs::read_to_string(dir.join("testops.toml")).unwrap() + EXTRA_SUITES;
    std::fs::write(dir.join("testops.toml"), text).unwrap();
    // The golden says 41 and one item; the command writes 42 and two.
    let golden = Golden::new(
        "golden/report",
        json!({"artifacts": {"out/report.json": {"total": 41, "items": ["a"]}}}),
    );
    let path = Snapshots::new(dir.join("snapshots"))
        .golden_path("golden/report")
        .unwrap();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, golden.to_text().unwrap()).unwrap();
    let m = Manifest::from_path(dir.join("testops.toml")).unwrap();
    let opts = RunOptions {
        suites: vec!["hostile".into(), "golden".into(), "load".into(), "hardening".into()],
        check: true,
        ..Default::default()
    };
    let run = Run::start(&m, opts).unwrap().wait().unwrap();
    Project { dir, run }
}

fn page_of(r: &RunResult) -> String {
    std::fs::read_to_string(r.report_dir.as_ref().expect("reports written").join(INDEX_FILE)).unwrap()
}

/// Every value of `attr="..."` in `html`.
fn attr_values<'a>(html: &'a str, attr: &str) -> Vec<&'a str> {
    let needle = format!("{attr}=\"");
    html.match_indices(&needle)
        .filter_map(|(i, _)| {
            let rest = &html[i + needle.len()..];
            rest.find('"').map(|end| &rest[..end])
        })
        .collect()
}

/// Fail if `html` could make a browser load or run anything: no script, no external reference, no network
/// address. `allowed_href` says which links are fine.
fn assert_self_contained(html: &str, allowed_href: &dyn Fn(&str) -> bool) {
    let lower = html.to_ascii_lowercase();
    for bad in [
        "<script",
        "<link",
        "<iframe",
        "<object",
        "<embed",
        "<img",
        "src=",
        "url(",
        "@import",
        "http:",
        "https:",
        "//",
        "javascript:",
        "xlink:href",
        "<base",
        "srcset",
    ] {
        assert!(!lower.contains(bad), "{bad:?} in the page");
    }
    for href in attr_values(&lower, "href") {
        assert!(allowed_href(href), "href {href:?}");
    }
    // Every in-page link lands on an element of the page.
    let ids = attr_values(html, "id");
    for href in attr_values(html, "href").into_iter().filter(|h| h.starts_with('#')) {
        assert!(ids.contains(&&href[1..]), "{href} has no target");
    }
}

#[test]
fn write_reports_writes_index_html_beside_report_json() {
    let p = real_run("write_reports_writes_index_html_beside_report_json");
    let r = &p.run;
    let dir = r.report_dir.as_ref().expect("reports written");
    for f in ["report.json", "verdict.json", "junit.xml", INDEX_FILE] {
        assert!(dir.join(f).is_file(), "{f}");
    }
    assert_eq!(page_of(r), run_html(r));
    // No temporary file is left behind.
    let names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
}

#[test]
fn the_run_page_references_nothing_outside_itself() {
    let p = real_run("the_run_page_references_nothing_outside_itself");
    let r = &p.run;
    let page = page_of(r);
    assert!(
        page.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"),
        "{}",
        &page[..200]
    );
    assert!(page.contains("<style>") && page.contains("<svg "), "inline CSS and SVG");
    assert!(page.contains("content=\"default-src 'none'; style-src 'unsafe-inline'\""));
    assert_self_contained(&page, &|h| h.starts_with('#'));
}

#[test]
fn hostile_strings_are_escaped() {
    let p = real_run("hostile_strings_are_escaped");
    let r = &p.run;
    let xss = r.cases.iter().find(|c| c.name == "xss").unwrap();
    assert_eq!(xss.outcome, CaseOutcome::Failed);
    let message = xss.attempts[0].message.clone().unwrap();
    assert!(message.contains(HOSTILE), "{message}");
    assert_eq!(xss.attempts[0].stdout, format!("{HOSTILE}\n"));

    let page = page_of(r);
    assert!(!page.contains(HOSTILE));
    assert!(!page.contains("<i>"));
    // The message in the cases table, and the output under it.
    assert!(page.contains(&format!("<td class=\"msg\">{}", esc(&message))), "{page}");
    assert!(
        page.contains(&format!(
            "<summary>stdout ({} bytes)</summary><pre>{}\n</pre>",
            HOSTILE.len() + 1,
            esc(HOSTILE)
        )),
        "{page}"
    );
    assert!(page.contains("<pre>a&amp;b &quot;q&quot; &lt;i&gt;\n</pre>"), "{page}");
}

#[test]
fn a_no_go_run_shows_its_failing_rule_sentence_before_the_cases() {
    let p = real_run("a_no_go_run_shows_its_failing_rule_sentence_before_the_cases");
    let r = &p.run;
    // No coverage file in these suites, and the fixture's coverage rule is explicit: it fails and blocks; so
    // does the case rule `failed == 0` (the golden mismatch).
    assert_eq!((r.verdict.verdict.as_str(), r.state), ("NO-GO", RunState::Failed));
    let failing: Vec<_> = r.verdict.blocking_failures().collect();
    assert_eq!(failing.len(), 2, "{:#?}", r.verdict);
    assert_eq!(failing[1].rule, "failed == 0");
    assert_eq!(
        failing[0].explanation,
        "Failed: the run has no coverage data for the run, so the rule cannot hold."
    );

    let page = page_of(r);
    let verdict = page.find("<div class=\"big\">NO-GO</div>").expect("the verdict");
    let title = page.find("2 blocking rules failed:").expect("the failing rules");
    let rule = page
        .find(&format!(
            "<li><code>{}</code>: {}</li>",
            esc(&failing[0].rule),
            esc(&failing[0].explanation)
        ))
        .expect("the failing rule with its sentence");
    let kpis = page.find("<h2 id=\"kpis\">").expect("the KPIs");
    let cases = page.find("<h2 id=\"cases\">").expect("the cases");
    assert!(verdict < title && title < rule && rule < kpis && kpis < cases);
    // The KPIs of the run are there, read the way a person reads them.
    let kpi = |name: &str, value: &str| format!("<span class=\"k\">{name}</span><span class=\"v\">{value}</span>");
    assert!(page.contains(&kpi("determinism", "100%")), "{page}");
    assert!(page.contains(&kpi("failed", "2")), "{page}");
    assert!(page.contains(&kpi("latency.p99", "10ms")), "{page}");
    // Every case has a row, in run order.
    let rows: Vec<usize> = r
        .cases
        .iter()
        .map(|c| page.find(&format!("<td class=\"mono\">{}</td>", esc(&c.id()))).unwrap())
        .collect();
    assert!(rows.windows(2).all(|w| w[0] < w[1]) && rows[0] > cases, "{rows:?}");
}

#[test]
fn a_failed_golden_shows_its_diff() {
    let p = real_run("a_failed_golden_shows_its_diff");
    let r = &p.run;
    let case = r.cases.iter().find(|c| c.name == "report").unwrap();
    let golden = case.attempts[0].golden.as_ref().unwrap();
    assert_eq!(golden.status, "failed");
    let diff = golden.html.as_deref().unwrap();

    let page = page_of(r);
    let section = page.find("<h2 id=\"goldens\">Golden differences (1)</h2>").unwrap();
    assert!(page[section..].contains(diff), "the diff fragment as-is");
    assert!(
        diff.contains("<del") && diff.contains("41") && diff.contains("42"),
        "{diff}"
    );
    let n = r.cases.iter().position(|c| c.name == "report").unwrap();
    assert!(
        page.contains(&format!("<a href=\"#golden-{n}\">diff</a>")),
        "the case links to it"
    );
}

#[test]
fn a_load_case_has_a_latency_chart() {
    let p = real_run("a_load_case_has_a_latency_chart");
    let r = &p.run;
    let n = r.cases.iter().position(|c| c.id() == "load/checkout").unwrap();
    let page = page_of(r);
    let start = page
        .find(&format!("<section id=\"latency-{n}\" class=\"chart\">"))
        .unwrap();
    let chart = &page[start..start + page[start..].find("</section>").unwrap()];
    assert!(chart.contains(&esc("load/checkout")));
    assert!(chart.contains("<svg viewBox=\"0 0 640 260\""), "{chart}");
    // One line for the one seed (7), with a point per statistic; constant 5 ms hops give 10 ms everywhere.
    assert_eq!(chart.matches("<polyline ").count(), 1, "{chart}");
    assert_eq!(chart.matches("<circle ").count(), 5, "{chart}");
    assert!(chart.contains("<title>seed 7 p99 10ms</title>"), "{chart}");
    for stat in ["p50", "p90", "p99", "p99.9", "max"] {
        assert!(chart.contains(&format!(">{stat}</text>")), "{stat}");
    }
    // Only simulations with latency get a chart: the command cases and the determinism check do not.
    assert_eq!(page.matches("class=\"chart\"").count(), 1);
}

#[test]
fn determinism_cases_show_the_digests_seen() {
    let p = real_run("determinism_cases_show_the_digests_seen");
    let r = &p.run;
    let n = r.cases.iter().position(|c| c.id() == "hardening/echo-repeat").unwrap();
    let det = r.cases[n].attempts[0].determinism.as_ref().unwrap();
    let page = page_of(r);
    let start = page.find(&format!("<section id=\"determinism-{n}\">")).unwrap();
    let section = &page[start..];
    assert!(section.contains("deterministic</span>"), "{section}");
    assert!(section.contains("12 simulations: 3 repeats per seed on 1, 2 thread(s)"));
    assert!(
        page.contains("<td class=\"mono\">1, 2</td>"),
        "the seeds in the case's row"
    );
    for (seed, seen) in &det.digests {
        for (digest, count) in seen {
            assert!(
                section.contains(&format!(
                    "<td class=\"mono\">{seed}</td><td class=\"mono\">{digest}</td><td class=\"num\">{count}</td>"
                )),
                "{seed} {digest}"
            );
        }
    }
}

/// A run from JSON: a determinism case that drifted, and the given state and error.
fn synthetic(id: &str, state: &str, error: Option<&str>) -> RunResult {
    let drift = json!({
        "index": 17, "time": 2_500_000,
        "a": {"i": 17, "t": 2_500_000, "type": "deliver", "to": "<b>server</b>"},
        "b": {"i": 17, "t": 2_500_000, "type": "timer", "node": "server"}
    });
    let det = json!({
        "runs": 4, "threads": [1, 2], "repeats": 2, "deterministic": false, "drift": drift,
        "digests": {"5": {"aaaa": 3, "bbbb": 1}, "6": {"cccc": 4}}
    });
    serde_json::from_value(json!({
        "id": id, "state": state, "error": error, "profile": null, "suites": ["hardening"], "seed": null,
        "started": "2026-11-25T10:00:00Z", "duration": 2.0,
        "cases": [{
            "suite": "hardening", "name": "drifty", "kind": "determinism", "outcome": "failed",
            "expect_violation": false, "duration": 1.0, "attempts": [{
                "number": 1, "outcome": "failed", "duration": 1.0, "seeds": [], "stdout": "", "stderr": "",
                "message": "seed 5 gave 2 different digests across repeats and threads; first divergent event 17",
                "determinism": det
            }]
        }],
        "kpis": {"run": {"determinism": 0.0, "pass_rate": 0.0, "failed": 1.0}, "suites": {}, "cases": {}},
        "verdict": {"go": false, "verdict": "NO-GO", "rules": []},
        "archive": ".toron", "report_dir": null
    }))
    .unwrap()
}

#[test]
fn a_drift_shows_the_first_divergent_event_of_both_runs() {
    let r = synthetic("run-drift", "failed", None);
    let page = run_html(&r);
    let start = page.find("<section id=\"determinism-0\">").unwrap();
    let section = &page[start..];
    assert!(section.contains("NOT deterministic"), "{section}");
    assert!(
        section.contains("First divergent event:</strong> index 17, virtual time 2.5ms (two traced re-runs of seed 5)"),
        "{section}"
    );
    // Both events, pretty JSON, escaped.
    assert!(
        section.contains("<h4>run A</h4><pre>{\n  &quot;i&quot;: 17,"),
        "{section}"
    );
    assert!(
        section.contains("&quot;to&quot;: &quot;&lt;b&gt;server&lt;&#x2f;b&gt;&quot;"),
        "{section}"
    );
    assert!(section.contains("&quot;type&quot;: &quot;timer&quot;"), "{section}");
    // The drifting seed's digests are marked; the steady one is not.
    assert!(section.contains("<tr class=\"bad-seed\"><td class=\"mono\">5</td><td class=\"mono\">aaaa</td>"));
    assert!(section.contains("<tr><td class=\"mono\">6</td><td class=\"mono\">cccc</td><td class=\"num\">4</td>"));
    assert_self_contained(&page, &|h| h.starts_with('#'));
}

#[test]
fn the_same_result_gives_the_same_bytes() {
    let p = real_run("the_same_result_gives_the_same_bytes");
    let r = &p.run;
    let dir = &p.dir;
    let page = run_html(r);
    assert_eq!(page, run_html(r));
    // Through JSON and back (as a result read from the archive would be): still the same bytes.
    let back: RunResult = serde_json::from_value(serde_json::to_value(r).unwrap()).unwrap();
    assert_eq!(run_html(&back), page);
    // And written twice.
    let out = dir.join("again");
    let first = std::fs::read(write_reports(r, &out).unwrap().join(INDEX_FILE)).unwrap();
    let second = std::fs::read(write_reports(r, &out).unwrap().join(INDEX_FILE)).unwrap();
    assert_eq!(first, second);
    assert_eq!(first, page.as_bytes());
    let runs: Vec<RunOverview> = [synthetic("run-b", "failed", None), r.clone()]
        .iter()
        .map(RunOverview::from)
        .collect();
    assert_eq!(index_html(&runs), index_html(&runs));
}

#[test]
fn the_index_lists_runs_in_the_given_order_with_links() {
    let p = real_run("the_index_lists_runs_in_the_given_order_with_links");
    let real = &p.run;
    let dir = &p.dir;
    let runs = [
        synthetic("run-2.5.0-20261125T120000Z", "errored", Some("interrupted")),
        real.clone(),
        synthetic("run-2.5.0-20261124T090000Z", "failed", None),
        synthetic("<b>odd id</b>", "passed", None),
    ];
    let runs: Vec<RunOverview> = runs.iter().map(RunOverview::from).collect();
    let root = dir.join("index-root");
    let path = write_index(&runs, &root).unwrap();
    assert_eq!(path, root.join(INDEX_FILE));
    let page = std::fs::read_to_string(&path).unwrap();
    assert_eq!(page, index_html(&runs));

    // Each run links to its page, in the given order (not sorted).
    let links = attr_values(&page, "href");
    let expected: Vec<String> = runs[..3].iter().map(|r| format!("./{}/index.html", r.id)).collect();
    assert_eq!(links, expected);
    let at: Vec<usize> = runs.iter().map(|r| page.find(&esc(&r.id)).unwrap()).collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{at:?}");
    // An id that is not a plain path segment is shown, escaped, without a link.
    assert!(
        page.contains("<td class=\"mono\">&lt;b&gt;odd id&lt;&#x2f;b&gt;</td>"),
        "{page}"
    );
    // The interrupted run shows its state and why.
    assert!(
        page.contains("<td class=\"o o-errored\">errored<br><span class=\"muted\">interrupted</span></td>"),
        "{page}"
    );
    // Key KPIs and the verdict per run.
    let real_row = &page[at[1]..at[2]];
    assert!(real_row.contains("<td class=\"o o-NO-GO\">NO-GO</td>"), "{real_row}");
    assert!(real_row.contains("determinism <strong>100%</strong>"), "{real_row}");
    assert!(real_row.contains("latency.p99 <strong>10ms</strong>"), "{real_row}");
    assert!(page.contains("4 runs, newest first"));
    assert_self_contained(&page, &|h| {
        h.starts_with("./") && h.ends_with("/index.html") && !h.contains("..")
    });
}

#[test]
fn an_empty_index_says_so() {
    let page = index_html(&[]);
    assert!(page.contains("<p>No runs yet.</p>"), "{page}");
    assert_self_contained(&page, &|_| false);
}
