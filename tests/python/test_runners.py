"""Remote runners: a real `toron serve --runners 0` and real `toron runner` processes on loopback. A runner
picks up a run started over the API on its own and the server's archive ends up with the whole run; a
runner killed with -9 leaves its run `errored (interrupted)` and the next run goes to another runner; a run
nobody claims warns instead of staying silent; runner tokens may run runs and nothing else; the protocol
takes events once by seq and refuses paths outside the run. Every process is killed in teardown, and every
wait is bounded."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
import serving
from serving import Server

from conftest import child_env

#: Short leases and deadlines keep the tests fast (the server ticks every lease / 10); runners poll every
#: 100 ms, faster than the default rate limit is meant for.
REMOTE = (
    "--runners",
    "0",
    "--lease-seconds",
    "1.5",
    "--schedule-deadline-seconds",
    "1",
    "--rate-limit",
    "1000",
)


@dataclass
class Runner:
    """A running `toron runner`."""

    id: str
    proc: subprocess.Popen[str]
    log: Path


@dataclass
class Cluster:
    """A server with remote runners, and the runners started so far."""

    server: Server
    tmp: Path
    runners: list[Runner] = field(default_factory=list)

    def runner(self, name: str, *args: str) -> Runner:
        """Start a `toron runner` (its own session, so teardown can kill what its runs started)."""
        token = self.tmp / "runner.token"
        token.write_text(serving.TOKENS["runner"] + "\n")
        log = self.tmp / f"runner-{name}.log"
        argv = [sys.executable, "-m", "toron", "runner", "--server", self.server.url]
        argv += ["--token-file", str(token), "--name", name, "--poll-seconds", "0.1"]
        argv += ["--work", str(self.tmp / f"work-{name}"), "--ready-file", str(self.tmp / f"{name}.ready")]
        argv += args
        with open(log, "w") as err:
            proc = subprocess.Popen(
                argv,
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
                env=child_env(),
                cwd=self.tmp,
                start_new_session=True,
            )
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if "registered as" not in line:
            proc.kill()
            proc.wait(timeout=30)
            raise AssertionError(f"the runner did not register: {line!r}\n{log.read_text()}")
        r = Runner(id=line.split("registered as ", 1)[1].split(" ", 1)[0], proc=proc, log=log)
        self.runners.append(r)
        assert (self.tmp / f"{name}.ready").read_text().strip() == r.id, "written before the line"
        return r

    def teardown(self) -> None:
        for r in self.runners:
            try:
                os.killpg(r.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            r.proc.wait(timeout=30)
        self.server.stop()


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    manifest = serving.write_project(tmp_path / "project")
    manifest.write_text(manifest.read_text() + '\n[warroom]\nopen_on = "no-go"\n')
    c = Cluster(server=serving.start(tmp_path, *REMOTE, manifest=manifest), tmp=tmp_path)
    try:
        yield c
    finally:
        c.teardown()


def until(what: str, check: Callable[[], Any], timeout: float = 60) -> Any:
    """Poll `check` until it returns something truthy; fail after `timeout` seconds saying `what`."""
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        assert time.monotonic() < deadline, f"{what}: not after {timeout} s"
        time.sleep(0.05)


def events_of(server: Server, run_id: str) -> list[dict[str, Any]]:
    path = server.data / "archive" / "events" / f"{run_id}.events.ndjson"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def runners(server: Server) -> dict[str, dict[str, Any]]:
    listed: list[dict[str, Any]] = server.client("viewer").get("/v1/runners").json()
    return {r["name"]: r for r in listed}


def test_a_runner_picks_up_a_run_started_over_the_api_and_the_archive_has_it_all(cluster: Cluster) -> None:
    server = cluster.server
    runner = cluster.runner("alpha")
    listed = runners(server)
    assert listed[runner.id]["kind"] == "remote" and listed[runner.id]["state"] == "idle"
    assert listed[runner.id]["heartbeat"].endswith("Z") and listed[runner.id]["token"] == "runner-bot"

    run_id = server.start_run(profile="quick", seed=3)
    stream = server.events(run_id)
    view = server.wait(run_id)
    assert (view["state"], view["verdict"], view["go"]) == ("passed", "GO", True), view
    assert view["seed"] == 3 and view["started_by"] == "operator-bot" and view["cases"] == 2
    assert view["progress"] == {"done": 2, "total": 2}

    # One stream: seqs without gaps, from the server's run.scheduled to its run.finished, the runner's events
    # between, all of them under the server's run id, the same lines as the archive's events file.
    seqs = [int(e["id"]) for e in stream if "id" in e]
    assert seqs == list(range(1, len(seqs) + 1))
    kinds = [e["event"] for e in stream if "event" in e]
    assert kinds[0] == "run.scheduled" and kinds[1] == "run.claimed" and kinds[-1] == "run.finished"
    assert kinds.count("run.scheduled") == 1 and kinds.count("run.finished") == 1
    assert kinds.count("case.finished") == 2 and "run.started" in kinds
    assert {e["data"]["run"] for e in stream if "data" in e} == {run_id}
    assert [e["data"] for e in stream if "data" in e] == events_of(server, run_id)
    claimed = next(e for e in stream if e.get("event") == "run.claimed")
    assert claimed["data"]["data"]["runner"] == runner.id
    finished = stream[-1]["data"]["data"]
    assert finished["state"] == "passed" and finished["report"] == str(server.data / "reports" / run_id)

    # The reports, rendered by the server from its own archive, name the server's run.
    viewer = server.client("viewer")
    report = viewer.get(f"/v1/reports/{run_id}")
    assert report.status_code == 200, report.text
    for name in ("verdict.json", "junit.xml", "determinism.json", "index.html"):
        assert viewer.get(f"/v1/reports/{run_id}/{name}").status_code == 200, name
    assert run_id in viewer.get(f"/v1/reports/{run_id}/junit.xml").text
    # The runner's temporary directory is gone, and the server kept no uploads.
    leftovers = [
        cluster.tmp / "work-alpha" / run_id,
        server.data / "server" / "uploads" / run_id,
        server.data / "archive" / "events" / f"{run_id}.lock",
    ]
    until("no leftovers of the run", lambda: not any(p.exists() for p in leftovers))
    # The captured output of the command case came along.
    assert any((server.data / "archive" / "logs" / run_id).rglob("*"))

    # The same run in-process: the same cases, outcomes and output digests, from the same archive layout.
    local = serving.start(cluster.tmp / "local")
    try:
        local_id = local.start_run(profile="quick", seed=3)
        assert local.wait(local_id)["state"] == "passed"
        remote_run = _archived_run(server, run_id)
        local_run = _archived_run(local, local_id)
    finally:
        local.stop()
    assert remote_run == local_run
    assert until("the runner idle again", lambda: runners(server)[runner.id]["state"] == "idle")


def test_a_remote_runs_streams_read_its_feed_live_not_its_events_file(cluster: Cluster) -> None:
    """A stream of a remote runner's run gets the events as the runner uploads them, from the run's feed (the
    lag metric counts only such live deliveries; a stream polling the events file would count none), and
    ends with run.finished, every seq once."""
    server = cluster.server
    cluster.runner("alpha")
    run_id = server.start_run(profile="slow")
    until(
        "the slow run running",
        lambda: server.client("viewer").get(f"/v1/test-runs/{run_id}").json()["state"] == "running",
    )
    streamed: list[list[dict[str, Any]]] = []
    reader = threading.Thread(target=lambda: streamed.append(server.events(run_id)))
    reader.start()

    def metrics() -> dict[str, float]:
        text = server.client("viewer").get("/metrics").text
        return {
            ln.split()[0]: float(ln.split()[-1]) for ln in text.splitlines() if ln and not ln.startswith("#")
        }

    until("the stream open", lambda: metrics().get("toron_event_streams") == 1)
    assert server.client("operator").post(f"/v1/test-runs/{run_id}/cancel").status_code == 202
    reader.join(timeout=60)
    stream = streamed[0]
    seqs = [int(e["id"]) for e in stream if "id" in e]
    assert seqs == list(range(1, len(seqs) + 1)) and stream[-1]["event"] == "run.finished"
    assert [e["data"] for e in stream if "data" in e] == events_of(server, run_id)
    m = metrics()
    assert m["toron_event_lag_seconds_count"] >= 1, m  # at least the cancel's events came live
    assert m["toron_events_sent_total"] == len(seqs), m


def _archived_run(server: Server, run_id: str) -> dict[str, Any]:
    """A run's cases as `toron runs`-independent facts: the archive manifest's case outputs and the report's
    outcomes."""
    manifest = json.loads((server.data / "archive" / "runs" / run_id / "manifest.json").read_text())
    report = server.client("viewer").get(f"/v1/reports/{run_id}").json()
    text = json.dumps(report)
    assert run_id in text
    return {
        "objects": {case: entry["object"] for case, entry in manifest["cases"].items()},
        "verdict": manifest["meta"]["verdict"],
        "state": manifest["meta"]["state"],
        "suites": manifest["meta"]["suites"],
        "seed": manifest["meta"]["seed"],
    }


def test_kill_9_of_a_runner_interrupts_its_run_and_the_next_run_goes_to_another_runner(
    cluster: Cluster,
) -> None:
    server = cluster.server
    doomed = cluster.runner("doomed")
    slow = server.start_run(profile="slow")
    until(
        "the slow run running on the first runner",
        lambda: server.client("viewer").get(f"/v1/test-runs/{slow}").json()["state"] == "running",
    )
    assert runners(server)[doomed.id]["runs"] == [slow]
    survivor = cluster.runner("survivor")
    os.kill(doomed.proc.pid, signal.SIGKILL)
    doomed.proc.wait(timeout=30)

    view = server.wait(slow, timeout=30)
    assert (view["state"], view["error"]) == ("errored", "interrupted"), view
    kinds = [e["type"] for e in events_of(server, slow)]
    assert kinds[-2:] == ["runner.lost", "run.finished"], kinds
    assert until("the dead runner listed lost", lambda: runners(server)[doomed.id]["state"] == "lost")

    quick = server.start_run(profile="quick")
    assert server.wait(quick)["state"] == "passed"
    claimed = [e["data"]["runner"] for e in events_of(server, quick) if e["type"] == "run.claimed"]
    assert claimed == [survivor.id]
    # The interrupted run stays interrupted (its late results would be refused).
    again = server.client("viewer").get(f"/v1/test-runs/{slow}").json()
    assert (again["state"], again["error"]) == ("errored", "interrupted")


def test_a_stopped_runner_cancels_its_run_records_it_and_exits(cluster: Cluster) -> None:
    server = cluster.server
    runner = cluster.runner("stopping")
    slow = server.start_run(profile="slow")
    until(
        "the slow run running",
        lambda: server.client("viewer").get(f"/v1/test-runs/{slow}").json()["state"] == "running",
    )
    runner.proc.send_signal(signal.SIGTERM)
    assert runner.proc.wait(timeout=60) == 0, runner.log.read_text()
    view = server.wait(slow, timeout=30)
    assert view["state"] == "cancelled", view
    assert not (cluster.tmp / "stopping.ready").exists(), "the ready file goes with the runner"


def test_a_runner_with_two_jobs_runs_two_runs_at_once_and_cancels_them_when_asked(tmp_path: Path) -> None:
    c = Cluster(server=serving.start(tmp_path, *REMOTE), tmp=tmp_path)
    try:
        server = c.server
        runner = c.runner("wide", "--jobs", "2")
        runs = [server.start_run(profile="slow") for _ in range(2)]

        def both_running() -> bool:
            states = [server.client("viewer").get(f"/v1/test-runs/{r}").json()["state"] for r in runs]
            return states == ["running", "running"]

        until("both runs running on the one runner", both_running)
        assert sorted(runners(server)[runner.id]["runs"]) == sorted(runs)
        for r in runs:
            assert server.client("operator").post(f"/v1/test-runs/{r}/cancel").status_code == 202
        # The runner hears it through its held heartbeat, stops the cases and ships the cancelled runs.
        for r in runs:
            view = server.wait(r, timeout=30)
            assert view["state"] == "cancelled", view
    finally:
        c.teardown()


def test_a_run_nobody_claims_warns_then_a_runner_that_comes_runs_it(cluster: Cluster) -> None:
    server = cluster.server
    run_id = server.start_run(profile="quick")

    def warned() -> str | None:
        view = server.client("viewer").get(f"/v1/test-runs/{run_id}").json()
        assert view["state"] == "scheduled", view
        warning: str | None = view["progress"].get("warning")
        return warning

    warning = until("a warning on the scheduled run", warned, timeout=30)
    assert "no runner has claimed it" in warning and "0 live runner(s)" in warning
    waiting = [e for e in events_of(server, run_id) if e["type"] == "run.waiting"]
    assert waiting and "no runner has claimed it" in waiting[0]["data"]["reason"]
    ready = server.client("none").get("/readyz").json()
    assert (ready["runners"], ready["queued"]) == (0, 1)

    cluster.runner("late")
    assert server.wait(run_id)["state"] == "passed"

    # A NO-GO on a runner opens its incident in the server's warroom (`[warroom] open_on = "no-go"`), as an
    # in-process run does: the runner's own warroom is off.
    bad = server.start_run(profile="bad")
    view = server.wait(bad)
    assert (view["state"], view["verdict"]) == ("failed", "NO-GO"), view
    assert view["incident"] and view["incident"]["created"] is True, view
    kinds = until(
        "the run's last event", lambda: [e["type"] for e in events_of(server, bad)][-1:] == ["run.finished"]
    )
    kinds = [e["type"] for e in events_of(server, bad)]
    assert kinds.index("incident.opened") < kinds.index("run.finished"), kinds
    incidents = server.client("viewer").get("/v1/warroom/incidents").json()
    assert bad in json.dumps(incidents)
    work = cluster.tmp / "work-late"
    until("the runner's work directory emptied", lambda: not work.exists() or not any(work.iterdir()))


def test_runner_tokens_run_runs_and_nothing_else(cluster: Cluster) -> None:
    server = cluster.server
    runner = server.client("runner")
    for method, path in [
        ("GET", "/v1/test-runs"),
        ("POST", "/v1/test-runs"),
        ("GET", "/v1/runners"),
        ("GET", "/metrics"),
        ("POST", "/v1/stream-tickets"),
    ]:
        r = runner.request(method, path, json={} if method == "POST" else None)
        assert r.status_code == 403, (method, path, r.text)
        assert "has the role runner, which may only" in r.json()["error"]["message"]
    me = runner.get("/v1/whoami").json()
    assert me["role"] == "runner" and "claim runs" in me["may"] and "read" not in me["may"]
    for role in ("operator", "viewer"):
        r = server.client(role).post("/v1/runners/register", json={"name": "sneaky"})
        assert r.status_code == 403 and "(it needs runner)" in r.json()["error"]["message"], r.text
    bad = runner.post("/v1/runners/register", json={"name": "a b"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "name"
    old = runner.post("/v1/runners/register", json={"name": "x", "version": "0.1.0"})
    assert old.status_code == 422 and old.json()["error"]["field"] == "version"
    ghost = runner.post("/v1/runners/ghost-7/claim")
    assert ghost.status_code == 404 and "register again" in ghost.json()["error"]["message"]


def test_the_protocol_takes_events_once_refuses_gaps_and_paths_outside_the_run(cluster: Cluster) -> None:
    server = cluster.server
    runner = server.client("runner")
    me = runner.post("/v1/runners/register", json={"name": "manual", "jobs": 1})
    assert me.status_code == 201, me.text
    rid = me.json()["id"]
    assert runner.post(f"/v1/runners/{rid}/claim").json() == {"run": None}
    run_id = server.start_run(profile="quick", seed=5)
    claim = runner.post(f"/v1/runners/{rid}/claim").json()["run"]
    assert claim["run"] == run_id and claim["profile"] == "quick" and claim["seed"] == 5
    assert claim["manifest"]["name"] == "served" and "[[suite]]" in claim["manifest"]["text"]
    assert claim["manifest"]["root"] == str(server.project)

    def send(*seqs: int) -> httpx.Response:
        events = [
            {"seq": s, "type": "case.started", "time": "2026-12-03T00:00:00Z", "data": {}} for s in seqs
        ]
        return runner.post(f"/v1/test-runs/{run_id}/events", json={"runner": rid, "events": events})

    assert send(1, 2).json() == {"received": 2}
    assert send(1, 2).json() == {"received": 2}, "a batch sent again is taken once"
    gap = send(4)
    assert gap.status_code == 422 and gap.json()["error"]["field"] == "events[0].seq"
    assert "expected 3" in gap.json()["error"]["message"]
    assert send(2, 3).json() == {"received": 3}
    kinds = [e["type"] for e in events_of(server, run_id)]
    assert kinds == ["run.scheduled", "run.claimed", "case.started", "case.started", "case.started"]

    headers = {"X-Toron-Runner": rid, "Content-Type": "application/octet-stream"}
    base = f"/v1/test-runs/{run_id}/objects"
    for path in ("objects/%2E%2E/%2E%2E/escape", "reports/x", "objects/.hidden", "runs/x/head.json"):
        r = runner.put(f"{base}/{path}", content=b"x", headers=headers)
        assert r.status_code == 422 and r.json()["error"]["field"] == "path", (path, r.text)
    assert not list(server.data.rglob("escape"))
    other = runner.post("/v1/runners/register", json={"name": "other"}).json()["id"]
    stolen = runner.put(f"{base}/objects/ab/cd", content=b"x", headers={**headers, "X-Toron-Runner": other})
    assert stolen.status_code == 409 and "not leased to runner" in stolen.json()["error"]["message"]

    # Cancelled while claimed: the runner hears it at its heartbeat; a runner that could not run it says why.
    assert server.client("operator").post(f"/v1/test-runs/{run_id}/cancel").status_code == 202
    beat = runner.post(f"/v1/runners/{rid}/heartbeat", json={"running": [run_id, "run-gone"]}).json()
    assert beat["cancel"] == [run_id] and beat["abandon"] == ["run-gone"]
    done = runner.post(
        f"/v1/test-runs/{run_id}/finish", json={"runner": rid, "error": "no checkout of the project here"}
    )
    assert done.json() == {"state": "errored"}, done.text
    view = server.client("viewer").get(f"/v1/test-runs/{run_id}").json()
    assert view["state"] == "errored" and "no checkout of the project here" in view["error"]
    late = runner.post(f"/v1/test-runs/{run_id}/finish", json={"runner": rid, "tag": run_id})
    assert late.status_code == 409


def test_a_remote_run_in_flight_when_the_server_dies_shows_interrupted_after_the_restart(
    tmp_path: Path,
) -> None:
    server = serving.start(tmp_path, *REMOTE)
    try:
        runner = server.client("runner")
        rid = runner.post("/v1/runners/register", json={"name": "manual"}).json()["id"]
        run_id = server.start_run(profile="quick")
        assert runner.post(f"/v1/runners/{rid}/claim").json()["run"]["run"] == run_id
    finally:
        serving.kill(server)
    again = serving.start(tmp_path, *REMOTE, data=server.data, manifest=server.project / "testops.toml")
    try:
        view = again.client("viewer").get(f"/v1/test-runs/{run_id}").json()
        assert (view["state"], view["error"]) == ("errored", "interrupted"), view
    finally:
        again.stop()


#: A suite whose command reports the line coverage the test puts in `lcov-now.info`, gated on the last GO
#: run's coverage (a baseline only the server's archive holds: the runner's own archive is empty).
COVERED_SUITE = """
[[suite]]
name = "covered"

