"""Load on the TestOps server over loopback (`make bench`, or `.venv/bin/python benches/server.py`).

1. Fan-out: SUBSCRIBERS event streams (default 500) on one run of CASES cases (default 1 000), opened
   while the run runs, across several client processes. Every stream must get every event exactly once
   (seq 1..N); the delivery lag of an event is the time from its first arrival at any subscriber to its
   arrival at each of the others, for the events that first arrived after every stream was open (earlier
   ones are a late stream's replay, whose "lag" is its connection delay); the server's own figure, from
   the run's event log to the stream's socket, is read from /metrics; the server's RSS is sampled before,
   during and after.
2. Submissions: SUBMISSIONS `POST /v1/test-runs` (default 200) from CONCURRENCY clients (default 50), then
   as many `GET /v1/test-runs`; p50 / p99 latency of each.

Nothing here is a pass/fail test: the figures go to benches/README.md. Every loop is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing as mp
import os
import queue as queue_mod
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
ECHO = REPO / "tests" / "fixtures" / "runner" / "run" / "scenarios" / "echo.toml"


def manifest(cases: int) -> str:
    # `many` starts with a case that waits for the file `go`: the bench creates it once every stream is
    # open, so all of them get the run's events live (a stream that opens after the run ended replays it).
    out = ['[project]\nname = "bench"\n\n[profiles]\nmany = ["many"]\nsmall = ["small"]\n']
    out.append('[[suite]]\nname = "many"\n')
    out.append(
        '[[suite.case]]\nname = "await"\nkind = "command"\ntimeout = "15m"\n'
        'argv = ["sh", "-c", "while [ ! -e go ]; do sleep 0.02; done"]\n'
    )
    for i in range(cases):
        out.append(f'[[suite.case]]\nname = "c{i:04d}"\nkind = "sim"\nscenario = "echo.toml"\nseed = {i}\n')
    out.append(
        '[[suite]]\nname = "small"\n[[suite.case]]\nname = "one"\nkind = "sim"\nscenario = "echo.toml"\n'
    )
    return "\n".join(out)


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    """The process's resident memory (`VmRSS`), or one part of it: `RssAnon` (the heap, stacks: what a
    leak grows) or `RssFile` (pages of the binary and files, which grow as code first runs)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


