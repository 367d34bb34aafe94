"""Print the cases of tests/vectors/pii.json as lines for tests/c/test_pii.c (standard library only).

One case per line, fields separated by one space; every text field is `x` followed by the hex of its UTF-8
bytes:

    text NAME x<text> x<options> x<scrubbed> x<findings>
    json NAME x<document> x<options> x<scrubbed document> x<findings>

`options` is the options JSON of `toron_pii_scrub_text` / `_json` (`kinds`, `allow`, `key`); `findings` the
JSON array of `{"kind", "location", "placeholder"}` the call must write. The C side compares JSON as
canonical text produced by the library (`toron_canonical_json`).
"""

import json
import sys


def x(text: str) -> str:
    return "x" + text.encode("utf-8").hex()


def j(value: object) -> str:
    return x(json.dumps(value, ensure_ascii=False, allow_nan=False))


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as f:
        vectors = json.load(f)
    for case in vectors["cases"]:
        name = case["name"]
        options = {"kinds": case["kinds"], "allow": case["allow"], "key": case["key"]}
        if "text" in case:
            print("text", name, x(case["text"]), j(options), x(case["scrubbed"]), j(case["findings"]))
        else:
            print("json", name, j(case["value"]), j(options), j(case["scrubbed"]), j(case["findings"]))


if __name__ == "__main__":
    main()
