"""Shared helpers of the Python suite: the repository root and the shipped scenarios."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

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
