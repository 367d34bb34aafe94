"""The determinism contract from Python: same scenario + seed ⇒ same digest, everywhere."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

import toron
from conftest import REPO, child_env, load, scenario_path

VECTORS = REPO / "tests" / "vectors" / "sim.json"


@pytest.mark.parametrize("name", ["echo", "kv", "kv_buggy"])
def test_same_seed_same_digest_repeated(name: str) -> None:
    scenario = load(name)
    first = toron.simulate(scenario, seed=7)
    for _ in range(3):
        again = toron.simulate(scenario, seed=7)
        assert again.digest == first.digest
        assert again.to_json() == first.to_json()
        assert again == first


def test_different_seed_different_digest() -> None:
    scenario = load("kv")
    digests = {toron.simulate(scenario, seed=s).digest for s in range(1, 9)}
    assert len(digests) == 8


def test_digest_is_64_hex() -> None:
    digest = toron.simulate(load("echo"), seed=1).digest
    assert len(digest) == 64
    int(digest, 16)


@pytest.mark.parametrize("threads", [None, 1, 2])
def test_sweep_equals_one_by_one_in_seed_order(threads: int | None) -> None:
    scenario = load("kv_buggy")
    seeds = [5, 1, 4, 2, 3]
    swept = toron.sweep(scenario, seeds, threads=threads)
    assert [o.seed for o in swept] == seeds
    for seed, outcome in zip(seeds, swept):
        assert outcome == toron.simulate(scenario, seed=seed)


def test_sweep_same_for_one_and_two_threads() -> None:
    scenario = load("kv")
    one = toron.sweep(scenario, range(1, 7), threads=1)
    two = toron.sweep(scenario, range(1, 7), threads=2)
    assert [o.digest for o in one] == [o.digest for o in two]


def test_sweep_of_nothing_is_empty() -> None:
    assert toron.sweep(load("echo"), []) == []


def test_same_digest_across_processes() -> None:
    seeds = [1, 2, 3]
    code = (
        "import sys, toron\n"
        "s = toron.Scenario.from_file(sys.argv[1])\n"
        "for seed in sys.argv[2:]:\n"
        "    print(toron.simulate(s, seed=int(seed)).digest)\n"
    )
    here = [toron.simulate(load("kv_buggy"), seed=s).digest for s in seeds]
    for hash_seed in ["0", "1234"]:
        env = child_env()
        env["PYTHONHASHSEED"] = hash_seed
        out = subprocess.run(
            [sys.executable, "-c", code, str(scenario_path("kv_buggy")), *map(str, seeds)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        assert out.stdout.split() == here


def test_seed_falls_back_to_scenario_then_sim_seed_then_zero(monkeypatch: pytest.MonkeyPatch) -> None:
    with_seed = load("echo")
    assert with_seed.seed == 1
    assert toron.simulate(with_seed).seed == 1
    assert toron.simulate(with_seed, seed=9).seed == 9
    spec = with_seed.to_dict()
    del spec["seed"]
    no_seed = toron.Scenario.from_dict(spec)
    assert toron.simulate(no_seed).seed == 0
    monkeypatch.setenv("SIM_SEED", "42")
    outcome = toron.simulate(no_seed)
    assert outcome.seed == 42
    assert outcome.digest == toron.simulate(no_seed, seed=42).digest
    monkeypatch.setenv("SIM_SEED", "forty-two")
    with pytest.raises(toron.InvalidArgumentError):
        toron.simulate(no_seed)


def test_trace_file_is_json_lines(tmp_path: Path) -> None:
    trace = tmp_path / "trace.jsonl"
    outcome = toron.simulate(load("echo"), seed=1, trace=trace)
    lines = trace.read_text().splitlines()
    assert lines
    for line in lines[:50]:
        json.loads(line)
    assert toron.simulate(load("echo"), seed=1).digest == outcome.digest


def test_outcome_pickles() -> None:
    outcome = toron.simulate(load("kv_buggy"), seed=3)
    again = pickle.loads(pickle.dumps(outcome))
    assert again == outcome
    assert again.violations == outcome.violations


def _vector_cases() -> list[dict[str, object]]:
    if not VECTORS.exists():
        return []
    doc = json.loads(VECTORS.read_text())
    assert doc["version"] == 1
    cases: list[dict[str, object]] = doc["cases"]
    return cases


def test_vectors_file_exists_and_has_cases() -> None:
    assert VECTORS.exists(), f"{VECTORS} is missing"
    assert _vector_cases()


@pytest.mark.parametrize("case", _vector_cases(), ids=lambda c: str(c.get("name")))
def test_pinned_digest_from_vectors(case: dict[str, object]) -> None:
    scenario = toron.Scenario.from_file(REPO / str(case["scenario"]))
    seed = case["seed"]
    assert isinstance(seed, int)
    outcome = toron.simulate(scenario, seed=seed)
    assert outcome.digest == case["digest"]
    stats = case.get("stats", {})
    assert isinstance(stats, dict)
    got = outcome.stats
    for key, want in stats.items():
        assert got[key] == want, key
    if "latency_count" in case:
        assert outcome.latency["count"] == case["latency_count"]
    if "violations" in case:
        assert len(outcome.violations) == case["violations"]


@pytest.mark.parametrize("pool", ["thread", "process"])
def test_sweep_on_an_executor_equals_the_native_sweep(pool: str) -> None:
    from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor

    scenario = load("kv_buggy")
    seeds = [3, 1, 2]
    executor: Executor = ThreadPoolExecutor(2) if pool == "thread" else ProcessPoolExecutor(2)
    with executor:
        remote = toron.sweep(scenario, seeds, executor=executor)
    assert remote == toron.sweep(scenario, seeds)
    with pytest.raises(toron.InvalidArgumentError):
        toron.sweep(scenario, seeds, threads=1, executor=executor)
