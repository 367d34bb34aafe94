"""Side by side: Toron's PII scrubber from Python vs scrubadub and detect-secrets, on one labelled corpus.

    .venv/bin/python benches/pii.py              # 20 MB corpus
    .venv/bin/python benches/pii.py --mb 2       # quick run
    .venv/bin/python benches/pii.py --big        # also peak RSS of `toron scrub` on a 1 GB file (--big-mb N)

The corpus (`benches/pii_corpus.py`, seeded) mixes key=value logs, JSON logs, pytest-like output and PEM
blocks, with every kind planted in varied forms and look-alikes that must not be reported; it keeps each
planted value's kind and span. For each tool: MB/s (scan + redact, single thread) and per kind precision,
recall and full-coverage recall (one finding of the right kind covers the planted value's whole span).
A peer too slow for the whole corpus runs on a prefix sized to its time budget (--budget), and says so.
Performance is never asserted: the goals are printed beside the figures.
"""

from __future__ import annotations

import argparse
import bisect
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pii_corpus import make_corpus

import toron
import toron._toron as native

KINDS = ["email", "phone", "card", "ssn", "iban", "ipv4", "ipv6", "jwt", "aws_key", "private_key", "token"]
Span = tuple[str, int, int]
#: A fixed placeholder key: no key file is created in the working directory's `.toron/`.
BENCH_KEY = "toron-bench-pii"

SCRUBADUB_KINDS = {
    "email": "email",
    "phone": "phone",
    "credit_card": "card",
    "social_security_number": "ssn",
    "credential": "token",
}
DETECT_SECRETS_KINDS = {
    "AWS Access Key": "aws_key",
    "Private Key": "private_key",
    "JSON Web Token": "jwt",
}  # every other plugin (GitHub, Slack, Stripe, high entropy, keyword, ...) -> token
DETECT_SECRETS_SUPPORTED = {"aws_key", "private_key", "jwt", "token"}


def line_starts(text: str) -> list[int]:
    starts = [0]
    i = text.find("\n")
    while i >= 0:
        starts.append(i + 1)
        i = text.find("\n", i + 1)
    return starts


def toron_spans(original: str, scrubbed: str, findings: Iterable[toron.Finding]) -> list[Span]:
    """Finding spans in `original` from their line:column (start) and the placeholders in `scrubbed` (end):
    the text between two placeholders is unchanged, so its length in `scrubbed` gives where a value ended."""
    starts = line_starts(original)
    fs = list(findings)
    begins = [starts[f.line - 1] + f.column - 1 for f in fs]  # type: ignore[operator]
    spans: list[Span] = []
    opos = spos = 0
    for i, f in enumerate(fs):
        spos += begins[i] - opos
        ph = f.placeholder
        if scrubbed[spos : spos + len(ph)] != ph:
            raise RuntimeError(f"placeholder {ph} of {f.kind} at {f.location} not where expected")
        spos += len(ph)
        if i + 1 < len(fs):
            nxt = scrubbed.find(fs[i + 1].placeholder, spos)
            end = begins[i + 1] - (nxt - spos)
        else:
            end = len(original) - (len(scrubbed) - spos)
        spans.append((f.kind, begins[i], end))
        opos = end
    return spans


