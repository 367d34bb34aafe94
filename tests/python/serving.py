"""A real `toron serve` process for the server's tests: a project with quick, slow and failing suites, a
tokens file with one token per role, and a client per role. The server listens on a free loopback port and
is stopped (SIGTERM, then SIGKILL) when the test ends."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from conftest import ECHO, REPO, child_env

#: One token per role (at least 16 characters, as the server requires); `runner` is for `toron runner`.
TOKENS = {
    "viewer": "viewer-token-0123456789",
    "operator": "operator-token-0123456789",
    "maintainer": "maintainer-token-0123456789",
    "runner": "runner-token-0123456789",
}

#: The served project: `quick` passes at once, `slow` waits (to be cancelled or interrupted), `bad` fails
#: (NO-GO), `data` prints the synthetic data set it was given.
MANIFEST = """\
[project]
name = "served"

[defaults]
timeout = "2m"

[profiles]
quick = ["quick"]
slow = ["slow"]
bad = ["bad"]
data = ["data"]
niced = ["niced"]

[[suite]]
name = "quick"

[[suite.case]]
name = "echo"
kind = "sim"
scenario = "echo.toml"
seed = 7

[[suite.case]]
name = "hello"
kind = "command"
argv = ["sh", "-c", "echo hello"]

[[suite]]
name = "slow"

[[suite.case]]
name = "wait"
kind = "command"
argv = ["sh", "-c", "sleep 60"]

[[suite]]
name = "bad"

[[suite.case]]
name = "broken"
kind = "command"
argv = ["sh", "-c", "echo boom >&2; exit 1"]

[[suite]]
name = "data"

[[suite.case]]
name = "customers"
kind = "command"
argv = ["sh", "-c", "ls \\"$TORON_DATASET_CUSTOMERS\\""]

[[suite]]
name = "niced"

# Prints the nice value its command runs at (`serve --run-nice`).
[[suite.case]]
name = "priority"
kind = "command"
argv = ["nice"]

[[dataset]]
name = "customers"
schema = "customers.toml"
seed = 42
"""


@dataclass
class Server:
    """A running server."""

    url: str
    data: Path
    project: Path
    proc: subprocess.Popen[str]
    log: Path
    clients: dict[str, httpx.Client] = field(default_factory=dict)

    def client(self, role: str = "operator") -> httpx.Client:
        """An HTTP client with the token of `role` (`none`: without a token)."""
        if role not in self.clients:
            headers = {} if role == "none" else {"Authorization": f"Bearer {TOKENS[role]}"}
            self.clients[role] = httpx.Client(base_url=self.url, headers=headers, timeout=60)
        return self.clients[role]

    def start_run(self, role: str = "operator", **body: Any) -> str:
        """Start a run; returns its id."""
        r = self.client(role).post("/v1/test-runs", json=body)
        assert r.status_code == 202, r.text
        run_id: str = r.json()["id"]
        return run_id

    def wait(self, run_id: str, timeout: float = 120) -> dict[str, Any]:
        """Poll a run until it has ended; returns its view."""
        deadline = time.monotonic() + timeout
        while True:
            view: dict[str, Any] = self.client("viewer").get(f"/v1/test-runs/{run_id}").json()
            if view["state"] not in ("scheduled", "running"):
                return view
            assert time.monotonic() < deadline, f"run {run_id} still {view['state']} after {timeout} s"
            time.sleep(0.1)

    def events(self, run_id: str, after: int | None = None, header: bool = False) -> list[dict[str, Any]]:
        """Read a run's whole event stream (from `after`), as (id, event, data) records."""
        params = {} if after is None or header else {"after": str(after)}
        headers = {"Last-Event-ID": str(after)} if header and after is not None else {}
        out: list[dict[str, Any]] = []
        with self.client("viewer").stream(
            "GET", f"/v1/test-runs/{run_id}/events", params=params, headers=headers
        ) as r:
            assert r.status_code == 200, r.read()
            assert r.headers["content-type"].startswith("text/event-stream")
            out = parse_sse(r.iter_lines())
        return out

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Stop the server; returns its exit code."""
        for c in self.clients.values():
            c.close()
        self.clients.clear()
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def parse_sse(lines: Iterator[str]) -> list[dict[str, Any]]:
    """Server-sent events as records with `id`, `event` and `data` (parsed JSON); comments are kept as
    `{"comment": text}`."""
    out: list[dict[str, Any]] = []
    record: dict[str, Any] = {}
    for line in lines:
        if line == "":
            if record:
                out.append(record)
            record = {}
        elif line.startswith(":"):
            out.append({"comment": line[1:].strip()})
        else:
            key, _, value = line.partition(":")
            value = value.removeprefix(" ")
            record[key] = json.loads(value) if key == "data" else value
    if record:
        out.append(record)
    return out


def write_project(root: Path) -> Path:
    """The served project in `root`; returns its manifest."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "echo.toml").write_text(ECHO.read_text())
    (root / "customers.toml").write_text(
        (REPO / "examples" / "testops" / "datasets" / "customers.toml").read_text()
    )
    manifest = root / "testops.toml"
    manifest.write_text(MANIFEST)
    return manifest


def write_tokens(path: Path) -> Path:
    """A tokens file with one token per role."""
    path.write_text(
        "".join(
            f'[[token]]\nname = "{role}-bot"\nrole = "{role}"\ntoken = "{secret}"\n\n'
            for role, secret in TOKENS.items()
        )
    )
    return path


def start(tmp: Path, *args: str, data: Path | None = None, manifest: Path | None = None) -> Server:
    """Start `toron serve` on a free loopback port for the project under `tmp`."""
    project = tmp / "project"
    manifest = manifest or write_project(project)
    data = data or tmp / "data"
    tokens = write_tokens(tmp / "tokens.toml")
    log = tmp / f"server-{time.monotonic_ns()}.log"
    env = child_env()
    env.pop("TORON_TOKENS", None)
    argv = [sys.executable, "-m", "toron", "serve", "--addr", "127.0.0.1:0", "--data", str(data)]
    argv += ["--manifest", str(manifest), "--tokens", str(tokens), *args]
    with open(log, "w") as err:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err, text=True, cwd=project, env=env)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "listening on" not in line:
        proc.wait(timeout=30)
        raise AssertionError(f"the server did not start: {line!r}\n{log.read_text()}")
    url = line.rsplit(" ", 1)[-1].strip()
    return Server(url=url, data=data, project=project, proc=proc, log=log)


def kill(server: Server) -> None:
    """kill -9 the server (nothing it could do on the way out)."""
    os.kill(server.proc.pid, signal.SIGKILL)
    server.proc.wait()
