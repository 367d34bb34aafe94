"""Print the cases of tests/vectors/canon.json and tests/vectors/diff.json as lines for the C tests.

C has no JSON parser, so mk/c.mk expands the vectors with this script (standard library only) into a file
that tests/c/test_diff.c and tests/c/test_diff.cc read. One case per line, fields separated by one space;
every text field is `x` followed by the hex of its UTF-8 bytes (so any text, newlines included, survives):

    canon NAME x<input> x<canonical> DIGEST
    canon_error NAME x<input> STATUS PATH LINE COLUMN        (PATH `-` when none, COLUMN 0 when none)
    diff NAME x<old> x<new> x<options> x<patch> x<summary> COARSE EXACT
    apply NAME x<doc> x<patch> x<result>
    apply_error NAME x<doc> x<patch> OP_INDEX PATH

Canon inputs are passed as the vector's exact text; JSON values (diff and apply cases) are re-encoded by
`json.dumps`, which keeps every number's value. The C side compares JSON results as canonical text produced
by the library (`toron_canonical_json`), so key order and number spelling do not matter.
"""

import json
import sys

STATUS = {"canonical": "TORON_CANONICAL_ERROR", "json": "TORON_JSON_ERROR"}


def x(text: str) -> str:
    return "x" + text.encode("utf-8").hex()


def j(value: object) -> str:
    return x(json.dumps(value, ensure_ascii=False, allow_nan=False))


def name_of(path: str, where: str, case: dict) -> str:
    name = case.get("name")
    if not isinstance(name, str) or not name or any(c.isspace() for c in name):
        sys.exit(f"{path}: {where}.name: expected a name without spaces, got {name!r}")
    return name


def load(path: str) -> dict:
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    if doc.get("version") != 1:
        sys.exit(f"{path}: unsupported version {doc.get('version')!r} (expected 1)")
    return doc


def main(canon_path: str, diff_path: str) -> None:
    lines = []
    canon = load(canon_path)
    for i, case in enumerate(canon.get("cases") or []):
        name = name_of(canon_path, f"cases[{i}]", case)
        digest = case["digest"]
        if not isinstance(digest, str) or len(digest) != 64:
            sys.exit(f"{canon_path}: cases[{i}].digest: expected 64 hex characters, got {digest!r}")
        lines.append(f"canon {name} {x(case['input'])} {x(case['canonical'])} {digest}")
    for i, case in enumerate(canon.get("errors") or []):
        name = name_of(canon_path, f"errors[{i}]", case)
        status = STATUS.get(case["kind"])
        if status is None:
            sys.exit(f"{canon_path}: errors[{i}].kind: unknown kind {case['kind']!r} (expected one of {sorted(STATUS)})")
        path = case.get("path") or "-"
        lines.append(
            f"canon_error {name} {x(case['input'])} {status} {path} {int(case.get('line', 0))} {int(case.get('column', 0))}"
        )
    diff = load(diff_path)
    for i, case in enumerate(diff.get("cases") or []):
        name = name_of(diff_path, f"cases[{i}]", case)
        options = case.get("options") or {}
        exact = not any(options.get(k) for k in ("ignore", "redact", "tolerance", "tolerances"))
        coarse = bool(case.get("coarse", False))
        lines.append(
            f"diff {name} {j(case['old'])} {j(case['new'])} {j(options)} {j(case['patch'])} {x(case['summary'])} "
            f"{int(coarse)} {int(exact)}"
        )
    for i, case in enumerate(diff.get("apply") or []):
        name = name_of(diff_path, f"apply[{i}]", case)
        if "error" in case:
            err = case["error"]
            path = err.get("path") or "-"
            lines.append(f"apply_error {name} {j(case['doc'])} {j(case['patch'])} {int(err['op_index'])} {path}")
        else:
            lines.append(f"apply {name} {j(case['doc'])} {j(case['patch'])} {j(case['result'])}")
    kinds = {line.split(" ", 1)[0] for line in lines}
    for kind in ("canon", "canon_error", "diff", "apply", "apply_error"):
        if kind not in kinds:
            sys.exit(f"no {kind} cases in {canon_path} and {diff_path}")
    print("\n".join(lines))


if __name__ == "__main__":
    args = sys.argv[1:] or ["tests/vectors/canon.json", "tests/vectors/diff.json"]
    if len(args) != 2:
        sys.exit("usage: diff_vectors.py CANON_JSON DIFF_JSON")
    main(*args)
