"""The operations guide's five endpoints driven by the real `curl`, with the flags the README shows: what a
person at a shell gets, not what an HTTP library smooths over (the SSE body as curl prints it, headers as
sent)."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import serving
from serving import Server

CURL = shutil.which("curl")
pytestmark = pytest.mark.skipif(CURL is None, reason="curl is not installed")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    s = serving.start(tmp_path)
    try:
        yield s
    finally:
        s.stop()


def curl(server: Server, path: str, *flags: str, data: Any = None) -> tuple[int, dict[str, str], str]:
    """`curl -s -H "Authorization: Bearer ..." [flags] URL` (with `-d JSON` as the README writes it); the
    status, the response headers (lower-case names) and the body."""
    assert CURL is not None
    argv = [CURL, "-s", "-D", "-", "-H", f"Authorization: Bearer {serving.TOKENS['operator']}", *flags]
    if data is not None:
        argv += ["-H", "Content-Type: application/json", "-d", json.dumps(data)]
    done = subprocess.run([*argv, server.url + path], capture_output=True, text=True, timeout=60, check=True)
    head, _, body = done.stdout.partition("\n\n")  # text mode: curl's CRLFs read as newlines
    status_line, *lines = head.split("\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body


def sse(body: str) -> list[tuple[int, str, dict[str, Any]]]:
    """The frames of an event stream as curl printed it: (id, event, data) of each, comments skipped."""
    frames = []
    for block in body.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if line and not line.startswith(":"))
        if fields:
            frames.append((int(fields["id"]), fields["event"], json.loads(fields["data"])))
    return frames


def test_the_guides_five_endpoints_from_curl(server: Server) -> None:
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
    frames = sse(body)
    assert [f[0] for f in frames] == list(range(1, len(frames) + 1))
    assert frames[0][1] == "run.scheduled" and frames[-1][1] == "run.finished"
    assert "run.started" in [f[1] for f in frames] and "gate.evaluated" in [f[1] for f in frames]
    assert all(data["seq"] == seq and data["type"] == kind for seq, kind, data in frames)
    # Last-Event-ID resumes after it, nothing doubled.
    _, _, again = curl(server, f"/v1/test-runs/{run_id}/events", "-N", "-H", "Last-Event-ID: 2")
    assert sse(again) == frames[2:]

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
    assert CURL is not None
    done = subprocess.run(
        [CURL, "-s", "-D", "-", "-o", "/dev/null", server.url + "/v1/test-runs"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.startswith("HTTP/1.1 401") and "www-authenticate: bearer" in done.stdout.lower()
