"""Print the cases of tests/vectors/fixtures.json as command-line arguments for tests/c/test_fixtures.

C has no JSON parser, so mk/c.mk expands the vectors with this script (standard library only). Per case:
`SCHEMA SEED FORMAT DIGEST N` then N pairs `TABLE TABLE_DIGEST`.
"""

import json
import sys


def main(path: str) -> None:
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    if doc.get("version") != 1:
        sys.exit(f"{path}: unsupported version {doc.get('version')!r} (expected 1)")
    cases = doc.get("cases") or []
    if not cases:
        sys.exit(f"{path}: no cases")
    args = []
    for i, case in enumerate(cases):
        schema, seed, fmt, digest = case["schema"], case["seed"], case["format"], case["digest"]
        if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**64:
            sys.exit(f"{path}: cases[{i}].seed: expected an integer from 0 to 2^64-1, got {seed!r}")
        for what, text in (("schema", schema), ("format", fmt), ("digest", digest)):
            if not isinstance(text, str) or not text or any(c.isspace() for c in text):
                sys.exit(f"{path}: cases[{i}].{what}: expected text without spaces, got {text!r}")
        tables = case["tables"]
        args += [schema, str(seed), fmt, digest, str(len(tables))]
        for t in tables:
            args += [t["table"], t["digest"]]
    print(" ".join(args))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/vectors/fixtures.json")
