"""`Run.follow`: a run's progress and events rendered in Rust and written to Python files a batch at a time
(what `toron run` uses), resumable from any seq, interruptible by Ctrl-C with `Run.followed` left where to go
on; and `RunResult.case_count`."""

from __future__ import annotations

import io
import json
import re
import signal
import threading
import time
from pathlib import Path

import pytest

import toron
from conftest import SLEEPER, project, wait_for_pid


def many(root: Path, cases: int) -> Path:
    """A project of `cases` quick simulation cases on two workers."""
    text = '[project]\nname = "many"\njobs = 2\n\n[[suite]]\nname = "bench"\n'
    text += "".join(
        f'\n[[suite.case]]\nname = "c{i}"\nkind = "sim"\nscenario = "echo.toml"\nseed = {i}\n'
        for i in range(cases)
    )
    return project(root, text)


def archived(archive: str, run_id: str) -> list[str]:
    """The lines of the run's events.ndjson in the archive, newlines kept."""
    return (Path(archive) / "events" / f"{run_id}.events.ndjson").read_text().splitlines(keepends=True)


class Recorder:
    """A writable text file without `flush`, keeping each `write` apart."""

    def __init__(self) -> None:
        self.writes: list[str] = []

    def write(self, text: str) -> int:
        self.writes.append(text)
        return len(text)


class Counted(io.StringIO):
    """A text file that counts its writes."""

    writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


class Broken:
    """A writable text file whose writes fail (a full disk, a closed pipe)."""

    def write(self, text: str) -> int:
        raise OSError("no space left on device")


def test_follow_writes_the_archive_lines_and_a_line_per_case(tmp_path: Path) -> None:
    manifest = toron.Manifest.from_file(many(tmp_path, 40))
    run = toron.start_run(manifest)
    progress, events = io.StringIO(), Counted()
    last = run.follow(progress, events)
    lines = events.getvalue().splitlines(keepends=True)
    # Live, the events come one at a time; they are written a batch at a time all the same.
    assert events.writes < len(lines) // 2, f"{events.writes} writes of {len(lines)} events"
    assert lines == archived(manifest.archive, run.id), "not the archive's lines, byte for byte"
    assert [json.loads(line)["seq"] for line in lines] == list(range(1, len(lines) + 1))
    assert last == len(lines) == run.followed and json.loads(lines[-1])["type"] == "run.finished"
    shown = progress.getvalue().splitlines()
    assert sorted(line.split()[1] for line in shown) == sorted(manifest.cases)
    for line in shown:
        assert re.fullmatch(r"passed     bench/c\d+  \d+\.\d\ds", line), line
    result = run.wait()
    assert result.case_count == len(result.cases) == 40
    assert [r.case_count for r in toron.runs(manifest.archive)] == [40]


def test_follow_resumes_after_any_seq_and_writes_in_batches(tmp_path: Path) -> None:
    manifest = toron.Manifest.from_file(many(tmp_path, 40))
    run = toron.start_run(manifest)
    run.wait()
    lines = archived(manifest.archive, run.id)
    for k in (0, 1, 5, len(lines) - 1):
        tail = io.StringIO()
        assert run.follow(events=tail, after=k) == len(lines)
        assert tail.getvalue().splitlines(keepends=True) == lines[k:], k
        assert json.loads(tail.getvalue().splitlines()[0])["seq"] == k + 1
    # Nothing after the last: nothing written, the last seq returned.
    recorder = Recorder()
    assert run.follow(recorder, recorder, after=len(lines)) == len(lines) and recorder.writes == []
    # The events already there are written together, whole lines at a time (no flush needed).
    assert run.follow(events=recorder) == len(lines)
    assert "".join(recorder.writes).splitlines(keepends=True) == lines
    assert all(w.endswith("\n") for w in recorder.writes)
    assert len(recorder.writes) < len(lines), "one write per event: the events were not batched"
    # No file at all: it only waits for the end.
    assert run.follow() == len(lines) == run.followed


def test_follow_bar_is_cut_to_the_width_and_erased_at_the_end(tmp_path: Path) -> None:
    manifest = toron.Manifest.from_file(many(tmp_path, 12))
    run = toron.start_run(manifest)
    out = io.StringIO()
    run.follow(out, bar=True, width=32)
    text = out.getvalue()
    assert text.startswith("\r\x1b[K[") and text.endswith("\r\x1b[K"), repr(text)
    drawn = text.split("\r\x1b[K")[1:-1]
    assert drawn and all(len(d) <= 31 for d in drawn), drawn
    assert drawn[-1] == "[########################] 12/1", "the last draw: every case done, cut to 31"
    assert "passed" not in text, "plain lines are for non-terminals"


def test_follow_arguments_and_write_errors(tmp_path: Path) -> None:
    manifest = toron.Manifest.from_file(many(tmp_path, 3))
    run = toron.start_run(manifest)
    run.wait()
    lines = archived(manifest.archive, run.id)
    with pytest.raises(toron.InvalidArgumentError, match="after"):
        run.follow(after=-1)
    with pytest.raises(TypeError):
        run.follow(after="3")  # type: ignore[arg-type]
    with pytest.raises(AttributeError):
        run.follow(events=object())  # type: ignore[arg-type]
    # A failing events file: nothing was written, `followed` stays at `after`.
    with pytest.raises(OSError, match="no space"):
        run.follow(events=Broken(), after=2)
    assert run.followed == 2
    # A failing progress file after the events were written: `followed` is the last event written.
    events = io.StringIO()
    with pytest.raises(OSError, match="no space"):
        run.follow(Broken(), events)
    written = events.getvalue().splitlines()
    assert written and run.followed == json.loads(written[-1])["seq"]
    assert events.getvalue().splitlines(keepends=True) == lines[: len(written)]


needs_main_thread = pytest.mark.skipif(
    threading.current_thread() is not threading.main_thread()
    or signal.getsignal(signal.SIGINT) is not signal.default_int_handler,
    reason="SIGINT must reach this thread as KeyboardInterrupt",
)


@needs_main_thread
def test_ctrl_c_in_follow_leaves_followed_to_go_on_from(tmp_path: Path) -> None:
    manifest = toron.Manifest.from_file(project(tmp_path, SLEEPER))
    run = toron.start_run(manifest, jobs=1)
    main = threading.main_thread().ident
    assert main is not None

    def interrupt() -> None:
        wait_for_pid(tmp_path / "pid")
        time.sleep(0.1)
        signal.pthread_kill(main, signal.SIGINT)

    sender = threading.Thread(target=interrupt, daemon=True)
    sender.start()
    progress, events = io.StringIO(), io.StringIO()
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        run.follow(progress, events, bar=True)
    sender.join()
    assert time.monotonic() - started < 20, "Ctrl-C was only seen when the run ended"
    assert run.state == "running", "Ctrl-C in follow() must not cancel"
    seen = events.getvalue().splitlines()
    assert [json.loads(line)["type"] for line in seen] == ["run.scheduled", "run.started", "case.started"]
    assert run.followed == 3
    assert progress.getvalue().endswith("] 0/2 slow/sleeper\r\x1b[K"), "the bar is erased on the way out"
    # What `toron run` does next: cancel, and write the rest of the events from where it stopped.
    run.cancel()
    assert run.follow(events=events, after=run.followed) == run.followed
    assert events.getvalue().splitlines(keepends=True) == archived(manifest.archive, run.id)
    assert run.wait(timeout=30).state == "cancelled"
