"""Shared helpers of the Python suite: the repository root and the shipped scenarios."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import toron

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = REPO / "examples" / "scenarios"


def scenario_path(name: str) -> Path:
    """The path of a shipped scenario, e.g. ``scenario_path("mm1")``."""
    return SCENARIOS / f"{name}.toml"


def load(name: str) -> toron.Scenario:
    """A shipped scenario."""
    return toron.Scenario.from_file(scenario_path(name))


def child_env() -> dict[str, str]:
    """The environment for a child Python: the same interpreter and import path, no inherited SIM_SEED."""
    env = dict(os.environ)
    env.pop("SIM_SEED", None)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    return env


def default_sigint() -> None:
    """``preexec_fn`` of every child a test sends Ctrl-C to: restore SIGINT's default disposition. A process
    started with SIGINT ignored (``nohup``, ``cmd &`` in a non-interactive shell, some CI runners) passes the
    ignore on to its children, and Python leaves an ignored SIGINT ignored instead of raising
    KeyboardInterrupt, so the test's signal would be lost and it would time out."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture(autouse=True)
def _no_sim_seed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never inherit SIM_SEED from the shell (a test that wants it sets it)."""
    monkeypatch.delenv("SIM_SEED", raising=False)


#: The small closed-loop echo scenario the runner fixtures use (200 requests, 5 ms hops).
ECHO = REPO / "tests" / "fixtures" / "runner" / "run" / "scenarios" / "echo.toml"


def project(root: Path, manifest: str) -> Path:
    """A test-operations project in `root`: `testops.toml` with `manifest`, and `echo.toml` beside it.
    Returns the manifest's path."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "echo.toml").write_text(ECHO.read_text())
    path = root / "testops.toml"
    path.write_text(manifest)
    return path


@pytest.fixture(autouse=True)
def _no_worker_leak() -> Iterator[None]:
    """`toron.cli.main` called in-process sets TORON_WORKER for the process (as the `toron` script does at
    start); put it back as it was after each test."""
    before = os.environ.get("TORON_WORKER")
    yield
    if before is None:
        os.environ.pop("TORON_WORKER", None)
    else:
        os.environ["TORON_WORKER"] = before


# --- runs of manifests (test_run.py, test_cli_run.py) ---------------------------------------------------

QUICK = """\
[project]
name = "quick"
jobs = 2

[[suite]]
name = "unit"

[[suite.case]]
name = "ok"
kind = "command"
argv = ["sh", "-c", "echo hello"]

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

# The first case writes its pid and sleeps 30 s (exec: the pid is the sleep's); the second never starts
# with jobs = 1 when the run is cancelled.
SLEEPER = """\
[[suite]]
name = "slow"

[[suite.case]]
name = "sleeper"
kind = "command"
argv = ["sh", "-c", "echo $$ > pid; exec sleep 30"]

[[suite.case]]
name = "after"
kind = "command"
argv = ["true"]
"""

FAILING = """\
[[suite]]
name = "unit"

[[suite.case]]
name = "broken"
kind = "command"
argv = ["sh", "-c", "echo oops >&2; exit 3"]

[[gate]]
rule = "failed == 0"
"""

GOLDEN = """\
[[suite]]
name = "sim"

[[suite.case]]
name = "echo"
kind = "sim"
scenario = "echo.toml"
seed = 3
golden = true

[[suite.case]]
name = "broken"
kind = "command"
argv = ["false"]
artifacts = ["out.json"]
golden = true
"""


def wait_for_pid(path: Path, timeout: float = 30) -> int:
    """The pid a case wrote to `path` (a whole line), waiting for it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            text = path.read_text()
            if text.endswith("\n") and text.strip().isdigit():
                return int(text)
        time.sleep(0.02)
    raise AssertionError(f"no pid in {path} after {timeout} s")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def gone(pid: int, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


TRACE_A = [
    {"i": 0, "t": 0, "type": "arrival"},
    {"i": 1, "t": 1000, "type": "deliver", "from": "client", "to": "server"},
    {"i": 2, "t": 2000, "type": "timer", "node": "server", "timer": 1},
    {"i": 3, "t": 3000, "type": "deadline"},
]


def jsonl(events: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(e) + "\n" for e in events)
