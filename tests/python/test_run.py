"""Runs of a test-operations manifest from Python: `toron.start_run` returns at once, events are live with no
gaps and resume from any seq (and equal the archive's event log, which the Rust and C suites also check),
results, flaky retries, cancel and Ctrl-C, replay, history, refresh, drift."""

from __future__ import annotations

import json
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import toron
from conftest import FAILING, GOLDEN, QUICK, SLEEPER, TRACE_A, alive, gone, jsonl, project, wait_for_pid

# A case that takes a second, so the run is visibly in progress while the test looks at it.
LIVE = QUICK.replace(
    '[[suite]]\nname = "sim"',
    '[[suite.case]]\nname = "slow"\nkind = "command"\nargv = ["sh", "-c", "sleep 1; echo done"]\n\n'
    '[[suite]]\nname = "sim"',
)

FLAKY = """\
[[suite]]
name = "unit"

[[suite.case]]
name = "flaky"
kind = "command"
# Fails on the first attempt (no marker yet), passes on the second.
argv = ["sh", "-c", "if [ -e flaky.marker ]; then echo second; else touch flaky.marker; echo first; exit 1; fi"]

[[gate]]
rule = "failed == 0"
"""

DETERMINISM = """\
[[suite]]
name = "hardening"

[[suite.case]]
name = "echo-repeat"
kind = "determinism"
scenario = "echo.toml"
seeds = [1, 2]
repeats = 2
processes = 2
"""


def by_name(result: toron.RunResult) -> dict[str, dict[str, Any]]:
    return {f"{c['suite']}/{c['name']}": c for c in result.cases}


def test_start_run_returns_at_once_and_events_arrive_live(tmp_path: Path) -> None:
    manifest = toron.Manifest.from_file(project(tmp_path, LIVE))
    started = time.monotonic()
    run = toron.start_run(manifest)
    assert time.monotonic() - started < 0.8, "start_run waited for the run"
    assert run.state in ("scheduled", "running")
    assert run.id.startswith(f"run-{toron.__version__}-") and run.id in repr(run)
    received = [(time.monotonic(), event) for event in run.events()]
    events = [e for _, e in received]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1)), "seq has gaps"
    assert events[0]["type"] == "run.scheduled" and events[-1]["type"] == "run.finished"
    assert all(e["run"] == run.id and list(e) == ["seq", "run", "type", "time", "data"] for e in events)
    types = [e["type"] for e in events]
    for kind in ["run.started", "case.started", "case.attempt", "case.finished", "gate.evaluated"]:
        assert kind in types
    # Live: run.started was delivered while the slow case still had most of its second to go.
    at_start = next(t for t, e in received if e["type"] == "run.started")
    assert received[-1][0] - at_start > 0.5
    assert run.wait().state == "passed"
    assert run.state == "passed"  # type: ignore[comparison-overlap]  # mypy narrowed it above


def test_events_resume_after_any_seq_and_equal_the_archive_log(tmp_path: Path) -> None:
    manifest = toron.Manifest.from_file(project(tmp_path, QUICK))
    run = toron.start_run(manifest)
    live = list(run.events())
    run.wait()
    for k in [0, 1, 3, len(live) - 1]:
        assert list(run.events(after=k)) == live[k:]
    assert list(run.events(after=len(live))) == []
    assert list(run.events(after=None)) == live
    # The same events the Rust and C surfaces read: the run's log in the archive, one line per event.
    log = Path(manifest.archive) / "events" / f"{run.id}.events.ndjson"
    assert [json.loads(line) for line in log.read_text().splitlines()] == live
    with pytest.raises(toron.InvalidArgumentError):
        run.events(after=-1)


def test_run_result(tmp_path: Path) -> None:
    manifest = toron.Manifest.from_file(project(tmp_path, QUICK))
    result = toron.run(manifest, jobs=1, check=True)
    assert (result.state, result.verdict, result.go, result.error) == ("passed", "GO", True, None)
    assert [f"{c['suite']}/{c['name']}" for c in result.cases] == manifest.cases == ["unit/ok", "sim/echo"]
    ok = by_name(result)["unit/ok"]
    assert ok["outcome"] == "passed" and ok["attempts"][0]["stdout"] == "hello\n"
    assert by_name(result)["sim/echo"]["attempts"][0]["seeds"][1]["seed"] == 2
    assert result.kpis["run"]["pass_rate"] == 1.0 and result.kpis["run"]["failed"] == 0
    assert [(r["rule"], r["status"]) for r in result.rules] == [
        ("failed == 0", "passed"),
        ("errored == 0", "passed"),
    ]
    assert (result.profile, result.suites, result.seed, result.seed_source) == (
        None,
        ["unit", "sim"],
        None,
        "scenario",
    )
    assert result.duration > 0 and result.started.endswith("Z") and result.unused_goldens == []
    assert result.report_dir is not None
    report_dir = Path(result.report_dir)
    assert report_dir.name == result.id
    for name in ["report.json", "verdict.json", "junit.xml"]:
        assert (report_dir / name).is_file(), name
    assert json.loads((report_dir / "report.json").read_text())["run"]["id"] == result.id
    assert result.to_dict() == json.loads(result.to_json())
    assert result.to_dict()["verdict"]["verdict"] == "GO"
    assert result.id in repr(result) and "'GO'" in repr(result)
    # The archive keeps the whole result: the history gives it back as it was.
    assert toron.runs(manifest.archive)[0].to_dict() == result.to_dict()
    # A path works as well as a Manifest, and the profile/suites select.
    only = toron.run(tmp_path / "testops.toml", suites="sim")
    assert only.suites == ["sim"] and [c["name"] for c in only.cases] == ["echo"]


