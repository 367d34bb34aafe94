"""Print the cases of tests/vectors/linearizable.json as lines for tests/c/test_check.c.

C has no JSON parser, so mk/c.mk expands the vectors with this script (standard library only) into a file
the C test reads. One case per line, fields separated by one space; the history is `x` followed by the hex of
its UTF-8 JSON text:

    case NAME MODEL BUDGET EXPECT x<history>      (BUDGET 0: the default; EXPECT true, false or unknown)
"""

import json
import sys


def main(path: str) -> None:
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    if doc.get("version") != 1:
        sys.exit(f"{path}: unsupported version {doc.get('version')!r} (expected 1)")
    for i, case in enumerate(doc["cases"]):
        name = case["name"]
        if not isinstance(name, str) or not name or any(c.isspace() for c in name):
            sys.exit(f"{path}: cases[{i}].name: expected a name without spaces, got {name!r}")
        expect = {True: "true", False: "false", "unknown": "unknown"}.get(case["expect"])
        if expect is None:
            sys.exit(f"{path}: cases[{i}].expect: expected true, false or \"unknown\", got {case['expect']!r}")
        history = json.dumps(case["history"], ensure_ascii=False, allow_nan=False)
        budget = case.get("budget") or 0
        print(f"case {name} {case['model']} {budget} {expect} x{history.encode('utf-8').hex()}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: linear_vectors.py tests/vectors/linearizable.json")
    main(sys.argv[1])
