"""Print the cases of tests/vectors/sim.json as command-line arguments: `scenario seed digest violations` per case.

C has no JSON parser, so mk/c.mk expands the vectors with this script (standard library only) and passes them
to tests/c/test_sim and tests/c/test_sim_cc.
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
        scenario, seed, digest = case["scenario"], case["seed"], case["digest"]
        if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**64:
            sys.exit(f"{path}: cases[{i}].seed: expected an integer from 0 to 2^64-1, got {seed!r}")
        if not isinstance(scenario, str) or not scenario or any(c.isspace() for c in scenario):
            sys.exit(f"{path}: cases[{i}].scenario: expected a repo-relative path without spaces, got {scenario!r}")
        if not isinstance(digest, str) or len(digest) != 64:
            sys.exit(f"{path}: cases[{i}].digest: expected 64 hex characters, got {digest!r}")
        violations = case.get("violations", 0)
        if not isinstance(violations, int) or isinstance(violations, bool) or violations < 0:
            sys.exit(f"{path}: cases[{i}].violations: expected a count, got {violations!r}")
        args += [scenario, str(seed), digest, str(violations)]
    print(" ".join(args))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/vectors/sim.json")