[[suite.case]]
name = "unit"
kind = "command"
argv = ["sh", "-c", "cp lcov-now.info lcov.info"]
coverage = ["lcov.info"]

[[gate]]
rule = "coverage >= baseline"
baseline = "last-go"
"""


def _lcov(covered: int, lines: int = 20) -> str:
    hits = "".join(f"DA:{n},{1 if n <= covered else 0}\n" for n in range(1, lines + 1))
    return f"SF:app.py\n{hits}end_of_record\n"


def _covered_project(root: Path) -> Path:
    manifest = serving.write_project(root)
    text = manifest.read_text().replace("[profiles]\n", '[profiles]\ncovered = ["covered"]\n', 1)
    manifest.write_text(text + COVERED_SUITE)
    return manifest


def _coverage_runs(server: Server, project: Path) -> list[dict[str, Any]]:
    """Two runs of `covered`: full coverage (GO, nothing earlier to compare with), then one line less
    (below the last GO run's). Returns their verdict.json rules, with their views."""
    out = []
    for covered in (20, 19):
        (project / "lcov-now.info").write_text(_lcov(covered))
        run_id = server.start_run(profile="covered")
        view = server.wait(run_id)
        verdict = server.client("viewer").get(f"/v1/reports/{run_id}/verdict.json").json()
        out.append({"id": run_id, "view": view, "verdict": verdict})
    return out


def _rules(run: dict[str, Any]) -> list[tuple[Any, ...]]:
    """A run's rules without its run ids (each server names its own runs)."""
    return [
        (r["rule"], r["status"], r["actual"], r["baseline"], r["baseline_run"])
        for r in run["verdict"]["rules"]
    ]


def test_a_remote_runs_verdict_compares_with_the_last_go_run_as_an_in_process_one_does(
    tmp_path: Path,
) -> None:
    manifest = _covered_project(tmp_path / "project")
    c = Cluster(server=serving.start(tmp_path, *REMOTE, manifest=manifest), tmp=tmp_path)
    try:
        c.runner("baseline")
        remote = _coverage_runs(c.server, tmp_path / "project")
    finally:
        c.teardown()
    (tmp_path / "local" / "project").mkdir(parents=True)
    local_server = serving.start(tmp_path / "local", manifest=manifest)
    try:
        local = _coverage_runs(local_server, tmp_path / "project")
    finally:
        local_server.stop()

    first, second = remote
    assert (first["view"]["state"], first["view"]["verdict"]) == ("passed", "GO"), first["view"]
    # The second run is compared with the first, which only the server's archive holds.
    assert (second["view"]["state"], second["view"]["verdict"]) == ("failed", "NO-GO"), second["view"]
    rule = next(r for r in second["verdict"]["rules"] if r["rule"] == "coverage >= baseline")
    assert (rule["status"], rule["baseline_id"], rule["actual"]) == ("failed", first["id"], 0.95), rule
    # Rule by rule, what the same two runs give in-process.
    for r, loc in zip(remote, local):
        assert (r["view"]["state"], r["view"]["verdict"]) == (loc["view"]["state"], loc["view"]["verdict"])
        assert _rules(r) == _rules(loc)
    local_rule = next(r for r in local[1]["verdict"]["rules"] if r["rule"] == "coverage >= baseline")
    assert local_rule["baseline_id"] == local[0]["id"]
    # One gate.evaluated in the remote run's log, the server's, before its run.finished.
    events = events_of(c.server, second["id"])
    gates = [e for e in events if e["type"] == "gate.evaluated"]
    assert len(gates) == 1 and gates[0]["data"]["verdict"] == "NO-GO", gates
    assert [e["type"] for e in events][-1] == "run.finished"
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))