class Score:
    """Per kind: findings right / wrong, planted values found / fully covered; what the wrong ones hit."""

    def __init__(self, found: list[Span], truth: list[Span], decoys: list[Span], limit: int) -> None:
        truth = [t for t in truth if t[2] <= limit]
        decoys = [d for d in decoys if d[2] <= limit]
        self.planted = Counter(t[0] for t in truth)
        self.tp: Counter[str] = Counter()
        self.fp: Counter[str] = Counter()
        self.fp_on: Counter[str] = (
            Counter()
        )  # "kind on decoy-class" / "kind on other-kind" / "kind on filler"
        hit: set[int] = set()
        full: set[int] = set()
        tstarts = [t[1] for t in truth]
        dstarts = [d[1] for d in decoys]
        for kind, s, e in found:
            if e > limit:
                continue
            ok = False
            j = bisect.bisect_left(tstarts, e) - 1
            other = None
            while j >= 0 and truth[j][2] > s - 20000:
                tk, ts, te = truth[j]
                if ts < e and s < te:
                    if tk == kind:
                        ok = True
                        hit.add(j)
                        if s <= ts and te <= e:
                            full.add(j)
                    else:
                        other = tk
                j -= 1
            if ok:
                self.tp[kind] += 1
                continue
            self.fp[kind] += 1
            if other:
                self.fp_on[f"{kind} on planted {other}"] += 1
                continue
            j = bisect.bisect_left(dstarts, e) - 1
            where = "filler"
            while j >= 0 and decoys[j][2] > s - 20000:
                if decoys[j][1] < e and s < decoys[j][2]:
                    where = "look-alike " + decoys[j][0]
                    break
                j -= 1
            self.fp_on[f"{kind} on {where}"] += 1
        self.found = Counter(truth[j][0] for j in hit)
        self.full = Counter(truth[j][0] for j in full)

    def cell(self, kind: str, supported: bool) -> str:
        if not supported:
            return "n/a"
        n = self.tp[kind] + self.fp[kind]
        p = f"{self.tp[kind] / n:.4f}" if n else "-"
        m = self.planted[kind]
        r = f"{self.found[kind] / m:.4f}" if m else "-"
        c = f"{self.full[kind] / m:.4f}" if m else "-"
        return f"{p}/{r}/{c}"


def prefix(text: str, n: int) -> str:
    if n >= len(text):
        return text
    cut = text.rfind("\n", 0, n)
    return text[: cut + 1] if cut > 0 else text[:n]


