//! `junit.xml`: a `<testsuite>` per suite and a `<testcase>` per case (seed, digest, kind and outcome as
//! properties), earlier attempts of flaky and failed cases as `<flakyFailure>` / `<rerunFailure>` (or
//! `…Error`) with their output, per Maven Surefire's test-report schema (`type` is always set), and a
//! `toron.gates` suite with a testcase per gate rule.
//!
//! Written with quick-xml's writer, element for element and byte for byte as quick-junit 0.8 writes the same
//! report (a test compares the two). quick-junit is not used itself: it strips ANSI escapes from every string
//! it is given, a tenth of a 1 000-case run's instructions (callgrind); here only a string with a control or
//! non-ASCII character goes through the same stripping (`strip-ansi-escapes`, as quick-junit does).

use std::borrow::Cow;

use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

use crate::gate::{RuleResult, RuleStatus, Severity};
use crate::runner::{Attempt, CaseOutcome, CaseResult, RunResult};
use crate::{Error, ErrorKind, Result};

/// The name of the suite holding one testcase per gate rule.
pub const GATES_SUITE: &str = "toron.gates";

type Xml = Writer<Vec<u8>>;

/// A string as JUnit consumers can read it (what quick-junit's `XmlString` keeps): ANSI escape sequences and
/// the control characters XML 1.0 forbids removed. Printable ASCII and newlines, nearly every string of a
/// run, are kept as they are without being copied.
fn clean(s: &str) -> Cow<'_, str> {
    if s.bytes().all(|b| (0x20..0x7f).contains(&b) || b == b'\n') {
        return Cow::Borrowed(s);
    }
    let stripped = strip_ansi_escapes::strip_str(s);
    Cow::Owned(stripped.replace(|c| matches!(c, '\x00'..='\x08' | '\x0b' | '\x0c' | '\x0e'..='\x1f'), ""))
}

/// Seconds with millisecond precision; negative or non-finite durations are 0.
fn time(seconds: f64) -> String {
    let d = std::time::Duration::try_from_secs_f64(seconds).unwrap_or_default();
    format!("{:.3}", d.as_secs_f64())
}

/// Failure or error: a failed case is a failure, an errored or timed-out one an error.
fn is_failure(outcome: CaseOutcome) -> bool {
    outcome == CaseOutcome::Failed
}

/// The counts of a `<testsuite>` (and, summed, of `<testsuites>`).
#[derive(Default, Clone, Copy)]
struct Counts {
    tests: usize,
    skipped: usize,
    failures: usize,
    errors: usize,
}

impl Counts {
    fn add(&mut self, status: Status) {
        self.tests += 1;
        match status {
            Status::Success => {}
            Status::Skipped => self.skipped += 1,
            Status::Failure => self.failures += 1,
            Status::Error => self.errors += 1,
        }
    }

    fn sum(self, o: Counts) -> Counts {
        Counts {
            tests: self.tests + o.tests,
            skipped: self.skipped + o.skipped,
            failures: self.failures + o.failures,
            errors: self.errors + o.errors,
        }
    }
}

#[derive(Clone, Copy)]
enum Status {
    Success,
    Skipped,
    Failure,
    Error,
}

fn case_status(c: &CaseResult) -> Status {
    match c.outcome {
        CaseOutcome::Passed | CaseOutcome::Flaky => Status::Success,
        CaseOutcome::Skipped | CaseOutcome::Cancelled => Status::Skipped,
        o if is_failure(o) => Status::Failure,
        _ => Status::Error,
    }
}

fn rule_status(r: &RuleResult) -> Status {
    match (r.status, r.severity) {
        (RuleStatus::Passed, _) | (RuleStatus::Failed, Severity::Warn) => Status::Success,
        (RuleStatus::NotEvaluated, _) => Status::Skipped,
        (RuleStatus::Failed, Severity::Block) => Status::Failure,
    }
}

fn start(w: &mut Xml, tag: BytesStart<'_>) -> std::io::Result<()> {
    w.write_event(Event::Start(tag))
}

fn end(w: &mut Xml, name: &str) -> std::io::Result<()> {
    w.write_event(Event::End(BytesEnd::new(name)))
}

