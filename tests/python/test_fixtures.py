"""toron.Dataset: the vectors of tests/vectors/fixtures.json reproduced from Python (same digests, same first
rows as Rust and C), rows and columns, written files, and bad schemas raising DatasetError with file, line
and field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import toron
from conftest import REPO

VECTORS = json.loads((REPO / "tests" / "vectors" / "fixtures.json").read_text(encoding="utf-8"))
CASES: list[dict[str, Any]] = VECTORS["cases"]
EXAMPLE = REPO / "examples" / "datasets" / "customers.toml"


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_vectors(case: dict[str, Any], tmp_path: Path) -> None:
    d = toron.Dataset.from_file(REPO / case["schema"])
    seed, fmt = case["seed"], case["format"]
    assert d.digest(seed, fmt) == case["digest"]
    summary = d.write(tmp_path, seed=seed, format=fmt)
    assert summary["digest"] == case["digest"]
    for got, want in zip(summary["tables"], case["tables"]):
        assert got["table"] == want["table"] and got["rows"] == want["rows"]
        assert got["digest"] == want["digest"]
        data = Path(got["path"]).read_bytes()
        assert len(data) == want["bytes"] == got["bytes"]
        assert d.dump(want["table"], seed, fmt) == data
        assert d.rows(want["table"], seed)[: len(want["first"])] == want["first"]


def test_rows_and_columns_agree() -> None:
    d = toron.Dataset.from_file(EXAMPLE)
    assert d.tables == ["customers", "orders"]
    assert d.info()[0]["rows"] == 1000
    rows = d.rows("orders", seed=5)
    cols = d.columns("orders", seed=5)
    assert len(rows) == 5000
    assert list(rows[0]) == d.info()[1]["fields"] == list(cols)
    for name, values in cols.items():
        assert values == [r[name] for r in rows]
    ids = {r["id"] for r in d.rows("customers", seed=5)}
    assert {r["customer"] for r in rows} <= ids
    assert d.rows("orders", seed=5) == rows
    assert d.rows("orders", seed=6) != rows


def test_jsonl_lines_are_the_rows() -> None:
    d = toron.Dataset.from_file(EXAMPLE)
    lines = d.dump("customers", 3, "jsonl").decode().splitlines()
    assert [json.loads(line) for line in lines] == d.rows("customers", 3)
    csv_lines = d.dump("customers", 3, "csv").decode().split("\r\n")
    assert csv_lines[0] == ",".join(d.info()[0]["fields"])
    assert len(csv_lines) == 1000 + 2 and csv_lines[-1] == ""


def test_from_dict_and_from_str() -> None:
    schema = {"version": 1, "table": [{"name": "t", "rows": 3, "field": [{"name": "n", "kind": "seq"}]}]}
    d = toron.Dataset.from_dict(schema)
    assert d.rows("t") == [{"n": 1}, {"n": 2}, {"n": 3}]
    assert toron.Dataset.from_str(json.dumps(schema), "json").digest() == d.digest()
    assert d.file is None
    assert "t(3 rows)" in repr(d)


def test_bad_schema_names_file_line_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(EXAMPLE.read_text().replace('table = "customers"', 'table = "custmers"'))
    with pytest.raises(toron.DatasetError) as e:
        toron.Dataset.from_file(bad)
    assert isinstance(e.value, ValueError)
    assert e.value.file == str(bad)
    assert e.value.field == "table[1].field[1].table"
    assert e.value.line is not None and e.value.line > 1
    assert 'unknown table "custmers" (expected one of: customers)' in str(e.value)
    with pytest.raises(toron.DatasetError) as e:
        toron.Dataset.from_dict({"version": 1, "table": [], "extra": 1})
    assert "extra" in str(e.value)
    with pytest.raises(toron.DatasetError):
        toron.Dataset.from_dict(
            {"version": 1, "table": [{"name": "t", "rows": 1, "field": [{"name": "x", "kind": "nope"}]}]}
        )
    with pytest.raises(toron.DatasetError):
        toron.Dataset.from_dict({"version": object()})
    with pytest.raises(toron.IoError):
        toron.Dataset.from_file(tmp_path / "missing.toml")
    d = toron.Dataset.from_file(EXAMPLE)
    with pytest.raises(toron.DatasetError, match="unknown table"):
        d.rows("nope")
    with pytest.raises(toron.InvalidArgumentError):
        d.digest(0, "xml")  # type: ignore[arg-type]


def test_unique_exhaustion_is_a_dataset_error() -> None:
    d = toron.Dataset.from_dict(
        {
            "version": 1,
            "table": [{"name": "t", "rows": 500, "field": [{"name": "c", "kind": "city", "unique": True}]}],
        }
    )
    with pytest.raises(toron.DatasetError) as e:
        d.rows("t")
    assert e.value.field == "table[0].field[0]"