def test_a_server_stopped_with_sigterm_cancels_its_remote_runs_and_tells_the_runners(
    tmp_path: Path,
) -> None:
    c = Cluster(server=serving.start(tmp_path, *REMOTE), tmp=tmp_path)
    try:
        server = c.server
        runner = c.runner("steady")
        claimed = server.start_run(profile="slow")
        until(
            "the slow run running",
            lambda: server.client("viewer").get(f"/v1/test-runs/{claimed}").json()["state"] == "running",
        )
        queued = server.start_run(profile="slow")  # the runner has one job: this one waits
        started = time.monotonic()
        assert server.stop() == 0, server.log.read_text()
        print(f"graceful stop with a claimed and a queued remote run: {time.monotonic() - started:.2f} s")
        log = runner.log.read_text()
        assert f"run {claimed} was cancelled" in log and f"run {claimed} finished: cancelled" in log, log
        assert runner.proc.poll() is None, "the runner outlives the server (it waits for it to come back)"
    finally:
        c.teardown()
    again = serving.start(tmp_path, *REMOTE, data=server.data, manifest=server.project / "testops.toml")
    try:
        viewer = again.client("viewer")
        for run_id in (claimed, queued):
            view = viewer.get(f"/v1/test-runs/{run_id}").json()
            assert (view["state"], view["error"]) == ("cancelled", None), view
            finished = [e for e in events_of(again, run_id) if e["type"] == "run.finished"]
            assert len(finished) == 1 and finished[0]["data"]["state"] == "cancelled", finished
        # The claimed run was shipped by its runner: its report is there.
        assert viewer.get(f"/v1/reports/{claimed}").status_code == 200
    finally:
        again.stop()