/// `<name>text</name>` (system-out, system-err, stackTrace).
fn text_element(w: &mut Xml, name: &str, text: &str) -> std::io::Result<()> {
    start(w, BytesStart::new(name))?;
    w.write_event(Event::Text(BytesText::new(&clean(text))))?;
    end(w, name)
}

fn properties(w: &mut Xml, props: &[(&str, Cow<'_, str>)]) -> std::io::Result<()> {
    start(w, BytesStart::new("properties"))?;
    for (name, value) in props {
        let mut p = BytesStart::new("property");
        p.push_attribute(("name", *name));
        p.push_attribute(("value", clean(value).as_ref()));
        w.write_event(Event::Empty(p))?;
    }
    end(w, "properties")
}

/// `<failure>`, `<error>` or `<skipped>` with a message and a type.
fn status_element(w: &mut Xml, name: &str, message: &str, ty: &str) -> std::io::Result<()> {
    let mut tag = BytesStart::new(name);
    tag.push_attribute(("message", clean(message).as_ref()));
    tag.push_attribute(("type", clean(ty).as_ref()));
    w.write_event(Event::Empty(tag))
}

/// An earlier attempt: `<flakyFailure>` / `<flakyError>` of a flaky case, `<rerunFailure>` / `<rerunError>` of
/// a failed one.
fn rerun(w: &mut Xml, a: &Attempt, flaky: bool) -> std::io::Result<()> {
    let name = match (flaky, is_failure(a.outcome)) {
        (true, true) => "flakyFailure",
        (true, false) => "flakyError",
        (false, true) => "rerunFailure",
        (false, false) => "rerunError",
    };
    let message = a.message.as_deref().unwrap_or(a.outcome.name());
    let mut tag = BytesStart::new(name);
    tag.push_attribute(("time", time(a.duration).as_str()));
    tag.push_attribute(("message", clean(message).as_ref()));
    tag.push_attribute(("type", a.outcome.name()));
    start(w, tag)?;
    // Surefire's schema requires a <stackTrace> in every flaky/rerun element; a case has no stack, so it
    // carries the attempt's message.
    text_element(w, "stackTrace", message)?;
    if !a.stdout.is_empty() {
        text_element(w, "system-out", &a.stdout)?;
    }
    if !a.stderr.is_empty() {
        text_element(w, "system-err", &a.stderr)?;
    }
    end(w, name)
}

fn testcase(w: &mut Xml, c: &CaseResult) -> std::io::Result<()> {
    let mut tag = BytesStart::new("testcase");
    tag.push_attribute(("name", clean(&c.name).as_ref()));
    tag.push_attribute(("classname", clean(&c.suite).as_ref()));
    tag.push_attribute(("time", time(c.duration).as_str()));
    start(w, tag)?;
    let last = c.last();
    let mut props: Vec<(&str, Cow<'_, str>)> = vec![
        ("kind", c.kind.name().into()),
        ("outcome", c.outcome.name().into()),
        ("attempts", c.attempts.len().to_string().into()),
    ];
    if let Some(last) = last {
        if !last.seeds.is_empty() {
            let seeds: Vec<String> = last.seeds.iter().map(|s| s.seed.to_string()).collect();
            props.push(("seed", seeds.join(",").into()));
        }
        if let Some(d) = &last.digest {
            props.push(("digest", d.as_str().into()));
        }
    }
    properties(w, &props)?;
    let earlier = &c.attempts[..c.attempts.len().saturating_sub(1)];
    match case_status(c) {
        // A passed case has one attempt; a flaky one shows those before the pass.
        Status::Success if c.outcome == CaseOutcome::Flaky => {
            for a in earlier {
                rerun(w, a, true)?;
            }
        }
        Status::Success => {}
        Status::Skipped => status_element(w, "skipped", c.outcome.name(), c.outcome.name())?,
        s @ (Status::Failure | Status::Error) => {
            let message = last.and_then(|a| a.message.as_deref()).unwrap_or(c.outcome.name());
            let name = if matches!(s, Status::Failure) {
                "failure"
            } else {
                "error"
            };
            status_element(w, name, message, c.outcome.name())?;
            for a in earlier {
                rerun(w, a, false)?;
            }
        }
    }
    if let Some(last) = last {
        if !last.stdout.is_empty() {
            text_element(w, "system-out", &last.stdout)?;
        }
        if !last.stderr.is_empty() {
            text_element(w, "system-err", &last.stderr)?;
        }
    }
    end(w, "testcase")
}

fn gate_testcase(w: &mut Xml, r: &RuleResult) -> std::io::Result<()> {
    let name = match &r.scope {
        Some(scope) => format!("{} [{scope}]", r.rule),
        None => r.rule.clone(),
    };
    let mut tag = BytesStart::new("testcase");
    tag.push_attribute(("name", clean(&name).as_ref()));
    tag.push_attribute(("classname", GATES_SUITE));
    // Surefire's schema requires `time` on every testcase; evaluating a rule takes no measurable time.
    tag.push_attribute(("time", "0.000"));
    start(w, tag)?;
    properties(
        w,
        &[
            ("severity", r.severity.name().into()),
            ("status", r.status.name().into()),
        ],
    )?;
    match rule_status(r) {
        Status::Skipped => status_element(w, "skipped", &r.explanation, "not_evaluated")?,
        Status::Failure | Status::Error => status_element(w, "failure", &r.explanation, "gate")?,
        Status::Success => {}
    }
    if r.status == RuleStatus::Failed && r.severity == Severity::Warn {
        text_element(w, "system-out", &r.explanation)?;
    }
    end(w, "testcase")
}

fn suite_start(name: &str, n: Counts) -> BytesStart<'_> {
    let mut tag = BytesStart::new("testsuite");
    tag.push_attribute(("name", name));
    tag.push_attribute(("tests", n.tests.to_string().as_str()));
    tag.push_attribute(("skipped", n.skipped.to_string().as_str()));
    tag.push_attribute(("errors", n.errors.to_string().as_str()));
    tag.push_attribute(("failures", n.failures.to_string().as_str()));
    tag
}

fn write(w: &mut Xml, result: &RunResult) -> std::io::Result<()> {
    let suites: Vec<(&String, Vec<&CaseResult>, Counts)> = result
        .suites
        .iter()
        .map(|s| {
            let cases: Vec<&CaseResult> = result.cases.iter().filter(|c| &c.suite == s).collect();
            let mut n = Counts::default();
            cases.iter().for_each(|c| n.add(case_status(c)));
            (s, cases, n)
        })
        .collect();
    let mut gates = Counts::default();
    result.verdict.rules.iter().for_each(|r| gates.add(rule_status(r)));
    let total = suites.iter().fold(gates, |t, (_, _, n)| t.sum(*n));

    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let mut tag = BytesStart::new("testsuites");
    tag.push_attribute(("name", clean(&result.id).as_ref()));
    tag.push_attribute(("tests", total.tests.to_string().as_str()));
    tag.push_attribute(("skipped", total.skipped.to_string().as_str()));
    tag.push_attribute(("failures", total.failures.to_string().as_str()));
    tag.push_attribute(("errors", total.errors.to_string().as_str()));
    tag.push_attribute(("time", time(result.duration).as_str()));
    start(w, tag)?;
    for (name, cases, n) in &suites {
        let name = clean(name);
        if cases.is_empty() {
            w.write_event(Event::Empty(suite_start(&name, *n)))?;
            continue;
        }
        start(w, suite_start(&name, *n))?;
        for c in cases {
            testcase(w, c)?;
        }
        end(w, "testsuite")?;
    }
    if result.verdict.rules.is_empty() {
        w.write_event(Event::Empty(suite_start(GATES_SUITE, gates)))?;
    } else {
        start(w, suite_start(GATES_SUITE, gates))?;
        for r in &result.verdict.rules {
            gate_testcase(w, r)?;
        }
        end(w, "testsuite")?;
    }
    end(w, "testsuites")?;
    w.write_indent()
}

/// `junit.xml` as text.
pub fn junit_xml(result: &RunResult) -> Result<String> {
    // About 330 bytes per passing case.
    let mut w = Writer::new_with_indent(Vec::with_capacity(4096 + 400 * result.cases.len()), b' ', 4);
    write(&mut w, result).map_err(|e| Error::new(ErrorKind::Run, format!("cannot write junit.xml: {e}")))?;
    String::from_utf8(w.into_inner()).map_err(|e| Error::new(ErrorKind::Run, format!("cannot write junit.xml: {e}")))
}

#[cfg(test)]
mod tests;
