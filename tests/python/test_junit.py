"""`junit.xml` read back by a consumer: junitparser's `xunit2` flavour finds the same counts, flaky runs and
reruns as `report.json`; and every element that Maven Surefire's test-report schema defines carries the
attributes the schema requires, with children in the schema's order (the vendored XSD is read, not retyped)."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, cast

import pytest
from junitparser import xunit2

import toron
from conftest import REPO

XSD = REPO / "tests" / "fixtures" / "ref" / "surefire-test-report-3.0.xsd"
XS = "{http://www.w3.org/2001/XMLSchema}"

MANIFEST = """
[[suite]]
name = "unit"

[[suite.case]]
name = "ok"
kind = "command"
argv = ["sh", "-c", "echo fine"]

[[suite.case]]
name = "flaky"
kind = "command"
argv = ["sh", "-c", "if [ -e marker ]; then echo second; exit 0; else touch marker; echo first; exit 1; fi"]
retries = 2

[[suite.case]]
name = "broken"
kind = "command"
argv = ["sh", "-c", "echo out; echo err >&2; exit 3"]
retries = 1

[[suite]]
name = "sim"

[[suite.case]]
name = "echo"
kind = "sim"
scenario = "echo.toml"
seeds = [1, 2]

[[gate]]
rule = "failed == 0"
"""

ECHO = """name = "echo"
stop = { requests = 20 }
[[node]]
id = "server"
model = "echo"
[load]
mode = "closed"
target = "server"
clients = 2
"""


def cases_in(suite: Any) -> list[xunit2.TestCase]:
    """The suite's testcases as xunit2 test cases (junitparser types iteration with its base class)."""
    return [cast(xunit2.TestCase, t) for t in suite]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    root = tmp_path_factory.mktemp("junit")
    (root / "testops.toml").write_text(MANIFEST)
    (root / "echo.toml").write_text(ECHO)
    result = toron.run(toron.Manifest.from_file(root / "testops.toml"), check=True)
    assert result.report_dir is not None
    report_dir = Path(result.report_dir)
    report = json.loads((report_dir / "report.json").read_text())
    return report_dir / "junit.xml", report


def test_junitparser_reads_the_same_counts_flaky_runs_and_reruns(run: tuple[Path, dict[str, Any]]) -> None:
    junit, report = run
    xml = xunit2.JUnitXml.fromfile(str(junit))
    suites = {s.name: s for s in xml}
    assert set(suites) >= {"unit", "sim"}
    cases = {(c["suite"], c["name"]): c for c in report["cases"]}
    for (suite, name), case in cases.items():
        [tc] = [t for t in cases_in(suites[suite]) if t.name == name]
        outcome = case["outcome"]
        assert tc.is_passed == (outcome in ("passed", "flaky")), (name, outcome)
        assert tc.is_failure == (outcome == "failed"), (name, outcome)
        earlier = len(case["attempts"]) - 1
        if outcome == "flaky":
            assert len(tc.flaky_failures()) == earlier
            assert tc.flaky_failures()[0].system_out == case["attempts"][0]["stdout"]
        elif outcome == "failed":
            assert len(tc.rerun_failures()) == earlier
        else:
            assert not tc.flaky_failures() and not tc.rerun_failures()
    unit = suites["unit"]
    assert (unit.tests, unit.failures, unit.errors, unit.skipped) == (3, 1, 0, 0)
    flaky = next(t for t in cases_in(unit) if t.name == "flaky")
    assert len(flaky.flaky_failures()) == 1
    broken = next(t for t in cases_in(unit) if t.name == "broken")
    assert len(broken.rerun_failures()) == 1
    assert broken.rerun_failures()[0].system_err == "err\n"
    # The gate rules are test cases too.
    gates = [t for s in xml for t in s if t.name.startswith("failed == 0")]
    assert len(gates) == 1 and gates[0].is_failure


def _schema() -> tuple[dict[str, set[str]], dict[str, list[str]], dict[str, list[str]], re.Pattern[str]]:
    """From the XSD: required attributes per element name, ordered child element names, the children that
    must appear, and the time pattern."""
    tree = ET.parse(XSD)
    required: dict[str, set[str]] = {}
    children: dict[str, list[str]] = {}
    mandatory: dict[str, list[str]] = {}
    for el in tree.iter(f"{XS}element"):
        name = el.get("name", "")
        attrs = {a.get("name", "") for a in el.iter(f"{XS}attribute") if a.get("use") == "required"}
        # Only this element's own attributes: drop those of nested elements.
        for nested in el.iter(f"{XS}element"):
            if nested is not el:
                attrs -= {
                    a.get("name", "") for a in nested.iter(f"{XS}attribute") if a.get("use") == "required"
                }
        required.setdefault(name, set()).update(attrs)
        seq = el.find(f"{XS}complexType/{XS}sequence")
        if seq is not None:
            children[name] = [c.get("name", "") for c in seq.findall(f"{XS}element")]
            # A child without minOccurs must appear (XSD's default minOccurs is 1).
            mandatory[name] = [
                c.get("name", "") for c in seq.findall(f"{XS}element") if c.get("minOccurs") is None
            ]
    pattern = tree.find(f".//{XS}simpleType[@name='SUREFIRE_TIME']/{XS}restriction/{XS}pattern")
    assert pattern is not None
    return required, children, mandatory, re.compile(pattern.get("value", ""))


def test_every_surefire_element_has_its_required_attributes_and_child_order(
    run: tuple[Path, dict[str, Any]],
) -> None:
    junit, _ = run
    required, children, mandatory, time = _schema()
    assert required["flakyFailure"] == {"type"} and required["testcase"] == {"name", "time"}
    root = ET.parse(junit).getroot()
    seen: set[str] = set()
    for el in root.iter():
        if el.tag not in required:
            continue
        seen.add(el.tag)
        missing = required[el.tag] - set(el.attrib)
        assert not missing, f"<{el.tag}> lacks {missing}: {ET.tostring(el)[:200]!r}"
        if "time" in el.attrib:
            assert time.fullmatch(el.attrib["time"]), el.attrib["time"]
        for child in mandatory.get(el.tag, []):
            assert el.find(child) is not None, f"<{el.tag}> lacks its <{child}>"
        order = children.get(el.tag)
        if order and el.tag != "testsuite":
            known = [c.tag for c in el if c.tag in order]
            assert known == sorted(known, key=order.index), (el.tag, known)
    assert {"testsuite", "testcase", "failure", "flakyFailure", "rerunFailure", "stackTrace"} <= seen