def run_toron_memory(text: str) -> tuple[float, float, list[Span]]:
    best_wall = best_cpu = float("inf")
    out = None
    for _ in range(3):
        t0, c0 = time.perf_counter(), time.process_time()
        out = toron.scrub(text, key=BENCH_KEY)
        best_wall = min(best_wall, time.perf_counter() - t0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    assert out is not None and out.text is not None
    return best_wall, best_cpu, toron_spans(text, out.text, out.findings)


def run_toron_stream(text: str, tmp: str) -> tuple[float, float, list[Span]]:
    src, dst = os.path.join(tmp, "corpus.log"), os.path.join(tmp, "scrubbed.log")
    with open(src, "w") as f:
        f.write(text)
    best_wall = best_cpu = float("inf")
    findings: list[toron.Finding] = []
    for _ in range(3):
        t0, c0 = time.perf_counter(), time.process_time()
        findings, _, _ = native._scrub_file(src, dst, key=BENCH_KEY)
        best_wall = min(best_wall, time.perf_counter() - t0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    with open(dst) as f:
        scrubbed = f.read()
    return best_wall, best_cpu, toron_spans(text, scrubbed, findings)


def scrubadub_run(text: str) -> tuple[float, float, list[Span], Counter[str]]:
    import scrubadub

    scrubber = scrubadub.Scrubber()
    t0, c0 = time.perf_counter(), time.process_time()
    filth = list(scrubber.iter_filth(text))
    # What Scrubber.clean does with them: each replaced by its placeholder.
    parts, pos = [], 0
    for fl in filth:
        if fl.beg < pos:
            continue
        parts.append(text[pos : fl.beg])
        parts.append(fl.replacement_string or "{{" + fl.type.upper() + "}}")
        pos = fl.end
    parts.append(text[pos:])
    "".join(parts)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    spans = [(SCRUBADUB_KINDS[fl.type], fl.beg, fl.end) for fl in filth if fl.type in SCRUBADUB_KINDS]
    return wall, cpu, spans, Counter(fl.type for fl in filth if fl.type not in SCRUBADUB_KINDS)


def detect_secrets_run(text: str, tmp: str) -> tuple[float, float, list[Span], Counter[str]]:
    from detect_secrets import SecretsCollection
    from detect_secrets.settings import default_settings

    path = os.path.join(tmp, "ds.log")
    with open(path, "w") as f:
        f.write(text)
    secrets = SecretsCollection()
    t0, c0 = time.perf_counter(), time.process_time()
    with default_settings():
        secrets.scan_file(path)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    starts = line_starts(text)
    spans: list[Span] = []
    for _, secret in secrets:
        kind = DETECT_SECRETS_KINDS.get(secret.type, "token")
        line0 = starts[secret.line_number - 1]
        line_end = text.find("\n", line0)
        line = text[line0 : line_end if line_end >= 0 else len(text)]
        value = secret.secret_value or ""
        at = line.find(value) if value else -1
        if at >= 0:
            spans.append((kind, line0 + at, line0 + at + len(value)))
        else:
            spans.append((kind, line0, line0 + len(line)))
    return wall, cpu, spans, Counter()


def peer_prefix(
    name: str, text: str, budget: float, run: object, probe_bytes: int = 200_000
) -> tuple[str, int, float, float, list[Span], Counter[str]]:
    """Probe the peer on a small prefix, then run it on the largest prefix its budget allows."""
    probe = prefix(text, probe_bytes)
    w, _, _, _ = run(probe)  # type: ignore[operator]
    rate = len(probe) / max(w, 1e-6)
    size = int(min(len(text), rate * budget * 0.8))
    part = prefix(text, max(size, len(probe)))
    w, c, spans, other = run(part)  # type: ignore[operator]
    note = (
        "whole corpus"
        if len(part) == len(text)
        else f"first {len(part) / 1e6:.1f} MB (budget {budget:.0f} s)"
    )
    return note, len(part), w, c, spans, other


def big_rss(text: str, mb: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "big.log")
        unit = text.encode()
        with open(path, "wb") as f:
            written = 0
            while written < mb * 1_000_000:
                f.write(unit)
                written += len(unit)
        # The CLI is started by a small wrapper process that reports its child's peak RSS: Linux carries the
        # high-water mark of the process image that exec replaces into ru_maxrss, so a child spawned straight
        # from this (large) process would report this process's peak, not the CLI's.
        wrapper = (
            "import resource, subprocess, sys; "
            "rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode; "
            "print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
        )
        t0 = time.perf_counter()
        p = subprocess.run(
            [sys.executable, "-c", wrapper, sys.executable, "-m", "toron", "scrub", path],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "TORON_PII_KEY": BENCH_KEY},
        )
        dt = time.perf_counter() - t0
        rc, kb = (int(x) for x in p.stdout.split())
        rss = kb / 1024
        if rc not in (0, 1):
            print(f"toron scrub failed ({rc})")
            return
        ok = "met" if rss < 100 else "NOT met"
        if mb < 1000:
            ok += " (the goal is for 1 GB)"
        print(
            f"memory: `toron scrub` of a {written / 1e6:.0f} MB file to /dev/null: peak RSS {rss:.1f} MiB, "
            f"{dt:.1f} s ({written / 1e6 / dt:.1f} MB/s wall, CLI start-up included)   goal < 100 MiB: {ok}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=float, default=20.0, help="corpus size in MB (default 20)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--budget", type=float, default=60.0, help="seconds each peer may take (default 60)")
    ap.add_argument("--big", action="store_true", help="also measure peak RSS scrubbing a 1 GB file")
    ap.add_argument("--big-mb", type=int, default=None, help="size of the --big file in MB (default 1000)")
    args = ap.parse_args()

    t0 = time.perf_counter()
    text, truth, decoys = make_corpus(int(args.mb * 1e6), args.seed)
    counts = Counter(t[0] for t in truth)
    print(
        f"== corpus: {len(text) / 1e6:.1f} MB, {text.count(chr(10)):,} lines, seed {args.seed}, "
        f"{len(truth):,} planted values, {len(decoys):,} look-alikes (generated in {time.perf_counter() - t0:.1f} s)"
    )
    print(f"   load average {os.getloadavg()[0]:.1f} (other builders share this machine)")
    print("   planted: " + ", ".join(f"{k} {counts[k]}" for k in KINDS))
    mb = len(text) / 1e6
    rows: list[tuple[str, str, int, float, float, Score, set[str]]] = []

    w, c, spans = run_toron_memory(text)
    rows.append(
        (
            "toron scrub(text)",
            "whole corpus, best of 3",
            len(text),
            w,
            c,
            Score(spans, truth, decoys, len(text)),
            set(KINDS),
        )
    )
    with tempfile.TemporaryDirectory() as tmp:
        w, c, spans = run_toron_stream(text, tmp)
        rows.append(
            (
                "toron stream file",
                "whole corpus, best of 3",
                len(text),
                w,
                c,
                Score(spans, truth, decoys, len(text)),
                set(KINDS),
            )
        )
        note, n, w, c, spans, other_sd = peer_prefix("scrubadub", text, args.budget, scrubadub_run)
        rows.append(
            (
                "scrubadub 2",
                note,
                n,
                w,
                c,
                Score(spans, truth, decoys, n),
                {"email", "phone", "card", "ssn", "token"},
            )
        )
        note, n, w, c, spans, _ = peer_prefix(
            "detect-secrets", text, args.budget, lambda t: detect_secrets_run(t, tmp)
        )
        rows.append(
            ("detect-secrets", note, n, w, c, Score(spans, truth, decoys, n), DETECT_SECRETS_SUPPORTED)
        )

    print("\nper kind: precision/recall/full-coverage recall (n/a: the tool has no detector for the kind)")
    print(f"{'tool':18} {'MB/s wall':>9} {'MB/s CPU':>9}  input")
    toron_rate = 0.0
    for name, note, size, w, c, _, _ in rows:
        if name == "toron scrub(text)":
            toron_rate = size / 1e6 / w
        ratio = "" if name.startswith("toron") else f"  toron is {toron_rate / (size / 1e6 / w):.0f}x faster"
        print(f"{name:18} {size / 1e6 / w:9.2f} {size / 1e6 / c:9.2f}  {note}{ratio}")
    print()
    width = 22
    print(f"{'kind':12} " + " ".join(f"{r[0]:>{width}}" for r in rows))
    for k in KINDS:
        print(f"{k:12} " + " ".join(f"{r[5].cell(k, k in r[6]):>{width}}" for r in rows))
    print(f"scrubadub findings of kinds Toron does not have: {dict(other_sd) or 'none'}")
    for name, _, _, _, _, score, _ in rows:
        if score.fp_on:
            print(
                f"{name} wrong findings (top 8): "
                + ", ".join(f"{k} {v}" for k, v in score.fp_on.most_common(8))
            )

    mem = rows[0][5]
    stream_rate = mb / rows[1][3]
    print("\ngoals (toron):")
    goal(
        f"end to end >= 50 MB/s per core: scrub(text) {toron_rate:.1f} MB/s, stream {stream_rate:.1f} MB/s",
        min(toron_rate, stream_rate) >= 50,
    )
    for k in ("card", "iban", "ssn"):
        n = mem.tp[k] + mem.fp[k]
        p = mem.tp[k] / n if n else 1.0
        goal(f"precision >= 0.999 on {k}: {p:.4f}", p >= 0.999)
    for k in KINDS:
        r = mem.found[k] / mem.planted[k] if mem.planted[k] else 1.0
        goal(f"recall >= 0.99 on {k}: {r:.4f}", r >= 0.99)
    for k in ("jwt", "private_key"):
        f = mem.full[k] / mem.planted[k] if mem.planted[k] else 1.0
        goal(f"whole {k} values covered: {f:.4f} of {mem.planted[k]}", f == 1.0)
    if args.big or args.big_mb:
        print()
        big_rss(text, args.big_mb or 1000)
    else:
        print("\n(peak memory on a 1 GB file: run with --big)")


def goal(what: str, met: bool) -> None:
    print(f"  {'met    ' if met else 'NOT met'}  {what}")


if __name__ == "__main__":
    main()
