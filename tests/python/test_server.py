"""The TestOps API of `toron serve`, from a real server process over HTTP: the operations guide's five
endpoints, what a dashboard needs, authentication and roles, validation, event streams that resume with
nothing lost or doubled, and a restart (or a kill -9) that loses nothing."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import serving
from serving import Server

from conftest import child_env


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    s = serving.start(tmp_path)
    try:
        yield s
    finally:
        s.stop()


def seqs(events: list[dict[str, Any]]) -> list[int]:
    return [int(e["id"]) for e in events if "id" in e]


def test_a_run_started_over_the_api_reaches_go_with_its_events_and_reports(server: Server) -> None:
    r = server.client("operator").post("/v1/test-runs", json={"profile": "quick", "seed": 3})
    assert r.status_code == 202, r.text
    body = r.json()
    run_id = body["id"]
    assert r.headers["location"] == body["location"] == f"/v1/test-runs/{run_id}"
    assert body["events"] == f"/v1/test-runs/{run_id}/events"
    assert body["state"] == "scheduled"

    events = server.events(run_id)
    assert seqs(events) == list(range(1, len(seqs(events)) + 1))
    kinds = [e["event"] for e in events if "event" in e]
    assert kinds[0] == "run.scheduled" and kinds[-1] == "run.finished"
    assert kinds.count("case.finished") == 2
    # `data:` is the archive's events line: the same JSON, seq and type.
    # The file's writer may append the last line just after the stream has sent it.
    events_file = server.data / "archive" / "events" / f"{run_id}.events.ndjson"
    deadline = time.monotonic() + 30
    while len(events_file.read_text().splitlines()) < len(seqs(events)) and time.monotonic() < deadline:
        time.sleep(0.05)
    archived = events_file.read_text().splitlines()
    assert [json.loads(line) for line in archived] == [e["data"] for e in events if "data" in e]

    view = server.wait(run_id)
    assert (view["state"], view["verdict"], view["go"]) == ("passed", "GO", True)
    assert view["seed"] == 3 and view["profile"] == "quick" and view["started_by"] == "operator-bot"
    assert view["progress"] == {"done": 2, "total": 2}

    viewer = server.client("viewer")
    report = viewer.get(f"/v1/reports/{run_id}")
    assert report.status_code == 200 and report.headers["content-type"] == "application/json"
    assert report.json()["run"]["id"] == run_id or report.json().get("id") == run_id
    html = viewer.get(f"/v1/reports/{run_id}", headers={"Accept": "text/html,application/json;q=0.9"})
    assert html.headers["content-type"].startswith("text/html") and "<html" in html.text
    assert "script-src" not in html.headers["content-security-policy"]
    for name in ("verdict.json", "junit.xml", "determinism.json", "index.html"):
        assert viewer.get(f"/v1/reports/{run_id}/{name}").status_code == 200, name
    missing = viewer.get(f"/v1/reports/{run_id}/secrets.txt")
    assert missing.status_code == 404 and "expected one of report.json" in missing.json()["error"]["message"]

    listed = viewer.get("/v1/test-runs", params={"state": "passed"}).json()
    assert [r["id"] for r in listed["runs"]] == [run_id] and listed["total"] == 1


def test_a_failing_case_is_no_go_and_an_incident_opens_then_joins(server: Server) -> None:
    run_id = server.start_run(profile="bad")
    view = server.wait(run_id)
    assert (view["state"], view["verdict"]) == ("failed", "NO-GO")

    op = server.client("operator")
    r = op.post("/v1/warroom/incidents", json={"run_id": run_id, "severity": "sev2"})
    assert r.status_code == 201, r.text
    incident = r.json()["incident"]
    assert r.json()["created"] is True and incident["run_id"] == run_id
    assert r.headers["location"] == f"/v1/warroom/incidents/{incident['id']}"
    assert any("failed" in rule["rule"] for rule in incident["rules"])

    again = op.post("/v1/warroom/incidents", json={"run_id": run_id})
    assert again.status_code == 200 and again.json()["created"] is False
    assert again.json()["incident"]["id"] == incident["id"]
    # The run's view names the incident opened after it ended, and the incident what it may move to.
    seen = server.client("viewer").get(f"/v1/test-runs/{run_id}").json()["incident"]
    assert (seen["id"], seen["created"], seen["status"]) == (incident["id"], True, "open")
    listed_runs = server.client("viewer").get("/v1/test-runs").json()["runs"]
    assert [r["incident"]["id"] for r in listed_runs if r["id"] == run_id] == [incident["id"]]
    assert incident["next"] == ["mitigated", "resolved"]

    changed = op.post(
        f"/v1/warroom/incidents/{incident['id']}/status", json={"status": "mitigated", "note": "reverted"}
    )
    assert changed.status_code == 200 and changed.json()["status"] == "mitigated"
    assert changed.json()["next"] == ["resolved", "reopened"]
    one = server.client("viewer").get(f"/v1/warroom/incidents/{incident['id']}").json()
    assert [t["what"] for t in one["timeline"]][-1] == "status"
    assert one["timeline"][-1]["who"] == "operator-bot"
    listed = server.client("viewer").get("/v1/warroom/incidents", params={"status": "mitigated"}).json()
    assert [i["id"] for i in listed] == [incident["id"]]
    assert (server.data / "reports" / "incidents.html").is_file()

    unknown = server.client("viewer").get("/v1/warroom/incidents/INC-999")
    assert unknown.status_code == 404
    bad = op.post("/v1/warroom/incidents", json={"run_id": run_id, "severity": "sev9"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "severity"


def test_snapshots_compare_inline_and_against_an_archived_output(server: Server) -> None:
    op = server.client("operator")
    r = op.post(
        "/v1/snapshots/compare",
        json={"current": {"a": 1, "b": [1, 2]}, "golden": {"a": 2, "b": [1]}},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["equal"] is False and body["against"] == "inline"
    assert body["patch"] == [
        {"op": "replace", "path": "/a", "value": 1},
        {"op": "add", "path": "/b/1", "value": 2},
    ]
    assert body["summary"] == "1 changed, 1 added, 0 removed" and "<" in body["html"]
    tolerant = op.post(
        "/v1/snapshots/compare",
        json={"current": {"x": 1.0}, "golden": {"x": 1.05}, "options": {"tolerance": {"abs": 0.1}}},
    )
    assert tolerant.json()["equal"] is True

    run_id = server.start_run(profile="quick")
    server.wait(run_id)
    output = server.client("viewer").get(f"/v1/reports/{run_id}").json()
    assert output
    same = op.post(
        "/v1/snapshots/compare",
        json={"current": {"never": "equal"}, "run_id": run_id, "case": "quick/echo"},
    )
    assert same.status_code == 200, same.text
    assert same.json()["against"] == f"run:{run_id}/quick/echo" and same.json()["equal"] is False

    bad = op.post("/v1/snapshots/compare", json={"current": 1, "options": {"ignore": ["nope"]}})
    assert bad.status_code == 422 and bad.json()["error"]["field"].startswith("options")
    neither = op.post("/v1/snapshots/compare", json={"current": 1})
    assert neither.status_code == 422 and "give golden, case" in neither.json()["error"]["message"]
    no_case = op.post("/v1/snapshots/compare", json={"current": 1, "run_id": run_id, "case": "quick/zz"})
    assert no_case.status_code == 404 and no_case.json()["error"]["field"] == "case"


def test_callers_without_a_token_a_wrong_token_or_the_wrong_role_are_refused(server: Server) -> None:
    anon = server.client("none")
    r = anon.get("/v1/test-runs")
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
    assert r.json()["error"]["kind"] == "unauthorized"
    wrong = httpx.get(f"{server.url}/v1/test-runs", headers={"Authorization": "Bearer not-a-token-at-all"})
    assert wrong.status_code == 401 and "not one of the server's tokens" in wrong.text
    basic = httpx.get(f"{server.url}/v1/test-runs", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert basic.status_code == 401
    viewer = server.client("viewer")
    assert viewer.get("/v1/test-runs").status_code == 200
    me = viewer.get("/v1/whoami").json()
    assert (me["name"], me["role"], me["may"]) == ("viewer-bot", "viewer", ["read"])
    op_me = server.client("operator").get("/v1/whoami").json()
    assert op_me["role"] == "operator" and "start runs" in op_me["may"]
    assert anon.get("/v1/whoami").status_code == 401
    refused = viewer.post("/v1/test-runs", json={"profile": "quick"})
    assert refused.status_code == 403
    assert refused.json()["error"]["message"] == (
        "viewer-bot has the role viewer, which may not start runs (it needs operator or above)"
    )
    assert viewer.post("/v1/snapshots/compare", json={"current": 1, "golden": 1}).status_code == 403
    # A runner token runs runs (tests/python/test_runners.py) and reads nothing.
    runner = server.client("runner")
    assert runner.get("/v1/whoami").json()["role"] == "runner"
    for path in ("/v1/test-runs", "/v1/history", "/v1/warroom/incidents"):
        r = runner.get(path)
        assert r.status_code == 403 and "has the role runner" in r.json()["error"]["message"], path
    # Public: probes, the document and the dashboard's page.
    for path in ("/healthz", "/readyz", "/openapi.json", "/"):
        assert anon.get(path).status_code == 200, path
    # Tokens never reach the log; names do.
    server.stop()
    log = server.log.read_text()
    assert "POST /v1/test-runs 403 viewer-bot" in log
    assert all(secret not in log for secret in serving.TOKENS.values())


def test_bad_requests_name_the_field_and_what_was_expected(server: Server) -> None:
    op = server.client("operator")

    def error(body: Any, **kw: Any) -> dict[str, Any]:
        r = op.post("/v1/test-runs", json=body, **kw)
        assert r.status_code == 422, r.text
        e: dict[str, Any] = r.json()["error"]
        return e

    e = error({"profile": "quick", "sede": 1})
    assert e["field"] == "sede" and "unknown field `sede`" in e["message"]
    e = error({"profile": "nope"})
    assert e["field"] == "profile" and "expected one of: bad, data, niced, quick, slow" in e["message"]
    e = error({"seed": -1})
    assert e["field"] == "seed"
    # Above 2^53 the archive cannot record the seed exactly: refused here, not an errored run later.
    e = error({"profile": "quick", "seed": 2**53 + 1})
    assert e["field"] == "seed" and "2^53" in e["message"]
    e = error({"suites": ["quick", 3]})
    assert e["field"] == "suites[1]"
    e = error({"profile": "quick", "suites": ["quick"]})
    assert e["field"] == "suites" and "not both" in e["message"]
    e = error({"profile": "data", "dataset": "people"})
    assert e["field"] == "dataset" and "customers" in e["message"]
    e = error({"manifest": "other"})
    assert e["field"] == "manifest" and "served" in e["message"]

    text = op.post("/v1/test-runs", content=b"{", headers={"Content-Type": "application/json"})
    assert text.status_code == 422 and "not valid JSON" in text.json()["error"]["message"]
    form = op.post("/v1/test-runs", content=b"profile=quick")
    assert form.status_code == 415
    big = op.post("/v1/test-runs", json={"profile": "x" * (2 << 20)})
    assert big.status_code == 413 and "1048576 bytes" in big.json()["error"]["message"]
    q = op.get("/v1/test-runs", params={"limit": 0})
    assert q.status_code == 422 and q.json()["error"]["field"] == "limit"
    q = op.get("/v1/test-runs", params={"colour": "red"})
    assert q.status_code == 422 and "colour" in q.json()["error"]["message"]
    assert op.get("/v1/test-runs/run-0.0.0-19700101T000000Z").status_code == 404
    assert op.get("/v1/test-runs/..%2F..%2Fetc").status_code == 404
    assert op.get("/v1/nope").status_code == 404


def test_event_streams_resume_from_any_point_with_every_event_once(server: Server) -> None:
    rng = random.Random(20261202)
    run_id = server.start_run(profile="quick")
    server.wait(run_id)
    whole = seqs(server.events(run_id))
    n = whole[-1]
    assert whole == list(range(1, n + 1))
    for after in [0, n, *rng.sample(range(1, n), min(5, n - 1))]:
        by_header = seqs(server.events(run_id, after=after, header=True))
        by_query = seqs(server.events(run_id, after=after))
        assert by_header == by_query == list(range(after + 1, n + 1)), after


def test_a_live_stream_cut_at_random_points_loses_and_doubles_nothing(server: Server) -> None:
    rng = random.Random(7)
    run_id = server.start_run(profile="slow")
    seen: list[int] = []
    viewer = server.client("viewer")
    cancelled = False
    while True:
        headers = {"Last-Event-ID": str(seen[-1])} if seen else {}
        cut_after = rng.randint(1, 3)
        finished = False
        with viewer.stream("GET", f"/v1/test-runs/{run_id}/events", headers=headers) as r:
            got = 0
            for record in serving.parse_sse(iter_records(r.iter_lines(), cut_after)):
                if "id" in record:
                    seen.append(int(record["id"]))
                    got += 1
                    finished = record["event"] == "run.finished"
        if finished:
            break
        if not cancelled and len(seen) >= 3:
            assert server.client("operator").post(f"/v1/test-runs/{run_id}/cancel").status_code == 202
            cancelled = True
    assert seen == list(range(1, len(seen) + 1))
    assert server.wait(run_id)["state"] == "cancelled"
    again = server.client("operator").post(f"/v1/test-runs/{run_id}/cancel")
    assert again.status_code == 409 and "nothing to cancel" in again.json()["error"]["message"]


def test_an_idle_live_stream_sends_keep_alive_comments_between_events(tmp_path: Path) -> None:
    server = serving.start(tmp_path, "--keep-alive", "300ms")
    try:
        run_id = server.start_run(profile="slow")
        lines: list[str] = []
        with server.client("viewer").stream("GET", f"/v1/test-runs/{run_id}/events") as r:
            assert r.headers["content-type"] == "text/event-stream"
            assert r.headers["cache-control"] == "no-cache"
            for line in r.iter_lines():
                lines.append(line)
                if lines.count(":keep-alive") >= 2:
                    break
        # The slow case's events came first; then silence, filled with comments that are no events.
        assert lines.count(":keep-alive") >= 2, lines
        records = serving.parse_sse(iter(lines))
        assert seqs(records) == list(range(1, len(seqs(records)) + 1)) and seqs(records)
        assert server.client("operator").post(f"/v1/test-runs/{run_id}/cancel").status_code == 202
        assert server.wait(run_id)["state"] == "cancelled"
    finally:
        server.stop()


def iter_records(lines: Iterator[str], records: int) -> Iterator[str]:
    """The lines of the first `records` events (the connection is dropped after them)."""
    done = 0
    for line in lines:
        yield line
        if line == "":
            done += 1
            if done >= records:
                return


def test_a_synthetic_data_set_named_by_the_request_reaches_every_case(server: Server) -> None:
    with_data = server.start_run(profile="data", dataset="customers")
    without = server.start_run(profile="data")
    assert server.wait(with_data)["verdict"] == "GO"
    assert server.wait(without)["verdict"] == "NO-GO"
    report = server.client("viewer").get(f"/v1/reports/{with_data}").json()
    assert [d["name"] for d in report["datasets"]] == ["customers"]


def test_runs_wait_their_turn_in_submission_order(server: Server) -> None:
    ids = [server.start_run(profile="quick") for _ in range(3)]
    views = [server.wait(i) for i in ids]
    assert [v["state"] for v in views] == ["passed"] * 3
    starts = []
    for i in ids:
        events = server.events(i)
        starts.append(next(e["data"]["time"] for e in events if e.get("event") == "run.started"))
    assert starts == sorted(starts)
    metrics = server.client("viewer").get("/metrics").text
    assert 'toron_runs{state="passed"} 3' in metrics and "toron_queue_depth 0" in metrics


def test_a_restart_keeps_runs_and_incidents_and_a_killed_run_shows_interrupted(tmp_path: Path) -> None:
    first = serving.start(tmp_path)
    done = first.start_run(profile="bad")
    first.wait(done)
    incident = first.client("operator").post("/v1/warroom/incidents", json={"run_id": done}).json()
    flying = first.start_run(profile="slow")
    deadline = time.monotonic() + 60
    while first.client("viewer").get(f"/v1/test-runs/{flying}").json()["state"] != "running":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    serving.kill(first)

    second = serving.start(tmp_path, data=first.data, manifest=first.project / "testops.toml")
    try:
        viewer = second.client("viewer")
        killed = viewer.get(f"/v1/test-runs/{flying}").json()
        assert (killed["state"], killed["error"]) == ("errored", "interrupted")
        kept = viewer.get(f"/v1/test-runs/{done}").json()
        assert (kept["state"], kept["verdict"], kept["started_by"]) == ("failed", "NO-GO", "operator-bot")
        again = viewer.get(f"/v1/warroom/incidents/{incident['incident']['id']}")
        assert again.status_code == 200 and again.json()["run_id"] == done
        # The interrupted run's stream replays its log and ends.
        events = second.events(flying)
        assert seqs(events) == list(range(1, len(seqs(events)) + 1))
        assert events[-1]["event"] != "run.finished"
        # And the server takes new runs.
        assert second.wait(second.start_run(profile="quick"))["verdict"] == "GO"
    finally:
        second.stop()


def test_a_stopped_server_records_its_runs_cancelled(tmp_path: Path) -> None:
    s = serving.start(tmp_path)
    run_id = s.start_run(profile="slow")
    deadline = time.monotonic() + 60
    while s.client("viewer").get(f"/v1/test-runs/{run_id}").json()["state"] != "running":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert s.stop() == 0
    again = serving.start(tmp_path, data=s.data, manifest=s.project / "testops.toml")
    try:
        assert again.client("viewer").get(f"/v1/test-runs/{run_id}").json()["state"] == "cancelled"
    finally:
        again.stop()


def _metrics(server: Server) -> dict[str, float]:
    text = server.client("viewer").get("/metrics").text
    return {
        line.split()[0]: float(line.split()[-1])
        for line in text.splitlines()
        if line and not line.startswith("#")
    }


def test_the_event_lag_metric_counts_live_deliveries_and_not_replays(tmp_path: Path) -> None:
    s = serving.start(tmp_path)
    run_id = s.start_run(profile="slow")
    streamed: list[list[dict[str, Any]]] = []
    reader = threading.Thread(target=lambda: streamed.append(s.events(run_id)))
    reader.start()
    # The stream is open while the run runs (so it reads the run's feed), then the run ends.
    deadline = time.monotonic() + 60
    while _metrics(s).get("toron_event_streams") != 1:
        assert time.monotonic() < deadline, "the stream did not open"
        time.sleep(0.05)
    assert s.client("operator").post(f"/v1/test-runs/{run_id}/cancel").status_code == 202
    reader.join(timeout=60)
    live = streamed[0]
    m = _metrics(s)
    sent = len(seqs(live))
    assert m["toron_events_sent_total"] == sent and m["toron_event_lag_seconds_count"] == sent, m
    assert m["toron_event_lag_seconds_max"] > 0 and m["toron_event_lag_seconds_sum"] > 0, m
    assert m["toron_event_lag_seconds_max"] <= m["toron_event_lag_seconds_sum"], m
    assert s.stop() == 0
    # Another process replays the finished run from its events file: sent, with no lag to measure.
    again = serving.start(tmp_path, data=s.data, manifest=s.project / "testops.toml")
    try:
        assert seqs(again.events(run_id)) == seqs(live)
        m = _metrics(again)
        assert m["toron_events_sent_total"] == sent, m
        assert (m["toron_event_lag_seconds_count"], m["toron_event_lag_seconds_max"]) == (0, 0), m
    finally:
        again.stop()


def test_rate_limits_answer_429_with_retry_after(tmp_path: Path) -> None:
    s = serving.start(tmp_path, "--rate-limit", "1")
    try:
        codes = [s.client("viewer").get("/v1/runners") for _ in range(6)]
        limited = [r for r in codes if r.status_code == 429]
        assert limited, [r.status_code for r in codes]
        assert int(limited[0].headers["retry-after"]) >= 1
        assert limited[0].json()["error"]["kind"] == "rate_limited"
        # Per token: another caller is not limited by the first.
        assert s.client("operator").get("/v1/runners").status_code == 200
    finally:
        s.stop()


def test_stream_tickets_open_streams_and_nothing_else(server: Server) -> None:
    run_id = server.start_run(profile="quick")
    server.wait(run_id)
    t = server.client("viewer").post("/v1/stream-tickets").json()
    assert t["lifetime"] == 60 and serving.TOKENS["viewer"] not in t["ticket"]
    # Each ticket has its own nonce: two in the same second differ.
    assert server.client("viewer").post("/v1/stream-tickets").json()["ticket"] != t["ticket"]
    with httpx.stream(
        "GET", f"{server.url}/v1/test-runs/{run_id}/events", params={"ticket": t["ticket"]}
    ) as r:
        assert r.status_code == 200
        assert seqs(serving.parse_sse(r.iter_lines()))[0] == 1
    other = httpx.get(f"{server.url}/v1/test-runs", params={"ticket": t["ticket"]})
    assert other.status_code == 401
    # A different last digit (a ticket that ends in 0 already would not be forged by another 0).
    forged_ticket = t["ticket"][:-1] + ("1" if t["ticket"].endswith("0") else "0")
    forged = httpx.get(f"{server.url}/v1/test-runs/{run_id}/events", params={"ticket": forged_ticket})
    assert forged.status_code == 401 and "ticket" in forged.json()["error"]["message"]


def test_the_openapi_document_lists_every_endpoint(server: Server) -> None:
    doc = server.client("none").get("/openapi.json").json()
    assert doc["openapi"].startswith("3.1")
    paths = doc["paths"]
    for path, method in [
        ("/v1/test-runs", "post"),
        ("/v1/test-runs", "get"),
        ("/v1/test-runs/{id}", "get"),
        ("/v1/test-runs/{id}/events", "get"),
        ("/v1/test-runs/{id}/cancel", "post"),
        ("/v1/test-runs/{id}/triage", "put"),
        ("/v1/snapshots/compare", "post"),
        ("/v1/reports/{id}", "get"),
        ("/v1/reports/{id}/{file}", "get"),
        ("/v1/warroom/incidents", "post"),
        ("/v1/warroom/incidents", "get"),
        ("/v1/warroom/incidents/{id}", "get"),
        ("/v1/stream-tickets", "post"),
        ("/v1/history", "get"),
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/metrics", "get"),
        ("/openapi.json", "get"),
        ("/v1/runners", "get"),
        ("/v1/runners/register", "post"),
        ("/v1/runners/{id}/claim", "post"),
        ("/v1/runners/{id}/heartbeat", "post"),
        ("/v1/test-runs/{id}/events", "post"),
        ("/v1/test-runs/{id}/objects/{path}", "put"),
        ("/v1/test-runs/{id}/finish", "post"),
    ]:
        assert method in paths.get(path, {}), (method, path)
    assert "StartRun" in doc["components"]["schemas"] and "ClaimedRun" in doc["components"]["schemas"]
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_history_and_triage(server: Server) -> None:
    good = server.start_run(profile="bad")
    server.wait(good)
    op = server.client("operator")
    r = op.put(f"/v1/test-runs/{good}/triage", json={"case": "bad/broken", "label": "environment"})
    assert r.status_code == 200, r.text
    assert r.json()["triage"]["bad/broken"]["label"] == "environment"
    bad_label = op.put(f"/v1/test-runs/{good}/triage", json={"case": "bad/broken", "label": "meh"})
    assert bad_label.status_code == 422 and bad_label.json()["error"]["field"] == "label"
    bad_case = op.put(f"/v1/test-runs/{good}/triage", json={"case": "bad/nope", "label": "environment"})
    assert bad_case.status_code == 422 and bad_case.json()["error"]["field"] == "case"
    h = server.client("viewer").get("/v1/history", params={"profile": "bad"}).json()
    assert [r["id"] for r in h["runs"]] == [good]
    assert h["runs"][0]["triage"]["bad/broken"]["label"] == "environment"
    assert h["cases"] == [
        {
            "case": "bad/broken",
            "outcomes": ["failed"],
            "durations": h["cases"][0]["durations"],
            "ran": 1,
            "failed": 1,
            "flaky": 0,
            "changes": 0,
            "pass_rate": 0.0,
        }
    ]
    assert h["most_failed"] == [{"case": "bad/broken", "failed": 1, "ran": 1}]


def test_the_server_refuses_to_start_without_tokens(tmp_path: Path) -> None:
    manifest = serving.write_project(tmp_path / "p")
    env = child_env()
    env.pop("TORON_TOKENS", None)
    base = [
        sys.executable,
        "-m",
        "toron",
        "serve",
        "--data",
        str(tmp_path / "d"),
        "--manifest",
        str(manifest),
    ]
    r = subprocess.run(
        base + ["--addr", "127.0.0.1:0"], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    assert r.returncode == 1 and "no tokens" in r.stderr
    r = subprocess.run(
        base + ["--addr", "0.0.0.0:0", "--insecure-localhost"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert r.returncode == 1 and "only on a loopback address" in r.stderr
    r = subprocess.run(
        base + ["--runners", "x"], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    assert r.returncode == 2 and "--runners" in r.stderr


@pytest.mark.skipif(sys.platform != "linux", reason="the nice value is per thread only on Linux")
def test_runs_run_below_the_servers_priority_so_serving_goes_first(tmp_path: Path) -> None:
    def run_nice(*args: str) -> int:
        s = serving.start(tmp_path / f"nice{len(args)}", *args)
        try:
            run = s.start_run(profile="niced")
            assert s.wait(run)["state"] == "passed"
            report = s.client("viewer").get(f"/v1/reports/{run}").json()
            return int(report["cases"][0]["attempts"][0]["stdout"])
        finally:
            s.stop()

    base = os.nice(0)  # the server's own: it inherits this process's
    assert run_nice() == 19  # the default: the lowest priority
    assert run_nice("--run-nice", "3") == min(base + 3, 19)
    assert run_nice("--run-nice", "0") == base


CURL = shutil.which("curl")


def curl(
    server: Server, path: str, *flags: str, data: Any = None, role: str = "operator"
) -> tuple[int, dict[str, str], str]:
    """`curl -s -H "Authorization: Bearer ..." [flags] URL` (with `-d JSON` as the README writes it; `role`
    `none`: no token); the status, the response headers (lower-case names) and the body."""
    assert CURL is not None
    auth = [] if role == "none" else ["-H", f"Authorization: Bearer {serving.TOKENS[role]}"]
    argv = [CURL, "-s", "-D", "-", *auth, *flags]
    if data is not None:
        argv += ["-H", "Content-Type: application/json", "-d", json.dumps(data)]
    done = subprocess.run([*argv, server.url + path], capture_output=True, text=True, timeout=60, check=True)
    head, _, body = done.stdout.partition("\n\n")  # text mode: curl's CRLFs read as newlines
    status_line, *lines = head.split("\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body


def sse_frames(body: str) -> list[tuple[int, str, dict[str, Any]]]:
    """The frames of an event stream as curl printed it: (id, event, data) of each, comments skipped."""
    records = serving.parse_sse(iter(body.splitlines()))
    return [(int(r["id"]), r["event"], r["data"]) for r in records if "comment" not in r]


@pytest.mark.skipif(CURL is None, reason="curl is not installed")
def test_the_guides_five_endpoints_from_curl(server: Server) -> None:
    """The five endpoints driven by the real `curl`, with the flags the README shows: what a person at a shell
    gets (the SSE body as curl prints it, headers as sent), not what an HTTP library smooths over."""
    # POST /v1/test-runs: 202, the run's id, its Location and its events URL.
    status, headers, body = curl(server, "/v1/test-runs", data={"profile": "bad", "seed": 42})
    assert status == 202, body
    run = json.loads(body)
    run_id = run["id"]
    assert headers["location"] == f"/v1/test-runs/{run_id}"
    assert run["events"] == f"/v1/test-runs/{run_id}/events"
    status, _, body = curl(server, "/v1/test-runs", data={"profile": "nope"})
    assert status == 422 and json.loads(body)["error"]["field"] == "profile"

    # GET .../events: the whole run once, seq by seq, ending after run.finished (curl returns by itself).
    status, headers, body = curl(server, f"/v1/test-runs/{run_id}/events", "-N")
    assert status == 200 and headers["content-type"].startswith("text/event-stream")
    frames = sse_frames(body)
    assert [f[0] for f in frames] == list(range(1, len(frames) + 1))
    assert frames[0][1] == "run.scheduled" and frames[-1][1] == "run.finished"
    assert "run.started" in [f[1] for f in frames] and "gate.evaluated" in [f[1] for f in frames]
    assert all(data["seq"] == seq and data["type"] == kind for seq, kind, data in frames)
    # Last-Event-ID resumes after it, nothing doubled.
    _, _, again = curl(server, f"/v1/test-runs/{run_id}/events", "-N", "-H", "Last-Event-ID: 2")
    assert sse_frames(again) == frames[2:]

    # GET /v1/reports/{id}: report.json, the page with Accept: text/html, and the files under the same path.
    status, _, body = curl(server, f"/v1/reports/{run_id}")
    assert status == 200 and json.loads(body)["verdict"] == "NO-GO"
    status, headers, body = curl(server, f"/v1/reports/{run_id}", "-H", "Accept: text/html")
    assert status == 200 and headers["content-type"].startswith("text/html") and "NO-GO" in body
    status, _, body = curl(server, f"/v1/reports/{run_id}/junit.xml")
    assert status == 200 and body.startswith("<?xml") and "<testsuites" in body

    # POST /v1/snapshots/compare: the RFC 6902 patch, the summary and the HTML rendering.
    status, _, body = curl(
        server, "/v1/snapshots/compare", data={"current": {"a": 1, "b": [1, 2]}, "golden": {"a": 2, "b": [1]}}
    )
    assert status == 200, body
    compared = json.loads(body)
    assert compared["patch"] == [
        {"op": "replace", "path": "/a", "value": 1},
        {"op": "add", "path": "/b/1", "value": 2},
    ]
    assert compared["summary"] == "1 changed, 1 added, 0 removed" and "<" in compared["html"]

    # POST /v1/warroom/incidents: opened for the NO-GO run's failing gate, then joined by its dedup key.
    status, headers, body = curl(server, "/v1/warroom/incidents", data={"run_id": run_id})
    assert status == 201, body
    incident = json.loads(body)["incident"]
    assert headers["location"] == f"/v1/warroom/incidents/{incident['id']}"
    assert incident["run_id"] == run_id and any("failed" in r["rule"] for r in incident["rules"])
    status, _, body = curl(server, "/v1/warroom/incidents", data={"run_id": run_id})
    assert status == 200 and json.loads(body)["incident"]["id"] == incident["id"]

    # Without the token: 401 naming the scheme.
    status, headers, _ = curl(server, "/v1/test-runs", role="none")
    assert status == 401 and headers["www-authenticate"].startswith("Bearer")