def test_a_no_go_run_names_the_failing_rule(tmp_path: Path) -> None:
    result = toron.run(project(tmp_path, FAILING))
    assert (result.state, result.verdict, result.go) == ("failed", "NO-GO", False)
    broken = by_name(result)["unit/broken"]
    assert broken["outcome"] == "failed" and broken["attempts"][0]["exit_code"] == 3
    failing = [r for r in result.rules if r["status"] == "failed"]
    assert [r["rule"] for r in failing] == ["failed == 0"] and failing[0]["explanation"]


def test_a_flaky_command_is_flaky_with_two_attempts(tmp_path: Path) -> None:
    result = toron.run(project(tmp_path, FLAKY), retries=1)
    flaky = by_name(result)["unit/flaky"]
    assert flaky["outcome"] == "flaky"
    assert [(a["number"], a["outcome"]) for a in flaky["attempts"]] == [(1, "failed"), (2, "passed")]
    assert [a["stdout"] for a in flaky["attempts"]] == ["first\n", "second\n"]
    assert result.kpis["run"]["flaky"] == 1 and result.state == "passed"
    # Without retries the same case fails (the marker is gone again).
    (tmp_path / "flaky.marker").unlink()
    assert toron.run(tmp_path / "testops.toml").state == "failed"


def test_cancel_kills_the_child_and_records_the_run(tmp_path: Path) -> None:
    manifest = toron.Manifest.from_file(project(tmp_path, SLEEPER))
    run = toron.start_run(manifest, jobs=1)
    pid = wait_for_pid(tmp_path / "pid")
    assert alive(pid) and run.state == "running"
    with pytest.raises(TimeoutError, match=run.id):
        run.wait(timeout=0.2)
    run.cancel()
    result = run.wait(timeout=30)
    assert result.state == "cancelled"
    assert gone(pid), f"the case's sleep (pid {pid}) outlived the cancel"
    outcomes = {name: c["outcome"] for name, c in by_name(result).items()}
    assert outcomes == {"slow/sleeper": "cancelled", "slow/after": "cancelled"}
    assert result.report_dir is not None and (Path(result.report_dir) / "report.json").is_file()
    assert [(r.id, r.state) for r in toron.runs(manifest.archive)] == [(run.id, "cancelled")]
    assert run.wait().to_dict() == result.to_dict(), "wait is callable again"


def interrupt_when(pid_file: Path) -> threading.Thread:
    """A thread that sends SIGINT to the main thread once a case has written `pid_file`."""
    main = threading.main_thread().ident
    assert main is not None

    def send() -> None:
        wait_for_pid(pid_file)
        time.sleep(0.1)
        signal.pthread_kill(main, signal.SIGINT)

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread


needs_main_thread = pytest.mark.skipif(
    threading.current_thread() is not threading.main_thread()
    or signal.getsignal(signal.SIGINT) is not signal.default_int_handler,
    reason="SIGINT must reach this thread as KeyboardInterrupt",
)


@needs_main_thread
def test_ctrl_c_during_run_cancels_records_and_raises(tmp_path: Path) -> None:
    manifest = toron.Manifest.from_file(project(tmp_path, SLEEPER))
    sender = interrupt_when(tmp_path / "pid")
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        toron.run(manifest, jobs=1)
    sender.join()
    assert time.monotonic() - started < 20, "Ctrl-C was only seen when the run ended"
    pid = wait_for_pid(tmp_path / "pid")
    assert gone(pid)
    (recorded,) = toron.runs(manifest.archive)
    assert recorded.state == "cancelled" and recorded.report_dir is not None
    assert (Path(recorded.report_dir) / "report.json").is_file()


