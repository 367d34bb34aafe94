"""Long calls release the GIL and stop promptly on Ctrl-C with KeyboardInterrupt."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import toron
from conftest import REPO, child_env, default_sigint, load

# A run far longer than any test timeout: 10^9 requests through an M/M/1 queue.
ENDLESS = """\
name = "endless"
stop = { requests = 1_000_000_000 }

[[node]]
id = "server"
model = "queue"
params = { servers = 1, service = { dist = "exponential", mean = "1s" } }

[load]
mode = "open"
target = "server"
rate = "0.9/s"
timeout = "1h"
"""

# A history whose check outlasts any test: 40 writes of distinct values, all concurrent, then a read of a value
# none wrote. Not linearizable, and the search must first try every subset of the writes (2^40
# configurations), at a budget (10^15 steps) it never reaches.
HARD = [{"process": p, "type": "invoke", "f": "write", "value": p} for p in range(40)]
HARD += [{"process": p, "type": "ok", "f": "write", "value": p} for p in range(40)]
HARD += [
    {"process": 40, "type": "invoke", "f": "read"},
    {"process": 40, "type": "ok", "f": "read", "value": -1},
]

CHILD = """
import json, sys, time, toron
scenario = toron.Scenario.from_str(sys.argv[1])
call = sys.argv[2]
HARD = json.loads(sys.argv[3])
print("ready", flush=True)
started = time.monotonic()
try:
    if call == "simulate":
        toron.simulate(scenario, seed=1)
    elif call == "check":
        toron.check_linearizable(HARD, model="register", budget=10**15)
    else:
        toron.sweep(scenario, [1, 2, 3, 4], threads=2)
except KeyboardInterrupt:
    print("interrupted after %.3f s" % (time.monotonic() - started), flush=True)
    sys.exit(42)
print("finished", flush=True)
"""


def ctrl_c(argv: list[str], settle: float, ready: bool = False) -> tuple[int, str, str, float]:
    """Start `argv`, wait `settle` seconds (after its `ready` line, if it prints one), send SIGINT; its exit
    code, output, and the seconds it took to stop."""
    child = subprocess.Popen(
        argv,
        env=child_env(),
        preexec_fn=default_sigint,  # noqa: PLW1509 (only signal.signal, before exec)
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        if ready:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "ready"
        time.sleep(settle)  # well inside the call by now
        assert child.poll() is None, "the call ended before the signal"
        sent = time.monotonic()
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=20)
        stopped = time.monotonic() - sent
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    return child.returncode, out, err, stopped


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX")
@pytest.mark.parametrize("call", ["simulate", "sweep", "check"])
def test_ctrl_c_stops_a_long_call_with_keyboard_interrupt(call: str) -> None:
    code, out, err, stopped = ctrl_c(
        [sys.executable, "-c", CHILD, ENDLESS, call, json.dumps(HARD)], 0.5, ready=True
    )
    assert code == 42, (out, err)
    assert "interrupted after" in out
    # "Promptly": the poll interval is 20 ms and the core checks its flag every 65 536 events; seconds
    # would mean the signal was only seen when the run ended (which is hours away here).
    assert stopped < 10, stopped


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX")
def test_ctrl_c_stops_check_history_with_exit_130(tmp_path: Path) -> None:
    """`toron check-history` of a history whose search would outlast any test, at a budget it never reaches:
    Ctrl-C ends it with the command line's interrupted code, promptly, and no verdict is printed."""
    hard = tmp_path / "hard.json"
    hard.write_text(json.dumps(HARD))
    argv = [
        sys.executable,
        "-m",
        "toron",
        "check-history",
        str(hard),
        "--model",
        "register",
        "--budget",
        str(10**15),
    ]
    # 1.5 s: the interpreter is up and the search is running.
    code, out, err, stopped = ctrl_c(argv, 1.5)
    assert code == 130, (out, err)
    assert "interrupted" in err
    assert "linearizable" not in out
    assert stopped < 10, stopped


def test_simulate_releases_the_gil() -> None:
    """Another Python thread keeps running while a simulation runs in the background."""
    scenario = load("mm1")
    done = threading.Event()
    result: list[toron.Outcome] = []

    def work() -> None:
        result.append(toron.sweep(scenario, [1, 2, 3], threads=1)[0])
        done.set()

    ticks = 0
    worker = threading.Thread(target=work)
    worker.start()
    # While the worker is inside the (GIL-free) call, this thread must get many turns; with the GIL held
    # it would be stuck in the first `wait` until the call returned.
    while not done.wait(0.001):
        ticks += 1
    worker.join()
    assert result
    assert ticks > 20, ticks


CTRL_C_TESTS = [
    "tests/python/test_interrupt.py::test_ctrl_c_stops_a_long_call_with_keyboard_interrupt",
    "tests/python/test_cli_run.py::test_ctrl_c_cancels_records_and_exits_130",
    "tests/python/test_interrupt.py::test_ctrl_c_stops_check_history_with_exit_130",
]


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT dispositions are POSIX")
def test_the_ctrl_c_tests_pass_when_started_with_sigint_ignored() -> None:
    """Run the Ctrl-C tests as `setsid python -m pytest ... &` in a non-interactive shell would: in a new
    session, with SIGINT ignored (inherited by every child). They must pass, not time out: each child they
    signal restores SIGINT's default disposition first (conftest.default_sigint)."""

    def ignored_in_new_session() -> None:
        os.setsid()
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    probe = subprocess.run(
        [sys.executable, "-c", "import signal; print(signal.getsignal(signal.SIGINT) is signal.SIG_IGN)"],
        preexec_fn=ignored_in_new_session,
        capture_output=True,
        text=True,
        check=True,
    )
    assert probe.stdout.strip() == "True", "the child really starts with SIGINT ignored"
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *CTRL_C_TESTS],
        cwd=REPO,
        env=child_env(),
        preexec_fn=ignored_in_new_session,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    # simulate, sweep and check through the module, run through the command line, check-history.
    assert "5 passed" in out.stdout, out.stdout[-2000:]