def _running(server: Server, run_id: str) -> bool:
    state: str = server.client("viewer").get(f"/v1/test-runs/{run_id}").json()["state"]
    return state == "running"


def test_a_cancel_reaches_the_runner_at_once_not_at_its_next_heartbeat(tmp_path: Path) -> None:
    # A 30 s lease: heartbeats every 10 s, so a cancel heard only at the next beat would take seconds.
    slow_beats = ("--runners", "0", "--lease-seconds", "30", "--rate-limit", "1000")
    c = Cluster(server=serving.start(tmp_path, *slow_beats), tmp=tmp_path)
    try:
        server = c.server
        c.runner("prompt")
        latencies = []
        for _ in range(3):
            run_id = server.start_run(profile="slow")
            until("the slow run running", partial(_running, server, run_id))
            time.sleep(0.3)  # the runner's heartbeat is held by now
            sent = time.monotonic()
            assert server.client("operator").post(f"/v1/test-runs/{run_id}/cancel").status_code == 202
            view = server.wait(run_id, timeout=60)
            latencies.append(time.monotonic() - sent)
            assert view["state"] == "cancelled", view
        print("cancel-to-cancelled latency (s):", " ".join(f"{x:.3f}" for x in latencies))
        # Generous: far below the 10 s between heartbeats.
        assert max(latencies) < 5, latencies
    finally:
        c.teardown()


