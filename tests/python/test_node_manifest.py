"""Issue 13: your own services under a manifest. `examples/nodes/` (on a temporary copy) runs a Python kv node
and the C echo node (examples/c/echo_node.c, built here with `cc`) under load and faults in sim, chaos and
determinism cases, through the `toron` command line: GO, goldens matched, digests the same across threads and
processes, the chaos cases' faults injected, the write-back bug found; the C echo's digest is the vector's from
the Python surface too; a missing library or symbol is a bad-input error naming the scenario and the field."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import toron
from conftest import REPO, child_env

TORON = Path(sys.executable).parent / "toron"
NODES = REPO / "examples" / "nodes"
IGNORE = shutil.ignore_patterns(".toron", "reports", "logs", "build", "__pycache__", "*.new")

pytestmark = pytest.mark.skipif(
    sys.platform != "linux" or shutil.which("cc") is None, reason="builds a C node library with cc (Linux)"
)


def echo_vector() -> dict[str, Any]:
    vector: dict[str, Any] = json.loads((REPO / "tests" / "vectors" / "c_nodes.json").read_text())["echo"]
    return vector


def build_echo_node(dest: Path) -> Path:
    """examples/c/echo_node.c as a node library, where the project's scenarios look for it."""
    lib = dest / "build" / "libecho_node.so"
    lib.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "cc",
            "-std=c11",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-shared",
            "-fPIC",
            "-DTORON_ECHO_NODE_LIBRARY",
            f"-I{REPO / 'include'}",
            str(REPO / "examples" / "c" / "echo_node.c"),
            "-o",
            str(lib),
        ],
        check=True,
        timeout=60,
    )
    return lib


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("nodes") / "nodes"
    shutil.copytree(NODES, dest, ignore=IGNORE)
    build_echo_node(dest)
    return dest


