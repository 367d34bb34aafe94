"""The Python examples run and agree with the library (and so with the Rust, C and C++ examples)."""

from __future__ import annotations

import subprocess
import sys

import toron
from conftest import REPO, child_env, load


def run(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO / "examples" / "python" / script), *args],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_simulate_example_prints_digest_and_summary() -> None:
    out = run("simulate.py")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    for name in ["mm1", "kv_buggy"]:
        outcome = toron.simulate(load(name))
        assert outcome.digest in lines
        assert outcome.summary() in lines
    assert any("acknowledged_write_lost" in line for line in lines)


def test_simulate_example_reports_a_bad_file(tmp_path: object) -> None:
    out = run("simulate.py", "/nonexistent/scenario.toml")
    assert out.returncode == 1
    assert "error: /nonexistent/scenario.toml" in out.stderr


def test_demo_runs_and_finds_the_bug() -> None:
    out = run("demo.py")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Erlang C" in out.stdout
    assert "acknowledged_write_lost found by" in out.stdout
    assert "identical to the sweep" in out.stdout