def test_an_in_process_server_turns_runners_away(tmp_path: Path) -> None:
    server = serving.start(tmp_path)
    try:
        r = server.client("runner").post("/v1/runners/register", json={"name": "r"})
        assert r.status_code == 409 and "--runners 0" in r.json()["error"]["message"]
    finally:
        server.stop()


def test_bad_runner_flags_are_refused_with_what_was_expected(tmp_path: Path) -> None:
    base = [sys.executable, "-m", "toron", "runner", "--server", "http://127.0.0.1:9"]
    env = child_env()
    r = subprocess.run(
        [*base, "--token-file", str(tmp_path / "missing")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert r.returncode == 1 and "--token-file" in r.stderr and "cannot read it" in r.stderr
    (tmp_path / "t").write_text("runner-token-0123456789")
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "toron",
            "runner",
            "--server",
            "https://x",
            "--token-file",
            str(tmp_path / "t"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert r.returncode == 1 and "plain HTTP" in r.stderr
    r = subprocess.run(
        [*base, "--token-file", str(tmp_path / "t"), "--jobs", "0"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert r.returncode == 2 and "--jobs" in r.stderr


def test_generated_requests_to_the_runners_endpoints_get_no_5xx_and_answers_the_document_describes(
    tmp_path: Path,
) -> None:
    """test_server_schema.py with the runner token against a `--runners 0` server: past the 403 an operator
    gets, into the protocol's own validation."""
    st = Path(sys.executable).with_name("schemathesis")
    assert st.exists(), "schemathesis is not installed: `make setup` installs requirements-dev.txt"
    server = serving.start(tmp_path, "--runners", "0", "--rate-limit", "100000")
    try:
        argv = [str(st), "run", f"{server.url}/openapi.json", "--include-tag", "runners"]
        argv += ["--checks", "not_a_server_error,response_schema_conformance,status_code_conformance"]
        argv += ["--phases", "examples,fuzzing", "--max-examples", "12", "--seed", "1"]
        argv += ["--generation-deterministic", "--no-shrink", "--request-timeout", "10"]
        argv += ["-H", f"Authorization: Bearer {serving.TOKENS['runner']}"]
        # In the test's directory: schemathesis leaves its cache (.schemathesis/) where it runs.
        done = subprocess.run(
            argv, check=False, capture_output=True, text=True, timeout=170, env=child_env(), cwd=tmp_path
        )
        report = done.stdout + done.stderr
        assert done.returncode == 0, (
            report[-6000:] + "\n--- server log ---\n" + server.log.read_text()[-3000:]
        )
        assert "6 passed" in report, report[-3000:]
    finally:
        server.stop()