def toron_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    if not TORON.exists():
        pytest.fail(f"the toron script is not installed at {TORON} (run maturin develop)")
    return subprocess.run(
        [str(TORON), *args],
        cwd=cwd,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def report(project: Path) -> dict[str, Any]:
    r = toron_cli("run", "--profile", "full", "--no-progress", "--check", cwd=project)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "verdict: GO" in r.stdout
    (path,) = (project / "reports").glob("run-*/report.json")
    result: dict[str, Any] = json.loads(path.read_text())
    return result


def cases(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f"{c['suite']}/{c['name']}": c for c in report["cases"]}


def test_the_manifest_is_go_with_every_case_passed(report: dict[str, Any]) -> None:
    assert report["verdict"] == "GO"
    assert sorted(cases(report)) == [
        "chaos/echo-c",
        "chaos/kv",
        "chaos/kv-write-back-bug-found",
        "hardening/echo-c-repeat",
        "hardening/kv-repeat",
        "sim/echo-c",
        "sim/kv",
    ]
    assert {name: c["outcome"] for name, c in cases(report).items()} == dict.fromkeys(cases(report), "passed")
    assert report["kpis"]["run"]["determinism"] == 1.0


def test_the_goldens_match_and_the_c_echo_golden_is_the_vector(report: dict[str, Any], project: Path) -> None:
    golden = {name: c["attempts"][-1]["golden"] for name, c in cases(report).items()}
    for name in ["sim/echo-c", "sim/kv", "chaos/echo-c"]:
        assert golden[name] == {"case": name, "status": "passed", "summary": None}, name
    assert report["unused_goldens"] == []
    vector = echo_vector()
    (seed,) = cases(report)["sim/echo-c"]["attempts"][-1]["seeds"]
    assert (seed["seed"], seed["digest"]) == (vector["seed"], vector["digest"])
    stored = json.loads((NODES / "snapshots" / "sim" / "echo-c.json").read_text())
    assert stored["value"][str(vector["seed"])]["digest"] == vector["digest"]
    assert stored["value"][str(vector["seed"])]["output"] == {"server": {"answered": 10_000}}


def test_determinism_across_threads_and_processes(report: dict[str, Any]) -> None:
    for name in ["hardening/echo-c-repeat", "hardening/kv-repeat"]:
        d = cases(report)[name]["attempts"][-1]["determinism"]
        assert d["deterministic"] is True, name
        assert (d["threads"], d["repeats"], d["processes"]) == ([1, 2], 2, 2)
        # 2 seeds x (2 repeats x 2 thread counts + 2 processes).
        assert d["runs"] == 12
        assert all(len(seen) == 1 for seen in d["digests"].values())


def test_the_chaos_cases_inject_their_faults_and_find_the_write_back_bug(
    report: dict[str, Any], project: Path
) -> None:
    by_name = cases(report)
    marks = {
        name: {m["mark"]: m["seeds"] for m in by_name[name]["attempts"][-1].get("marks") or []}
        for name in ["chaos/echo-c", "chaos/kv", "chaos/kv-write-back-bug-found"]
    }
    assert marks["chaos/echo-c"] == {"fault.crash": [1, 2, 3], "fault.restart": [1, 2, 3]}
    assert marks["chaos/kv"] == {"kv.restarted": [3, 4, 5]}
    assert marks["chaos/kv-write-back-bug-found"] == {"kv.restarted": [1, 2, 3]}
    assert [s["violations"] for s in by_name["chaos/kv"]["attempts"][-1]["seeds"]] == [0, 0, 0]
    bug = by_name["chaos/kv-write-back-bug-found"]
    assert bug["expect_violation"] is True
    assert all(s["violations"] > 0 for s in bug["attempts"][-1]["seeds"])
    # The same scenarios from the Python surface: the lost write is the load's check of acknowledged writes.
    found = toron.simulate(toron.Scenario.from_file(project / "kv_write_back.toml"), 1)
    assert {v["invariant"] for v in found.violations} == {"acknowledged_write_lost"}
    assert found.coverage["fault.crash"] == 2
    clean = toron.simulate(toron.Scenario.from_file(project / "kv.toml"), 1)
    assert clean.violations == [] and clean.stats["requests_ok"] > 500
    assert clean.output["kv"]["keys"] > 0


def test_the_c_echo_gives_the_vector_digest_in_this_process(project: Path) -> None:
    vector = echo_vector()
    c_node = toron.simulate(toron.Scenario.from_file(project / "echo_c.toml"), vector["seed"])
    builtin = toron.simulate(toron.Scenario.from_file(REPO / vector["scenario"]), vector["seed"])
    assert c_node.digest == builtin.digest == vector["digest"]
    assert c_node.output == builtin.output
    # Parallel simulations of one node library keep apart (its state is per thread).
    chaos = toron.Scenario.from_file(project / "echo_c_chaos.toml")
    one = toron.sweep(chaos, [1, 2, 3, 4], threads=1)
    many = toron.sweep(chaos, [1, 2, 3, 4], threads=4)
    assert [(o.digest, o.output) for o in one] == [(o.digest, o.output) for o in many]


def broken_copy(project: Path, dest: Path, old: str, new: str) -> Path:
    shutil.copytree(project, dest, ignore=shutil.ignore_patterns(".toron", "reports", "logs", "*.new"))
    scenario = dest / "echo_c.toml"
    text = scenario.read_text()
    assert old in text
    scenario.write_text(text.replace(old, new))
    return scenario


def test_a_missing_library_names_the_scenario_and_node_library(project: Path, tmp_path: Path) -> None:
    scenario = broken_copy(
        project, tmp_path / "p", 'library = "build/libecho_node.so"', 'library = "build/nope.so"'
    )
    r = toron_cli("run", "--profile", "full", "--no-progress", "--check", cwd=tmp_path / "p")
    assert r.returncode == 2, r.stdout + r.stderr
    # The manifest's directory is the run's: the scenario is named relative to it, with line and column.
    assert "error: ./echo_c.toml:11:1: field node[0].library:" in r.stderr
    assert "cannot open library" in r.stderr and "build/nope.so" in r.stderr
    with pytest.raises(toron.ScenarioError) as e:
        toron.Scenario.from_file(scenario)
    assert e.value.field == "node[0].library"
    assert e.value.line == 11


def test_a_missing_symbol_names_the_scenario_and_node_model(project: Path, tmp_path: Path) -> None:
    scenario = broken_copy(project, tmp_path / "p", 'model = "c:echo_node"', 'model = "c:no_such_node"')
    r = toron_cli("run", "--profile", "full", "--no-progress", "--check", cwd=tmp_path / "p")
    assert r.returncode == 2, r.stdout + r.stderr
    assert "error: ./echo_c.toml:10:1: field node[0].model:" in r.stderr
    assert 'no symbol "no_such_node"' in r.stderr
    with pytest.raises(toron.ScenarioError) as e:
        toron.Scenario.from_file(scenario)
    assert e.value.field == "node[0].model"


def test_replay_finds_the_outside_nodes_from_the_archive(report: dict[str, Any], project: Path) -> None:
    run_id = report["run"]["id"]
    r = toron_cli("replay", "--run-id", run_id, "--offline", cwd=project)
    assert r.returncode == 0, r.stdout + r.stderr


def test_a_pickled_scenario_keeps_its_directory_for_a_process_pool(project: Path) -> None:
    import multiprocessing
    import pickle
    from concurrent.futures import ProcessPoolExecutor

    for name in ["echo_c_chaos.toml", "kv.toml"]:
        s = toron.Scenario.from_file(project / name)
        assert s.base_dir == str(project)
        again = pickle.loads(pickle.dumps(s))
        assert again.base_dir == s.base_dir
        assert toron.simulate(again, 2).digest == toron.simulate(s, 2).digest
    # Another process: it imports kvnode.py and opens build/libecho_node.so from the scenario's directory.
    s = toron.Scenario.from_file(project / "kv.toml")
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        remote = toron.sweep(s, [1, 2], executor=pool)
    assert [o.digest for o in remote] == [o.digest for o in toron.sweep(s, [1, 2])]


NOISY = '''\
"""An echo node that draws from Python's own `random` instead of `ctx.random()`: not reproducible."""
import random

import toron


class Noisy(toron.Node):
    def on_message(self, ctx: toron.Context, src: str, msg: toron.Message) -> None:
        ctx.log(f"jitter {random.random():.9f}")
        ctx.reply(msg, {"type": "ok"})
'''

NOISY_SCENARIO = """\
name = "noisy"
seed = 1
stop = { requests = 50 }

[[node]]
id = "server"
model = "python:noisy:Noisy"

[network]
latency = { dist = "constant", value = "1ms" }

[load]
mode = "closed"
clients = 2
target = "server"
"""

NOISY_MANIFEST = """\
[project]
name = "noisy"

[profiles]
full = ["hardening"]

[[suite]]
name = "hardening"

[[suite.case]]
name = "noisy-repeat"
kind = "determinism"
scenario = "noisy.toml"
seeds = [1]
repeats = 2
threads = [1, 2]
"""


def test_a_node_that_uses_pythons_random_instead_of_ctx_is_caught_by_a_determinism_case(
    tmp_path: Path,
) -> None:
    """The issue's promise: a node calling `random.random()` instead of `ctx.random()` fails a determinism case
    of the manifest, and the report names the first divergent event (a `log` record of the node)."""
    (tmp_path / "noisy.py").write_text(NOISY)
    (tmp_path / "noisy.toml").write_text(NOISY_SCENARIO)
    (tmp_path / "testops.toml").write_text(NOISY_MANIFEST)
    r = toron_cli("run", "--profile", "full", cwd=tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr  # NO-GO
    drift_file = json.loads((tmp_path / "reports" / "determinism.json").read_text())
    assert drift_file["deterministic"] is False
    (case,) = drift_file["cases"]
    assert case["case"] == "hardening/noisy-repeat" and case["deterministic"] is False, case
    drift = case["drift"]
    assert drift is not None, case
    text = json.dumps(drift)
    assert "jitter" in text and "log" in text, drift
