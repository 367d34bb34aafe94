"""The checkers on simulations from Python and the command line: the load's history (JSON and EDN export,
checked by `check_linearizable`), `[invariants] linearizable`, `[expect] sometimes` in sweeps (locally, on a
process pool and on a Dask cluster), and `toron shrink` / `toron.shrink`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import toron
from conftest import REPO, child_env

TORON = Path(sys.executable).parent / "toron"
SCENARIOS = REPO / "examples" / "scenarios"


def toron_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(TORON), *args],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=cwd,
    )


def with_tables(name: str, tables: str) -> toron.Scenario:
    text = (SCENARIOS / f"{name}.toml").read_text(encoding="utf-8")
    return toron.Scenario.from_str(f"{text}\n{tables}\n")


def test_history_is_recorded_only_when_asked_and_exports_as_json_and_edn() -> None:
    scenario = toron.Scenario.from_file(SCENARIOS / "kv.toml")
    plain = toron.simulate(scenario, 1)
    assert plain.history is None and plain.linearizable is None
    with pytest.raises(toron.InvalidArgumentError, match="no history was recorded"):
        plain.history_text()
    recorded = toron.simulate(scenario, 1, history=True)
    assert recorded.digest == plain.digest, "recording never changes the run"
    history = recorded.history
    assert history is not None
    invokes = [op for op in history if op["type"] == "invoke"]
    assert len(invokes) == recorded.stats["requests_sent"]
    assert {op["f"] for op in invokes} == {"read", "write"}
    assert sum(op["type"] == "info" for op in history) == recorded.stats["requests_timeout"]
    for fmt in ("json", "edn"):
        verdict = toron.check_linearizable(recorded.history_text(fmt), model="kv")
        assert verdict["linearizable"] is True, fmt
        assert verdict["ops"] == len(history)
    with pytest.raises(toron.InvalidArgumentError, match='expected "json" or "edn"'):
        recorded.history_text("xml")


def test_kv_buggy_lost_writes_are_not_linearizable() -> None:
    outcome = toron.simulate(with_tables("kv_buggy", '[invariants]\nlinearizable = "kv"'), 3)
    invariants = [v["invariant"] for v in outcome.violations]
    assert "acknowledged_write_lost" in invariants and "linearizable" in invariants
    verdict = outcome.linearizable
    assert verdict is not None and verdict["linearizable"] is False
    window = verdict["counterexample"]["ops"]
    assert 1 <= len(window) <= 5, window
    message = next(v["message"] for v in outcome.violations if v["invariant"] == "linearizable")
    assert "cannot" in message and "on key" in message
    assert outcome == toron.Outcome.from_json(outcome.to_json())


def test_linearizable_on_a_non_kv_load_is_a_named_error() -> None:
    with pytest.raises(toron.ScenarioError) as info:
        with_tables("echo", '[invariants]\nlinearizable = "kv"')
    assert info.value.field == "invariants.linearizable"
    assert info.value.line is not None


def test_a_sweep_with_an_unreachable_mark_fails_naming_it() -> None:
    scenario = with_tables("kv", '[expect]\nsometimes = ["fault.crash", "kv.failover", "no.such.mark"]')
    with pytest.raises(toron.ExpectationError) as info:
        toron.sweep(scenario, [1, 2, 3])
    err = info.value
    assert "`no.such.mark` never reached on any of 3 seeds (1, 2, 3)" in str(err)
    assert "`kv.failover`" not in str(err)
    assert [o.seed for o in err.outcomes] == [1, 2, 3]  # type: ignore[attr-defined]
    assert err.marks["no.such.mark"] == []  # type: ignore[attr-defined]
    assert err.marks["fault.crash"] == [1, 2, 3]  # type: ignore[attr-defined]
    reached = with_tables("kv", '[expect]\nsometimes = ["fault.crash", "kv.failover"]')
    outcomes = toron.sweep(reached, [1, 2])
    assert toron.marks(reached, outcomes) == {"fault.crash": [1, 2], "kv.failover": [1, 2]}


def test_a_process_pool_sweep_checks_the_marks_too() -> None:
    from concurrent.futures import ProcessPoolExecutor

    scenario = with_tables("kv", '[expect]\nsometimes = ["no.such.mark"]')
    with ProcessPoolExecutor(2) as pool, pytest.raises(toron.ExpectationError, match="no.such.mark"):
        toron.sweep(scenario, [1, 2], executor=pool)


def test_a_dask_cluster_sweep_equals_the_local_sweep() -> None:
    distributed = pytest.importorskip("distributed")
    scenario = toron.Scenario.from_file(SCENARIOS / "kv_buggy.toml")
    seeds = [5, 3, 1, 4]
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    with cluster, distributed.Client(cluster) as client:
        remote = toron.sweep(scenario, seeds, executor=client.get_executor())
    local = toron.sweep(scenario, seeds)
    assert [o.seed for o in remote] == seeds
    assert [o.digest for o in remote] == [o.digest for o in local]
    assert remote == local


def test_shrink_from_python_replays_to_the_same_violation(tmp_path: Path) -> None:
    scenario = toron.Scenario.from_file(SCENARIOS / "kv_buggy.toml")
    shrunk = toron.shrink(scenario, 3)
    assert shrunk.invariant == "acknowledged_write_lost"
    # One crash just after one acknowledged write, one client, a handful of requests (from 4 faults, 8
    # clients and 10 650 requests); the same numbers as the Rust and C tests.
    assert shrunk.original == {
        "faults": 4,
        "clients": 8,
        "requests": 10650,
        "virtual_time_ns": 20_000_000_000,
    }
    assert (shrunk.minimal["faults"], shrunk.minimal["clients"]) == (1, 1)
    assert shrunk.minimal["requests"] <= 5
    assert shrunk.steps and shrunk.runs > len(shrunk.steps)
    path = tmp_path / "minimal.toml"
    shrunk.write(path)
    again = toron.simulate(toron.Scenario.from_file(path))
    assert again.violations[0]["invariant"] == "acknowledged_write_lost"
    assert again.digest == toron.simulate(shrunk.scenario).digest
    assert shrunk.to_dict()["scenario"] == shrunk.scenario.to_dict()
    with pytest.raises(toron.InvalidArgumentError, match="violates no invariant"):
        toron.shrink(toron.Scenario.from_file(SCENARIOS / "kv.toml"), 1)


def test_toron_shrink_writes_a_minimal_scenario_that_toron_simulate_replays(tmp_path: Path) -> None:
    out = tmp_path / "minimal.toml"
    r = toron_cli("shrink", str(SCENARIOS / "kv_buggy.toml"), "--seed", "3", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "acknowledged_write_lost still violated" in r.stdout
    assert "dropped fault[" in r.stdout
    assert "faults 4 -> 1, clients 8 -> 1, requests 10650 -> 3 " in r.stdout
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Shrunk by `toron shrink` from kv_buggy")
    replay = toron_cli("simulate", str(out))
    assert replay.returncode == 1, replay.stdout + replay.stderr
    assert "acknowledged_write_lost" in replay.stdout
    # Without --out the scenario goes to standard output and the steps to standard error.
    r = toron_cli("shrink", str(SCENARIOS / "kv_buggy.toml"), "--seed", "3", "--max-runs", "5")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("# Shrunk by `toron shrink`") and "run budget ran out" in r.stderr
    bad = toron_cli("shrink", str(SCENARIOS / "kv.toml"), "--seed", "1")
    assert bad.returncode == 2 and "violates no invariant" in bad.stderr


def test_toron_simulate_writes_the_history_for_check_history(tmp_path: Path) -> None:
    history = tmp_path / "kv_buggy.edn"
    r = toron_cli("simulate", str(SCENARIOS / "kv_buggy.toml"), "--seed", "3", "--history", str(history))
    assert r.returncode == 1, r.stderr
    assert history.read_text(encoding="utf-8").startswith("{:index 0, ")
    check = toron_cli("check-history", str(history), "--model", "kv")
    assert check.returncode == 1, check.stdout + check.stderr
    assert "NOT linearizable" in check.stdout and "on key" in check.stdout


def test_a_ray_pool_sweep_through_the_readme_adapter_equals_the_local_sweep() -> None:
    """The README's Ray adapter (Ray has no `concurrent.futures.Executor`); runs where `toron[ray]` is
    installed (not in CI: ray is large and optional, like the extra)."""
    from concurrent.futures import Executor

    ray = pytest.importorskip("ray")
    ray_pool = pytest.importorskip("ray.util.multiprocessing")

    class RayExecutor(Executor):
        def __init__(self) -> None:
            self.pool = ray_pool.Pool(2)

        def map(self, fn, *iterables, timeout=None, chunksize=1):  # type: ignore[no-untyped-def]
            return self.pool.starmap(fn, zip(*iterables))

    scenario = toron.Scenario.from_file(SCENARIOS / "kv_buggy.toml")
    seeds = [5, 3, 1, 4]
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        executor = RayExecutor()
        remote = toron.sweep(scenario, seeds, executor=executor)
        executor.pool.terminate()
    finally:
        ray.shutdown()
    assert [o.seed for o in remote] == seeds
    assert remote == toron.sweep(scenario, seeds)