@needs_main_thread
def test_ctrl_c_in_wait_and_events_leaves_the_run_going(tmp_path: Path) -> None:
    manifest = toron.Manifest.from_file(project(tmp_path, SLEEPER))
    run = toron.start_run(manifest, jobs=1)
    sender = interrupt_when(tmp_path / "pid")
    with pytest.raises(KeyboardInterrupt):
        run.wait()
    sender.join()
    assert run.state == "running", "Ctrl-C in wait() must not cancel"
    events = run.events()
    main = threading.main_thread().ident
    assert main is not None
    threading.Timer(0.3, signal.pthread_kill, (main, signal.SIGINT)).start()
    with pytest.raises(KeyboardInterrupt):
        for _ in events:
            pass
    assert run.state == "running"
    run.cancel()
    assert run.wait(timeout=30).state == "cancelled"


def test_manifest(tmp_path: Path) -> None:
    text = QUICK.replace("jobs = 2\n", 'jobs = 2\narchive = "arch"\n') + '\n[profiles]\nquick = ["sim"]\n'
    path = project(tmp_path, text)
    m = toron.Manifest.from_file(path)
    assert (m.path, m.root, m.name) == (str(path), str(tmp_path), "quick")
    assert m.archive == str(tmp_path / "arch") and m.reports == str(tmp_path / "reports")
    assert m.snapshots == str(tmp_path / "snapshots")
    assert m.profiles == {"quick": ["sim"]} and m.suites == ["unit", "sim"]
    assert repr(m) == f"Manifest({str(path)!r}, suites=['unit', 'sim'])"
    assert toron.Manifest.from_str(text, root=tmp_path).cases == m.cases
    assert toron.run(m, "quick").profile == "quick"


def test_manifest_error_names_file_line_and_field(tmp_path: Path) -> None:
    assert issubclass(toron.ManifestError, toron.Error) and issubclass(toron.ManifestError, ValueError)
    path = project(tmp_path, '[[suite]]\nname = "x"\nflavour = 1\n')
    with pytest.raises(toron.ManifestError) as info:
        toron.Manifest.from_file(path)
    e = info.value
    assert (e.file, e.line, e.field, e.path) == (str(path), 3, "suite[0].flavour", "/suite/0/flavour")
    assert str(path) in str(e) and "flavour" in str(e)
    with pytest.raises(toron.ManifestError):
        toron.start_run(path)
    with pytest.raises(toron.IoError):
        toron.Manifest.from_file(tmp_path / "missing.toml")


def test_bad_options_are_refused_before_anything_runs(tmp_path: Path) -> None:
    m = toron.Manifest.from_file(project(tmp_path, QUICK))
    cases: list[tuple[dict[str, Any], str]] = [
        ({"profile": "nope"}, "profile"),
        ({"suites": ["unit", "nope"]}, "suites"),
        ({"jobs": 0}, "jobs"),
        ({"seed": -1}, "seed"),
        ({"retries": 2**40}, "retries"),
    ]
    for kwargs, field in cases:
        with pytest.raises(toron.InvalidArgumentError) as info:
            toron.start_run(m, **kwargs)
        assert info.value.field == field, kwargs
    with pytest.raises(TypeError):
        toron.start_run(m, seed="1")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        toron.start_run(42)  # type: ignore[arg-type]
    assert toron.runs(m.archive) == [], "a refused run was recorded"


def test_sim_seed_is_recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    m = toron.Manifest.from_file(project(tmp_path, QUICK))
    monkeypatch.setenv("SIM_SEED", "42")
    result = toron.run(m, suites="sim")
    assert (result.seed, result.seed_source) == (42, "SIM_SEED")
    assert toron.run(m, suites="sim", seed=7).seed_source == "option"
    monkeypatch.setenv("SIM_SEED", "forty-two")
    with pytest.raises(toron.InvalidArgumentError, match="SIM_SEED"):
        toron.run(m, suites="sim")


def test_determinism_across_processes_goes_through_the_python_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TORON_WORKER", raising=False)
    m = toron.Manifest.from_file(project(tmp_path, DETERMINISM))
    result = toron.run(m)
    case = by_name(result)["hardening/echo-repeat"]
    assert case["outcome"] == "passed", case["attempts"][-1]["message"]
    det = case["attempts"][-1]["determinism"]
    assert det["deterministic"] and det["processes"] == 2
    assert sorted(det["digests"]) == ["1", "2"] and all(len(d) == 1 for d in det["digests"].values())
    assert result.kpis["run"]["determinism"] == 1.0
    # TORON_WORKER, when set, is the worker instead (here one that cannot start: the case errors naming it).
    monkeypatch.setenv("TORON_WORKER", json.dumps([str(tmp_path / "no-such-worker")]))
    broken = by_name(toron.run(m))["hardening/echo-repeat"]
    assert broken["outcome"] == "errored" and "no-such-worker" in broken["attempts"][-1]["message"]


