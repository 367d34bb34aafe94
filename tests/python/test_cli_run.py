"""The run commands of the `toron` command line: `run` (exit by the verdict, events, progress, Ctrl-C),
`runs` (including a killed run shown interrupted), `report`, `replay`, `trace diff` and `snapshot refresh`,
and the exit codes they share: 0 GO, 1 NO-GO, 2 bad input, 3 errored run, 130 interrupted."""

from __future__ import annotations

import contextlib
import json
import os
import pty
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import toron
import toron.cli
from conftest import (
    FAILING,
    GOLDEN,
    QUICK,
    SLEEPER,
    TRACE_A,
    child_env,
    default_sigint,
    gone,
    jsonl,
    project,
    wait_for_pid,
)

TORON = Path(sys.executable).parent / "toron"

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the cases run POSIX shell commands")


def toron_cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(TORON), *args],
        cwd=cwd,
        env={**child_env(), **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def events_of(archive: Path, run_id: str) -> list[dict[str, Any]]:
    log = archive / "events" / f"{run_id}.events.ndjson"
    return [json.loads(line) for line in log.read_text().splitlines()]


def run_id_in(text: str) -> str:
    return next(w for w in text.split() if w.startswith("run-"))


@pytest.fixture(autouse=True)
def _installed() -> None:
    if not TORON.exists():
        pytest.fail(f"the toron script is not installed at {TORON} (run maturin develop)")


def test_help_documents_the_exit_codes() -> None:
    out = toron_cli("--help")
    assert out.returncode == 0
    for text in ["0  success: GO", "1  NO-GO", "2  bad input", "3  an errored run", "130 interrupted"]:
        assert text in out.stdout, text
    for command in ["run", "runs", "report", "replay", "trace", "snapshot"]:
        assert command in out.stdout
    run_help = toron_cli("run", "--help").stdout
    for option in ["--manifest", "--profile", "--suite", "--seed", "--jobs", "--retries", "--check"]:
        assert option in run_help
    for option in ["--archive", "--events", "--no-progress", "exit codes"]:
        assert option in run_help


def test_run_go(tmp_path: Path) -> None:
    project(tmp_path, QUICK)
    r = toron_cli("run", "--events", "events.ndjson", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    run_id = run_id_in(r.stdout)
    assert f"run {run_id}: passed" in r.stdout and "verdict: GO" in r.stdout
    assert f"report: ./reports/{run_id}" in r.stdout
    # Not a terminal: one plain line per finished case on stderr.
    assert "passed     unit/ok" in r.stderr and "passed     sim/echo" in r.stderr
    written = [json.loads(line) for line in (tmp_path / "events.ndjson").read_text().splitlines()]
    assert written == events_of(tmp_path / ".toron", run_id)
    # `--events -`: the events alone on stdout, the rest on stderr; a second run appends to a file.
    r = toron_cli("run", "--events", "-", "--suite", "sim", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    streamed = [json.loads(line) for line in r.stdout.splitlines()]
    second = streamed[0]["run"]
    assert streamed == events_of(tmp_path / ".toron", second) and "verdict: GO" in r.stderr
    assert toron_cli("run", "--events", "events.ndjson", "--suite", "unit", cwd=tmp_path).returncode == 0
    runs = [json.loads(line)["run"] for line in (tmp_path / "events.ndjson").read_text().splitlines()]
    assert runs[0] == run_id and len(set(runs)) == 2


def test_run_events_file_is_the_archive_log_and_each_case_has_a_line(tmp_path: Path) -> None:
    cases = "".join(
        f'[[suite.case]]\nname = "c{i}"\nkind = "sim"\nscenario = "echo.toml"\nseed = {i}\n\n'
        for i in range(30)
    )
    project(tmp_path, f'[project]\nname = "many"\njobs = 2\n\n[[suite]]\nname = "s"\n\n{cases}')
    r = toron_cli("run", "--events", "events.ndjson", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    run_id = run_id_in(r.stdout)
    written = (tmp_path / "events.ndjson").read_text()
    log = (tmp_path / ".toron" / "events" / f"{run_id}.events.ndjson").read_text()
    assert written == log, "the events file is not the archive's event log, byte for byte"
    seqs = [json.loads(line)["seq"] for line in written.splitlines()]
    assert seqs == list(range(1, len(seqs) + 1)), "gaps or reordering"
    assert json.loads(written.splitlines()[-1])["type"] == "run.finished"
    shown = sorted(line.split()[1] for line in r.stderr.splitlines() if line.startswith("passed "))
    assert shown == sorted(f"s/c{i}" for i in range(30)), r.stderr
    assert "(30 cases, " in r.stdout


def test_run_in_process(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = project(tmp_path, QUICK)
    archive = tmp_path / "elsewhere"
    code = toron.cli.main(["run", "--manifest", str(path), "--no-progress", "--archive", str(archive)])
    out = capsys.readouterr()
    assert code == 0, out
    assert "verdict: GO" in out.out and "passed     unit/ok" in out.err
    assert [r.state for r in toron.runs(archive)] == ["passed"]


def test_run_no_go_names_the_failing_rule(tmp_path: Path) -> None:
    project(tmp_path, FAILING)
    r = toron_cli("run", cwd=tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "verdict: NO-GO" in r.stdout and "  failed: failed == 0: " in r.stdout
    assert "failed     unit/broken" in r.stderr


def test_run_bad_input_exits_2(tmp_path: Path) -> None:
    path = project(tmp_path, '[[suite]]\nname = "x"\nflavour = 1\n')
    r = toron_cli("run", cwd=tmp_path)
    assert r.returncode == 2 and r.stdout == ""
    assert "testops.toml:3" in r.stderr and "suite[0].flavour" in r.stderr
    path.write_text(QUICK)
    for args, words in [
        (["--profile", "nope"], ["profile", "nope"]),
        (["--suite", "nope"], ["suite", "nope"]),
        (["--jobs", "0"], ["jobs"]),
        (["--seed", "-1"], ["seed"]),
        (["--jobs", "many"], ["--jobs"]),
        (["--manifest", "missing.toml"], ["missing.toml"]),
    ]:
        r = toron_cli("run", *args, cwd=tmp_path)
        assert r.returncode == 2, (args, r.stderr)
        assert all(w in r.stderr for w in words), (args, r.stderr)
    r = toron_cli("run", cwd=tmp_path, env={"SIM_SEED": "many"})
    assert r.returncode == 2 and "SIM_SEED" in r.stderr
    assert toron.runs(tmp_path / ".toron") == [], "a refused run was recorded"


def test_run_errored_exits_3(tmp_path: Path) -> None:
    project(tmp_path, QUICK)
    (tmp_path / "a-file").write_text("")
    r = toron_cli("run", "--archive", "a-file", cwd=tmp_path)
    assert r.returncode == 3 and "a-file" in r.stderr, r.stderr
    # The run itself errors: its reports cannot be written (the reports root is a file).
    (tmp_path / "testops.toml").write_text(QUICK.replace("jobs = 2\n", 'jobs = 2\nreports = "a-file"\n'))
    r = toron_cli("run", cwd=tmp_path)
    assert r.returncode == 3, r.stdout + r.stderr
    assert ": errored" in r.stdout and "error: " in r.stdout
    assert [r.state for r in toron.runs(tmp_path / ".toron")] == ["errored"]


def test_sim_seed_is_recorded_in_the_report(tmp_path: Path) -> None:
    project(tmp_path, QUICK)
    r = toron_cli("run", "--suite", "sim", cwd=tmp_path, env={"SIM_SEED": "42"})
    assert r.returncode == 0, r.stderr
    report = json.loads((tmp_path / "reports" / run_id_in(r.stdout) / "report.json").read_text())
    assert (report["run"]["seed"], report["run"]["seed_source"]) == (42, "SIM_SEED")


def start(tmp_path: Path, *args: str, module: bool = False) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "toron"] if module else [str(TORON)]
    return subprocess.Popen(
        [*command, "run", *args],
        cwd=tmp_path,
        env=child_env(),
        preexec_fn=default_sigint,  # noqa: PLW1509 (only signal.signal, before exec)
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_ctrl_c_cancels_records_and_exits_130(tmp_path: Path) -> None:
    project(tmp_path, SLEEPER)
    child = start(tmp_path, "--jobs", "1", "--events", "events.ndjson")
    try:
        pid = wait_for_pid(tmp_path / "pid")
        time.sleep(0.2)
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 130, out + err
    assert "interrupted" in err and ": cancelled" in out
    assert gone(pid), "the case's sleep outlived Ctrl-C"
    (recorded,) = toron.runs(tmp_path / ".toron")
    assert recorded.state == "cancelled" and recorded.report_dir is not None
    assert (Path(tmp_path, recorded.report_dir) / "report.json").is_file()
    written = [json.loads(line) for line in (tmp_path / "events.ndjson").read_text().splitlines()]
    assert written[-1]["type"] == "run.finished" and written == events_of(tmp_path / ".toron", recorded.id)


def test_a_killed_run_shows_as_interrupted_and_the_archive_verifies(tmp_path: Path) -> None:
    project(tmp_path, SLEEPER)
    archive = tmp_path / ".toron"
    child = start(tmp_path, "--jobs", "1", module=True)
    pid = None
    try:
        deadline = time.monotonic() + 60
        while not [r for r in toron.runs(archive) if r.state == "running"]:
            assert time.monotonic() < deadline and child.poll() is None, "the run never got running"
            time.sleep(0.05)
        pid = wait_for_pid(tmp_path / "pid")
        child.kill()  # SIGKILL: nothing of the run's own shutdown happens
        child.wait()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        if pid is not None:
            # The case's process group (its leader is the exec'd sleep) outlives its killed parent; end it.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
    r = toron_cli("runs", "--json", "--archive", str(archive))
    assert r.returncode == 0, r.stderr
    (listed,) = json.loads(r.stdout)
    assert (listed["state"], listed["error"], listed["verdict"]) == ("errored", "interrupted", "none")
    table = toron_cli("runs", "--archive", str(archive)).stdout
    assert "errored (interrupted)" in table and listed["id"] in table
    verified = toron.Archive(archive).verify()
    assert verified["ok"], verified["problems"]


def test_runs_and_report(tmp_path: Path) -> None:
    project(tmp_path, QUICK)
    first = run_id_in(toron_cli("run", "--suite", "unit", cwd=tmp_path).stdout)
    second = run_id_in(toron_cli("run", "--suite", "sim", cwd=tmp_path).stdout)
    table = toron_cli("runs", cwd=tmp_path).stdout.splitlines()
    assert table[0].split()[:3] == ["RUN", "STATE", "VERDICT"]
    assert [line.split()[:3] for line in table[1:]] == [[second, "passed", "GO"], [first, "passed", "GO"]]
    assert "100.0%" in table[1]
    assert [r["id"] for r in json.loads(toron_cli("runs", "--json", cwd=tmp_path).stdout)] == [second, first]
    r = toron_cli("report", "--reports", "rendered", cwd=tmp_path)
    assert (r.returncode, r.stdout.splitlines()[0]) == (0, str(Path("rendered") / second))
    assert (tmp_path / "rendered" / second / "report.json").is_file()
    assert not (tmp_path / "rendered" / first).exists()
    r = toron_cli("report", "--all", "--reports", "rendered", cwd=tmp_path)
    assert r.returncode == 0 and (tmp_path / "rendered" / first / "verdict.json").is_file()
    r = toron_cli("report", "--run-id", first, cwd=tmp_path)
    assert r.returncode == 0 and first in r.stdout
    r = toron_cli("report", "--run-id", "run-nope", cwd=tmp_path)
    assert r.returncode == 2 and second in r.stderr
    assert toron_cli("report", "--run-id", first, "--all", cwd=tmp_path).returncode == 2
    r = toron_cli("report", "--archive", "empty", cwd=tmp_path)
    assert r.returncode == 2 and "no runs" in r.stderr
    assert toron_cli("runs", "--archive", "empty", cwd=tmp_path).stdout.startswith("no runs")


def test_replay(tmp_path: Path) -> None:
    project(tmp_path, QUICK)
    run_id = run_id_in(toron_cli("run", cwd=tmp_path).stdout)
    (tmp_path / "echo.toml").unlink()  # replay reads the archive, not the working tree
    r = toron_cli("replay", "--run-id", run_id, "--offline", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "identical     sim/echo (seeds 1, 2)" in r.stdout
    assert "not replayed  unit/ok: a command case is not replayed offline" in r.stdout
    assert f"replay of {run_id}: identical" in r.stdout
    r = toron_cli("replay", "--run-id", "run-nope", cwd=tmp_path)
    assert r.returncode == 2 and run_id in r.stderr, r.stderr
    assert toron_cli("replay", cwd=tmp_path).returncode == 2, "--run-id is required"


def test_trace_diff(tmp_path: Path) -> None:
    a, b, same = tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "same.jsonl"
    a.write_text(jsonl(TRACE_A))
    same.write_text(jsonl(TRACE_A))
    other = [dict(e) for e in TRACE_A]
    other[2]["t"] = 2500
    b.write_text(jsonl(other))
    r = toron_cli("trace", "diff", str(a), str(same))
    assert (r.returncode, r.stdout) == (0, "the traces are identical\n")
    r = toron_cli("trace", "diff", str(a), str(b))
    assert r.returncode == 1
    lines = r.stdout.splitlines()
    assert lines[0] == "the traces differ at event 2 (virtual time 2000 ns (0.000002000 s))"
    assert json.loads(lines[1].removeprefix("  A: ")) == TRACE_A[2]
    assert json.loads(lines[2].removeprefix("  B: ")) == other[2]
    short = tmp_path / "short.jsonl"
    short.write_text(jsonl(TRACE_A[:3]))
    r = toron_cli("trace", "diff", str(a), str(short))
    assert r.returncode == 1 and "event 3" in r.stdout and "B: (the trace ended)" in r.stdout
    r = toron_cli("trace", "diff", str(a), str(tmp_path / "missing.jsonl"))
    assert r.returncode == 2 and "missing.jsonl" in r.stderr
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(TRACE_A[0]) + "\n{oops\n")
    r = toron_cli("trace", "diff", str(bad), str(a))
    assert r.returncode == 2 and f"{bad}:2:2: trace A is not JSON Lines" in r.stderr, r.stderr


def test_snapshot_refresh(tmp_path: Path) -> None:
    path = project(tmp_path, GOLDEN.split('[[suite.case]]\nname = "broken"')[0])
    r = toron_cli("snapshot", "refresh", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("created sim/echo: ") and r.stdout.endswith(
        "1 created, 0 changed, 0 unchanged\n"
    )
    assert (tmp_path / "snapshots" / "sim" / "echo.json").is_file()
    r = toron_cli("snapshot", "refresh", "--suite", "sim", cwd=tmp_path)
    assert (r.returncode, r.stdout) == (0, "0 created, 0 changed, 1 unchanged\n")
    (tmp_path / "echo.toml").write_text((tmp_path / "echo.toml").read_text().replace("200", "100"))
    r = toron_cli("snapshot", "refresh", cwd=tmp_path)
    assert (
        r.returncode == 0 and r.stdout.startswith("changed sim/echo: ") and "0 created, 1 changed" in r.stdout
    )
    # A golden case that does not pass is skipped, with why: exit 1.
    path.write_text(GOLDEN)
    r = toron_cli("snapshot", "refresh", "--manifest", str(path))
    assert r.returncode == 1 and "skipped sim/broken: " in r.stdout and "1 skipped" in r.stdout
    assert toron_cli("snapshot", "refresh", "--profile", "nope", cwd=tmp_path).returncode == 2
    assert toron_cli("snapshot", "refresh", "--manifest", "missing.toml", cwd=tmp_path).returncode == 2


def test_progress_bar_on_a_terminal(tmp_path: Path) -> None:
    project(tmp_path, QUICK)
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run(
            [str(TORON), "run"],
            cwd=tmp_path,
            env=child_env(),
            stdout=subprocess.PIPE,
            stderr=follower,
            text=True,
            timeout=120,
            check=False,
        )
        os.close(follower)
        follower = -1
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # EIO: the terminal's other side is closed and drained
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        if follower >= 0:
            os.close(follower)
        os.close(leader)
    terminal = b"".join(chunks).decode()
    assert proc.returncode == 0, terminal
    assert "\r\x1b[K[" in terminal and "] 2/2" in terminal
    assert "passed     unit/ok" not in terminal, "plain lines are for non-terminals"
    assert "verdict: GO" in proc.stdout


SEEDED = """\
[[suite]]
name = "sim"

[[suite.case]]
name = "own"
kind = "sim"
scenario = "echo.toml"
seed = 3
golden = true

[[suite.case]]
name = "scn"
kind = "sim"
scenario = "echo.toml"
golden = true
"""


def test_sim_seed_overrides_a_scenario_files_seed_and_says_so(tmp_path: Path) -> None:
    project(tmp_path, SEEDED)
    echo = tmp_path / "echo.toml"
    echo.write_text(echo.read_text().replace('name = "echo-small"\n', 'name = "echo-small"\nseed = 5\n'))
    refresh = toron_cli("snapshot", "refresh", cwd=tmp_path)
    assert refresh.returncode == 0, refresh.stdout + refresh.stderr
    r = toron_cli("run", cwd=tmp_path, env={"SIM_SEED": "42"})
    assert r.returncode == 0, r.stdout + r.stderr
    report = json.loads((tmp_path / "reports" / run_id_in(r.stdout) / "report.json").read_text())
    assert report["run"]["seed_overrides"] == [
        {"case": "sim/scn", "scenario_seed": 5, "seed": 42, "source": "SIM_SEED"}
    ]
    cases = {c["name"]: c["attempts"][-1] for c in report["cases"]}
    assert [s["seed"] for s in cases["scn"]["seeds"]] == [42], "SIM_SEED replaces the scenario's seed"
    assert [s["seed"] for s in cases["own"]["seeds"]] == [3], "the manifest's own seed is never replaced"
    assert cases["scn"]["golden"]["status"] == "skipped"
    assert "seed 5 with 42" in cases["scn"]["golden"]["summary"]
    assert cases["own"]["golden"]["status"] == "passed"
    # Without SIM_SEED the scenario's seed is used again, and nothing is overridden.
    again = toron_cli("run", cwd=tmp_path)
    report = json.loads((tmp_path / "reports" / run_id_in(again.stdout) / "report.json").read_text())
    assert report["run"]["seed_overrides"] == []
    assert {c["name"]: c["attempts"][-1]["golden"]["status"] for c in report["cases"]} == {
        "own": "passed",
        "scn": "passed",
    }


def test_run_help_documents_the_seed_precedence() -> None:
    r = toron_cli("run", "--help")
    assert r.returncode == 0
    text = " ".join(r.stdout.split())
    assert "the case's own `seed` / `seeds` in testops.toml (never overridden)" in text
    assert "--seed, else SIM_SEED: replaces the seed the case's scenario file names" in text


def test_a_bad_run_flag_is_called_a_flag_not_a_field(tmp_path: Path) -> None:
    project(tmp_path, QUICK)
    for args, flag in [
        (["--suite", "nope"], "--suite"),
        (["--profile", "nope"], "--profile"),
        (["--jobs", "0"], "--jobs"),
    ]:
        r = toron_cli("run", *args, cwd=tmp_path)
        assert r.returncode == 2, r.stderr
        assert f"option {flag}: " in r.stderr and "field" not in r.stderr, r.stderr