def start_server(
    tmp: Path,
    cases: int,
    server_bin: str | None = None,
    remote_runner: bool = False,
    extra: tuple[str, ...] = (),
    cpus: set[int] | None = None,
) -> tuple[subprocess.Popen[str], str, subprocess.Popen[str] | None]:
    """The server, and with `remote_runner` a `runner` process (niced: a runner on a machine of its own
    does not take the server's CPU) that runs the runs instead of the server's embedded runner."""
    project = tmp / "project"
    project.mkdir()
    (project / "echo.toml").write_text(ECHO.read_text())
    (project / "testops.toml").write_text(manifest(cases))
    # `toron serve` (the Python package) or a `toron-server` binary: one parser, the same server.
    head = [server_bin] if server_bin else [sys.executable, "-m", "toron"]
    argv = [*head, "serve", "--addr", "127.0.0.1:0", "--data", str(tmp / "data")]
    argv += ["--manifest", str(project / "testops.toml"), "--insecure-localhost", "--rate-limit", "100000"]
    # Loopback callers without a token are the maintainer (--insecure-localhost); the runner has its own.
    secret = "bench-runner-token-0123456789"
    if remote_runner:
        tokens = tmp / "tokens.toml"
        tokens.write_text(f'[[token]]\nname = "bench-runner"\nrole = "runner"\ntoken = "{secret}"\n')
        argv += ["--runners", "0", "--tokens", str(tokens)]
    argv += extra
    # Pinned by `taskset` before exec, so every thread the server starts has the affinity.
    pin = ["taskset", "-c", ",".join(map(str, sorted(cpus)))] if cpus else []
    proc = subprocess.Popen(
        [*pin, *argv], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=project
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert "listening on" in line, f"the server did not start ({' '.join(argv)}): {line!r}"
    base = line.rsplit(" ", 1)[-1].strip()
    runner = None
    if remote_runner:
        token = tmp / "runner.token"
        token.write_text(secret + "\n")
        runner = subprocess.Popen(
            [*pin, *head, "runner", "--server", base, "--token-file", str(token), "--poll-seconds", "0.05"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            text=True,
            cwd=project,
            preexec_fn=lambda: os.nice(10),  # noqa: PLW1509 (only os.nice, before exec)
        )
    return proc, base, runner


# One `id:` line of an SSE frame.
ID_LINE = re.compile(rb"^id: ?(\d+)$", re.MULTILINE)


async def subscribe(base: str, path: str, arrivals: list[tuple[int, float]]) -> None:
    """One event stream read as raw bytes over an HTTP/1.0 connection (the body ends when the server closes).

    Why not httpx: its per-line parsing in Python was the bottleneck of the first figures (about 27 000 frames
    a second across four client processes), so the lag measured the clients. Here each read (up to 256 KiB)
    is one regex pass over the complete frames, all stamped with the read's arrival time: they came together.
    """
    url = httpx.URL(base)
    reader, writer = await asyncio.open_connection(url.host, url.port)
    writer.write(f"GET {path} HTTP/1.0\r\nHost: {url.host}\r\nAccept: text/event-stream\r\n\r\n".encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    if head.split(b" ", 2)[1] != b"200" or b"chunked" in head.lower():
        raise RuntimeError(f"expected a 200 close-delimited event stream, got {head!r}")
    # Seq 0: when the stream was open (its headers in); events before the last stream opened are
    # replays for that stream, not deliveries.
    arrivals.append((0, time.monotonic()))
    tail = b""
    while data := await reader.read(1 << 18):
        now = time.monotonic()
        buf = tail + data
        end = buf.rfind(b"\n\n")
        if end < 0:
            tail = buf
            continue
        tail = buf[end + 2 :]
        arrivals.extend((int(seq), now) for seq in ID_LINE.findall(buf, 0, end + 2))
    writer.close()


def subscriber_process(base: str, run_id: str, n: int, out: Any) -> None:
    """`n` streams in one process; sends each stream's (seq, arrival) list back."""

    async def main() -> list[list[tuple[int, float]]]:
        lists: list[list[tuple[int, float]]] = [[] for _ in range(n)]
        await asyncio.gather(*(subscribe(base, f"/v1/test-runs/{run_id}/events", a) for a in lists))
        return lists

    out.put(asyncio.run(main()))


def metric(client: httpx.Client, name: str) -> float:
    for line in client.get("/metrics").text.splitlines():
        if line.split(" ", 1)[0] == name:
            return float(line.split()[-1])
    raise KeyError(name)


class Native:
    """The subscribers in one native process (`toron-server/examples/sse_subscribers.rs`): each stream's
    arrivals come back as a JSON line once every stream has ended."""

    def __init__(self, binary: str, base: str, path: str, n: int, out: Path, cpu: int | None = None) -> None:
        url = httpx.URL(base)
        self.out = out
        pin = ["taskset", "-c", str(cpu)] if cpu is not None else []
        with out.open("wb") as f:  # the child keeps its own descriptor
            self.proc = subprocess.Popen([*pin, binary, f"{url.host}:{url.port}", path, str(n)], stdout=f)

    def results(self, timeout: float) -> list[list[tuple[int, float]]]:
        self.proc.wait(timeout=timeout)
        if self.proc.returncode != 0:
            raise RuntimeError(f"sse_subscribers exited with {self.proc.returncode}")
        with self.out.open("rb") as f:
            return [[(int(s), float(t)) for s, t in json.loads(line)] for line in f]


def fan_out(
    base: str,
    pid: int,
    subscribers: int,
    procs: int,
    project: Path,
    native: str | None = None,
    client_cpu: int | None = None,
) -> dict[str, Any]:
    client = httpx.Client(base_url=base, timeout=60)
    rss_before = rss_kib(pid)
    (project / "go").unlink(missing_ok=True)
    # One job: the `await` case holds the run until every stream is open.
    run_id = client.post("/v1/test-runs", json={"profile": "many", "jobs": 1}).json()["id"]
    queue: Any = mp.Queue()
    per = [subscribers // procs + (1 if i < subscribers % procs else 0) for i in range(procs)]
    workers = (
        [] if native else [mp.Process(target=subscriber_process, args=(base, run_id, n, queue)) for n in per]
    )
    t0 = time.monotonic()
    natives = (
        Native(
            native,
            base,
            f"/v1/test-runs/{run_id}/events",
            subscribers,
            project / "arrivals.jsonl",
            client_cpu,
        )
        if native
        else None
    )
    for w in workers:
        w.start()
    rss_peak = rss_before
    deadline = time.monotonic() + 300
    while metric(client, "toron_event_streams") < subscribers and time.monotonic() < deadline:
        rss_peak = max(rss_peak, rss_kib(pid))
        time.sleep(0.05)
    opened_s = time.monotonic() - t0
    (project / "go").touch()
    results: list[list[tuple[int, float]]] = natives.results(timeout=900) if natives else []
    deadline = time.monotonic() + 900
    while len(results) < subscribers and time.monotonic() < deadline:
        rss_peak = max(rss_peak, rss_kib(pid))
        with contextlib.suppress(queue_mod.Empty):
            results.extend(queue.get(timeout=0.2))
    for w in workers:
        w.join(timeout=30)
    elapsed = time.monotonic() - t0
    view = client.get(f"/v1/test-runs/{run_id}").json()
    opened = max(at for r in results for seq, at in r if seq == 0)
    results = [[(seq, at) for seq, at in r if seq != 0] for r in results]
    total = max(seq for r in results for seq, _ in r)
    exact = sum(1 for r in results if [s for s, _ in r] == list(range(1, total + 1)))
    first: dict[int, float] = {}
    for r in results:
        for seq, at in r:
            first[seq] = min(first.get(seq, at), at)
    # The delivery lag of the events that reached a subscriber only after every stream was open.
    live = {seq for seq, at in first.items() if at > opened}
    lags = sorted((at - first[seq]) * 1000 for r in results for seq, at in r if seq in live) or [0.0]
    # Where in the run the lag is: p99 of the events of each tenth of the seqs (a burst at the end, the
    # report, shows in the last tenth; a pause of the server shows in one tenth).
    by_tenth: list[list[float]] = [[] for _ in range(10)]
    for r in results:
        for seq, at in r:
            if seq in live:
                by_tenth[min(9, (seq - 1) * 10 // total)].append((at - first[seq]) * 1000)
    tenths = [round(sorted(t)[int(len(t) * 0.99)], 1) if t else None for t in by_tenth]
    server_max = metric(client, "toron_event_lag_seconds_max")
    server_count = metric(client, "toron_event_lag_seconds_count")
    server_mean = metric(client, "toron_event_lag_seconds_sum") / max(server_count, 1)
    time.sleep(1)
    return {
        "run": run_id,
        "state": view["state"],
        "cases": view["cases"],
        "events": total,
        "subscribers": len(results),
        "streams_exact": exact,
        "elapsed_s": round(elapsed, 2),
        "events_after_all_open": len(live),
        "lag_p50_ms": round(lags[len(lags) // 2], 2),
        "lag_p99_ms": round(lags[int(len(lags) * 0.99)], 2),
        "lag_max_ms": round(lags[-1], 2),
        "lag_p99_ms_by_tenth_of_run": tenths,
        "streams_open_s": round(opened_s, 2),
        "server_lag_samples": int(server_count),
        "server_lag_mean_ms": round(server_mean * 1000, 2),
        "server_lag_max_ms": round(server_max * 1000, 2),
        "rss_kib": {
            "before": rss_before,
            "peak": rss_peak,
            "after": rss_kib(pid),
            "anon_after": rss_kib(pid, "RssAnon"),
            "file_after": rss_kib(pid, "RssFile"),
        },
    }


async def submissions(base: str, count: int, concurrency: int) -> dict[str, Any]:
    sem = asyncio.Semaphore(concurrency)
    posts: list[float] = []
    gets: list[float] = []
    codes: dict[int, int] = {}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=120) as client:

        async def one(path: str, times: list[float], body: Any = None) -> None:
            async with sem:
                t = time.perf_counter()
                r = await (client.post(path, json=body) if body is not None else client.get(path))
                times.append((time.perf_counter() - t) * 1000)
                codes[r.status_code] = codes.get(r.status_code, 0) + 1

        await asyncio.gather(*(one("/v1/test-runs", posts, {"profile": "small"}) for _ in range(count)))
        await asyncio.gather(*(one("/v1/test-runs?limit=50", gets) for _ in range(count)))

    def pct(xs: list[float], p: float) -> float:
        return round(sorted(xs)[min(len(xs) - 1, int(len(xs) * p))], 2)

    return {
        "submissions": count,
        "concurrency": concurrency,
        "codes": codes,
        "post_p50_ms": pct(posts, 0.5),
        "post_p99_ms": pct(posts, 0.99),
        "get_p50_ms": pct(gets, 0.5),
        "get_p99_ms": pct(gets, 0.99),
        "post_mean_ms": round(statistics.mean(posts), 2),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--subscribers", type=int, default=500)
    p.add_argument("--cases", type=int, default=1000)
    p.add_argument("--rounds", type=int, default=3, help="fan-out rounds (the RSS after each shows a leak)")
    p.add_argument("--procs", type=int, default=4, help="client processes for the subscribers")
    p.add_argument("--submissions", type=int, default=200)
    p.add_argument("--concurrency", type=int, default=50)
    p.add_argument("--server-bin", help="a toron-server binary to run instead of `python -m toron serve`")
    p.add_argument(
        "--native-client",
        metavar="BIN",
        help="the subscribers in one native process instead of --procs Python ones: the sse_subscribers example "
        "(cargo build --release -p toron-server --example sse_subscribers; target/release/examples/sse_subscribers)",
    )
    p.add_argument(
        "--remote-runner",
        action="store_true",
        help="run the runs on a `runner` process at nice 10 (`serve --runners 0`), as runners on machines of "
        "their own: the server's CPU is its own",
    )
    p.add_argument(
        "--server-args",
        default="",
        help='more arguments of `serve`, one shell-quoted string (e.g. "--run-nice 19")',
    )
    p.add_argument(
        "--client-cpu",
        type=int,
        metavar="N",
        help="pin the native client to CPU N and the server (and runner) to the other CPUs: the client as on a "
        "machine of its own, so the lag is the server's",
    )
    args = p.parse_args()
    # The server runs in the project directory: a relative path (as `make bench` gives) would not be found.
    for name in ("server_bin", "native_client"):
        if getattr(args, name):
            setattr(args, name, os.path.abspath(getattr(args, name)))
    if args.client_cpu is not None and not args.native_client:
        p.error("--client-cpu needs --native-client")
    cpus = None if args.client_cpu is None else os.sched_getaffinity(0) - {args.client_cpu}
    with tempfile.TemporaryDirectory() as tmp:
        extra = tuple(shlex.split(args.server_args))
        proc, base, runner = start_server(
            Path(tmp), args.cases, args.server_bin, args.remote_runner, extra, cpus
        )
        try:
            # Several rounds: memory is flat when the RSS after a round stops growing with the rounds.
            for round_ in range(1, args.rounds + 1):
                fan = fan_out(
                    base,
                    proc.pid,
                    args.subscribers,
                    args.procs,
                    Path(tmp) / "project",
                    args.native_client,
                    args.client_cpu,
                )
                fan["client"] = "native" if args.native_client else f"{args.procs} Python processes"
                if args.client_cpu is not None:
                    fan["client"] += f" on CPU {args.client_cpu}, server on {sorted(cpus or ())}"
                print(json.dumps({"fan_out": fan, "round": round_}, indent=1))
            sub = asyncio.run(submissions(base, args.submissions, args.concurrency))
            print(json.dumps({"submissions": sub}, indent=1))
        finally:
            for p_ in (runner, proc):
                if p_ is not None:
                    p_.terminate()
                    p_.wait(timeout=60)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