def test_replay_is_identical_and_refuses_what_it_cannot_do(tmp_path: Path) -> None:
    m = toron.Manifest.from_file(project(tmp_path, QUICK))
    result = toron.run(m)
    (tmp_path / "echo.toml").unlink()  # replay reads the archive, not the working tree
    replayed = toron.replay(result.id, archive=m.archive)
    assert replayed.identical and replayed.run == result.id
    statuses = {c["case"]: (c["status"], c["seeds"]) for c in replayed.cases}
    assert statuses == {"sim/echo": ("identical", [1, 2]), "unit/ok": ("not_replayed", [])}
    assert replayed.to_dict()["identical"] is True and result.id in repr(replayed)
    with pytest.raises(toron.InvalidArgumentError, match=result.id) as info:
        toron.replay("run-0.0.0-19700101T000000Z", archive=m.archive)
    assert info.value.field == "run_id"
    with pytest.raises(toron.InvalidArgumentError, match="only offline replay"):
        toron.replay(result.id, offline=False, archive=m.archive)


def test_runs_and_report(tmp_path: Path) -> None:
    m = toron.Manifest.from_file(project(tmp_path, QUICK))
    first = toron.run(m, suites="unit")
    second = toron.run(m, suites="sim")
    assert [r.id for r in toron.runs(m.archive)] == [second.id, first.id]
    assert toron.runs(tmp_path / "empty") == []
    reports = tmp_path / "rendered"
    dirs = toron.report(m.archive, reports, first.id)
    assert dirs == [str(reports / first.id)]
    assert json.loads((reports / first.id / "report.json").read_text())["run"]["id"] == first.id
    assert sorted(toron.report(m.archive, reports)) == sorted(str(reports / r.id) for r in (first, second))
    with pytest.raises(toron.InvalidArgumentError, match=second.id):
        toron.report(m.archive, reports, "run-nope")


def test_refresh_snapshots_creates_then_leaves_unchanged(tmp_path: Path) -> None:
    m = toron.Manifest.from_file(project(tmp_path, GOLDEN))
    first = toron.refresh_snapshots(m)
    entries = {e["case"]: e for e in first.entries}
    assert entries["sim/echo"]["status"] == "created" and entries["sim/echo"]["text"]
    assert entries["sim/broken"]["status"] == "skipped" and entries["sim/broken"]["message"]
    assert first.summary() == "1 created, 0 changed, 0 unchanged, 1 skipped"
    golden = tmp_path / "snapshots" / "sim" / "echo.json"
    written = golden.stat().st_mtime_ns
    again = toron.refresh_snapshots(m, suites=["sim"])
    assert again.count("unchanged") == 1 and again.count("created") == 0
    assert golden.stat().st_mtime_ns == written, "an unchanged golden was rewritten"
    changed = toron.refresh_snapshots(m, seed=None, suites="sim")
    assert changed.to_dict()["entries"][0]["status"] == "unchanged"
    (tmp_path / "echo.toml").write_text((tmp_path / "echo.toml").read_text().replace("200", "100"))
    moved = toron.refresh_snapshots(toron.Manifest.from_file(tmp_path / "testops.toml"))
    assert moved.entries[0]["status"] == "changed" and moved.entries[0]["text"]
    with pytest.raises(toron.InvalidArgumentError):
        moved.count("weird")  # type: ignore[arg-type]


def test_first_divergence_of_text_and_files(tmp_path: Path) -> None:
    b = [dict(e) for e in TRACE_A]
    b[2]["t"] = 2500
    b[3]["t"] = 9999
    found = toron.first_divergence(jsonl(TRACE_A), jsonl(b))
    assert found == {"index": 2, "time": 2000, "a": TRACE_A[2], "b": b[2]}
    assert toron.first_divergence(jsonl(TRACE_A), jsonl(TRACE_A)) is None
    pa, pb = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    pa.write_text(jsonl(TRACE_A))
    pb.write_text(jsonl(TRACE_A[:3]))
    shorter = {"index": 3, "time": 3000, "a": TRACE_A[3], "b": None}
    assert toron.first_divergence(pa, pb) == shorter
    assert toron.first_divergence(str(pa), str(pb)) == shorter
    assert toron.first_divergence(str(pa), jsonl(TRACE_A[:3])) == shorter
    with pytest.raises(toron.IoError) as missing:
        toron.first_divergence(pa, tmp_path / "missing.jsonl")
    assert missing.value.file == str(tmp_path / "missing.jsonl")
    with pytest.raises(toron.JsonError) as bad:
        toron.first_divergence(json.dumps(TRACE_A[0]) + "\n{oops\n", pa)
    assert bad.value.line == 2
