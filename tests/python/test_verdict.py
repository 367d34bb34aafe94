"""Issue 16: a run with a failed, errored or timed-out case is never GO, also with no `[[gate]]` at all, on
every exit path of the Python surface: `toron.run` / `RunResult`, `toron run`, `sim/run_suite.py`; the rule that
decides it is in verdict.json and index.html and names the case."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import toron
from conftest import REPO, child_env, project

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the cases run POSIX shell commands")

TORON = Path(sys.executable).parent / "toron"

# One suite per outcome kind, and no gates.
NO_GATES = """\
[[suite]]
name = "failing"
[[suite.case]]
name = "exit3"
kind = "command"
argv = ["sh", "-c", "exit 3"]

[[suite]]
name = "erroring"
[[suite.case]]
name = "missing"
kind = "command"
argv = ["/nonexistent/toron-issue-16"]

[[suite]]
name = "slow"
[[suite.case]]
name = "sleeps"
kind = "command"
argv = ["sleep", "5"]
timeout = "200ms"

[[suite]]
name = "fine"
[[suite.case]]
name = "ok"
kind = "command"
argv = ["true"]

[profiles]
failing = ["failing"]
erroring = ["erroring"]
slow = ["slow"]
fine = ["fine"]
"""

OUTCOMES = [
    ("failing", "failed", "failed == 0", "failing/exit3"),
    ("erroring", "errored", "errored == 0", "erroring/missing"),
    ("slow", "timed_out", "errored == 0", "slow/sleeps"),
]


@pytest.mark.parametrize(("profile", "outcome", "rule", "case"), OUTCOMES)
def test_issue_16_run_result_is_no_go(
    tmp_path: Path, profile: str, outcome: str, rule: str, case: str
) -> None:
    manifest = toron.Manifest.from_file(project(tmp_path, NO_GATES))
    result = toron.run(manifest, profile, check=True)
    assert result.cases[0]["outcome"] == outcome
    assert (result.state, result.verdict, result.go, result.error) == ("failed", "NO-GO", False, None)
    failing = [r for r in result.rules if r["status"] == "failed"]
    assert [r["rule"] for r in failing] == [rule]
    assert failing[0]["explanation"].endswith(f"Cases: {case}.")
    assert result.report_dir is not None
    report = Path(result.report_dir)
    verdict = json.loads((report / "verdict.json").read_text())
    assert verdict["verdict"] == "NO-GO" and any(r["rule"] == rule for r in verdict["rules"])
    page = (report / "index.html").read_text()
    assert "NO-GO" in page and f"<code>{rule}</code>" in page and case.replace("/", "&#x2f;") in page


@pytest.mark.parametrize(("profile", "outcome", "rule", "case"), OUTCOMES)
def test_issue_16_cli_and_run_suite_exit_1(
    tmp_path: Path, profile: str, outcome: str, rule: str, case: str
) -> None:
    path = project(tmp_path, NO_GATES)
    run = [str(TORON), "run", "--manifest", str(path), "--profile", profile, "--check", "--no-progress"]
    suite = [
        sys.executable,
        str(REPO / "sim" / "run_suite.py"),
        "--manifest",
        str(path),
        "--profile",
        profile,
    ]
    for argv in (run, suite):
        out = subprocess.run(
            argv, cwd=tmp_path, env=child_env(), capture_output=True, text=True, timeout=120, check=False
        )
        assert out.returncode == 1, out.stdout + out.stderr
        assert "NO-GO" in out.stdout, out.stdout
    out = subprocess.run(
        run, cwd=tmp_path, env=child_env(), capture_output=True, text=True, timeout=120, check=False
    )
    assert f"failed: {rule}: " in out.stdout and case in out.stdout, out.stdout
    assert "(1 case, " in out.stdout, out.stdout


def test_issue_16_a_passing_run_without_gates_is_go(tmp_path: Path) -> None:
    manifest = toron.Manifest.from_file(project(tmp_path, NO_GATES))
    result = toron.run(manifest, "fine", check=True)
    assert (result.state, result.verdict) == ("passed", "GO")
    assert {r["rule"]: r["status"] for r in result.rules} == {
        "determinism >= 98%": "not_evaluated",
        "coverage >= 90%": "not_evaluated",
        "failed == 0": "passed",
        "errored == 0": "passed",
    }
