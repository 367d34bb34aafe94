"""Structural diff, patch application and text diff from Python: the shared vectors, the patch property
(`apply_patch(old, diff(old, new).patch) == new`, including arrays with insertions, deletions and moves, and
keyed arrays), renderings, errors, and the GIL released while comparing."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from typing import Any, cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import toron
from conftest import REPO, child_env

VECTORS = json.loads((REPO / "tests" / "vectors" / "diff.json").read_text(encoding="utf-8"))
MAX_SAFE = 2**53 - 1


def same(a: Any, b: Any) -> bool:
    """Equal as JSON (numbers by value, `true` is not `1`): equal canonical bytes."""
    return toron.canonical(a) == toron.canonical(b)


@pytest.mark.parametrize("case", VECTORS["cases"], ids=lambda c: c["name"])
def test_vector_diff(case: dict[str, Any]) -> None:
    d = toron.diff(case["old"], case["new"], **case["options"])
    assert same(d.patch, case["patch"]), d.patch
    assert d.summary() == case["summary"]
    assert bool(d) == bool(case["patch"])
    assert d.coarse == case.get("coarse", False)
    if not {"ignore", "redact", "tolerance", "tolerances"} & set(case["options"]):
        assert same(toron.apply_patch(case["old"], d.patch), case["new"])


@pytest.mark.parametrize("case", VECTORS["apply"], ids=lambda c: c["name"])
def test_vector_apply(case: dict[str, Any]) -> None:
    before = json.dumps(case["doc"], sort_keys=True)
    if "error" in case:
        with pytest.raises(toron.PatchError) as info:
            toron.apply_patch(case["doc"], case["patch"])
        assert isinstance(info.value, ValueError)
        assert info.value.op_index == case["error"]["op_index"]
        assert info.value.path == case["error"]["path"]
    else:
        assert same(toron.apply_patch(case["doc"], case["patch"]), case["result"])
    assert json.dumps(case["doc"], sort_keys=True) == before, "the input must never change"


def test_insert_at_front_of_a_large_array_is_one_add() -> None:
    old = {"items": [{"id": i, "v": i * 2} for i in range(10_000)]}
    new = {"items": [{"id": -1, "v": 0}, *old["items"]]}
    d = toron.diff(old, new)
    assert d.patch == [{"op": "add", "path": "/items/0", "value": {"id": -1, "v": 0}}]
    assert len(d) == 1 and d.counts == {"changed": 0, "added": 1, "removed": 0, "moved": 0}


def test_options_keys_ignore_redact_tolerances() -> None:
    old = {"at": 1, "users": [{"id": "a", "n": 1.0, "token": "s1"}, {"id": "b", "n": 2, "token": "s2"}]}
    new = {"at": 2, "users": [{"id": "b", "n": 2, "token": "s2"}, {"id": "a", "n": 1.004, "token": "s3"}]}
    d = toron.diff(old, new, keys={"/users": "id"}, ignore=["/at"], redact=["/users/*/token"], tolerance=0.01)
    assert d.patch == [
        {"op": "move", "from": "/users/0", "path": "/users/1"},
    ]
    d = toron.diff(old, new, keys={"/users": "id"}, ignore=["/at"], redact=["/users/*/token"])
    assert "s3" not in d.render("text") and "s1" not in d.render("json")
    d = toron.diff([1.0, 100.0], [1.5, 104.0], tolerance={"rel": 0.05}, tolerances={"/0": {"abs": 1}})
    assert not d and d.summary() == "no differences"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"keys": {"items": "id"}}, 'keys["items"]'),
        ({"ignore": ["meta"]}, "ignore[0]"),
        ({"ignore": "/meta"}, "ignore"),
        ({"tolerance": -1}, "tolerance"),
        ({"tolerance": {"absolute": 1}}, "tolerance"),
    ],
)
def test_bad_options_are_invalid_argument_errors(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(toron.InvalidArgumentError) as info:
        toron.diff(1, 2, **kwargs)
    assert isinstance(info.value, ValueError)
    assert info.value.field == field, info.value


def test_values_json_cannot_carry_are_canonical_errors() -> None:
    with pytest.raises(toron.CanonicalError) as info:
        toron.diff({"a": [1.0]}, {"a": [float("nan")]})
    assert info.value.path == "/a/0"
    with pytest.raises(toron.CanonicalError) as info:
        toron.apply_patch({"a": 1}, [{"op": "add", "path": "/b", "value": 2**60}])
    assert info.value.path == "/0/value"


def test_patch_errors_name_the_operation_and_path_and_change_nothing() -> None:
    doc = {"items": [1, 2], "n": {"m": 1}}
    patch: list[dict[str, Any]] = [
        {"op": "add", "path": "/items/0", "value": 0},
        {"op": "replace", "path": "/n/m", "value": 2},
        {"op": "remove", "path": "/items/9"},
    ]
    with pytest.raises(toron.PatchError) as info:
        toron.apply_patch(doc, patch)
    assert (info.value.op_index, info.value.path) == (2, "/items/9")
    assert "operation 2" in str(info.value)
    assert doc == {"items": [1, 2], "n": {"m": 1}}
    with pytest.raises(toron.PatchError) as info:
        toron.apply_patch(doc, [{"op": "add", "path": "items", "value": 1}])
    assert (info.value.op_index, info.value.path) == (0, "items")
    with pytest.raises(toron.PatchError):
        toron.apply_patch(doc, cast(Any, {"op": "add"}))


def test_renderings() -> None:
    d = toron.diff({"a": "<b>", "n": 1, "gone": True}, {"a": "x", "n": 2, "new": [1]})
    assert d.summary() == "2 changed, 1 added, 1 removed"
    text = d.render("text")
    assert "/n: 1 -> 2" in text and "\x1b[" not in text
    assert "\x1b[" in d.render("color")
    html = d.render("html")
    assert "&lt;b&gt;" in html and "<b>" not in html
    machine = json.loads(d.render("json"))
    assert machine["summary"] == d.summary() and same(machine["patch"], d.patch)
    assert {c["op"] for c in d.changes} == {"replace", "add", "remove"}
    assert str(d) == text and "2 changed" in repr(d)
    with pytest.raises(toron.InvalidArgumentError):
        d.render("xml")  # type: ignore[arg-type]
    assert not toron.diff(1, 1.0) and toron.diff(True, 1)
    assert toron.diff([1], [2]) == toron.diff([1], [2])


def test_budget_makes_a_coarse_but_correct_patch() -> None:
    old = {"a": list(range(50)), "b": {"c": [1, 2, 3]}}
    new = {"a": list(range(1, 51)), "b": {"c": [3, 2, 1]}}
    d = toron.diff(old, new, budget=3)
    assert d.coarse and "coarse" in d.summary() and d.steps >= 3
    assert same(toron.apply_patch(old, d.patch), new)


# --- property: the patch turns old into new ---------------------------------------------------------------

leaves = (
    st.none()
    | st.booleans()
    | st.integers(-MAX_SAFE, MAX_SAFE)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet="ab~/é", max_size=3)
)
keys = st.text(alphabet="ab~/", max_size=3)
values = st.recursive(
    leaves,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=30,
)


@st.composite
def edited(draw: st.DrawFn, value: Any) -> Any:
    """A variant of `value`: leaves changed, members added and removed, array elements inserted, deleted and
    moved."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            action = draw(st.sampled_from(["keep", "keep", "edit", "drop"]))
            if action == "keep":
                out[k] = v
            elif action == "edit":
                out[k] = draw(edited(v))
        for k in draw(st.lists(keys, max_size=2)):
            out[k] = draw(values)
        return out
    if isinstance(value, list):
        items = [draw(edited(v)) if draw(st.booleans()) else v for v in value]
        for _ in range(draw(st.integers(0, 2))):
            op = draw(st.sampled_from(["insert", "delete", "move"]))
            if op == "insert":
                items.insert(draw(st.integers(0, len(items))), draw(values))
            elif items:
                i = draw(st.integers(0, len(items) - 1))
                item = items.pop(i)
                if op == "move":
                    items.insert(draw(st.integers(0, len(items))), item)
        return items
    return draw(values) if draw(st.booleans()) else value


@st.composite
def pairs(draw: st.DrawFn) -> tuple[Any, Any]:
    old = draw(values)
    return old, draw(edited(old))


@settings(max_examples=400, deadline=None)
@given(pairs())
def test_apply_patch_of_diff_gives_new(pair: tuple[Any, Any]) -> None:
    old, new = pair
    d = toron.diff(old, new)
    assert same(toron.apply_patch(old, d.patch), new), d.patch
    assert bool(d) == (not same(old, new))


@settings(max_examples=200, deadline=None)
@given(values, values)
def test_apply_patch_of_diff_gives_new_for_unrelated_values(old: Any, new: Any) -> None:
    assert same(toron.apply_patch(old, toron.diff(old, new).patch), new)


records = st.lists(
    st.fixed_dictionaries({"id": st.integers(0, 30), "v": st.integers(0, 3)}),
    max_size=12,
    unique_by=lambda r: r["id"],
)


@st.composite
def keyed_pairs(draw: st.DrawFn) -> tuple[Any, Any]:
    old = draw(records)
    new = [dict(r, v=draw(st.integers(0, 3))) if draw(st.booleans()) else r for r in old]
    new = draw(st.permutations(new))
    new = [r for r in new if draw(st.integers(0, 5))]
    taken = {r["id"] for r in new}
    for r in draw(records):
        if r["id"] not in taken:
            new.insert(draw(st.integers(0, len(new))), r)
            taken.add(r["id"])
    return {"items": old}, {"items": new}


@settings(max_examples=300, deadline=None)
@given(keyed_pairs())
def test_apply_patch_of_keyed_diff_gives_new(pair: tuple[Any, Any]) -> None:
    old, new = pair
    d = toron.diff(old, new, keys={"/items": "id"})
    assert same(toron.apply_patch(old, d.patch), new), d.patch


# --- text diff ---------------------------------------------------------------------------------------------


def test_text_diff_unified_and_renderings() -> None:
    d = toron.text_diff("a\nlet x = 1;\nc\n", "a\nlet x = 2;\nc\nd\n")
    assert d and d.counts == (2, 1) and not d.binary
    assert d.summary() == "2 lines added, 1 line removed"
    assert d.unified(1, "old.txt", "new.txt").startswith("--- old.txt\n+++ new.txt\n@@ ")
    assert d.unified() == d.unified_bytes().decode()
    assert "\x1b[7m" in d.render("color") and "<del" in d.render("html")
    assert json.loads(d.render("json"))["binary"] is False
    assert not toron.text_diff(b"same\n", "same\n")


def test_text_diff_bytes_fallback_and_algorithms() -> None:
    d = toron.text_diff(b"\xff\n", b"\xfe\n")
    assert d.binary and "-\\xff" in d.unified()
    assert d.unified_bytes() == b"--- a\n+++ b\n@@ -1 +1 @@\n-\xff\n+\xfe\n"
    old = "".join(f"{i}\n" for i in range(100))
    new = old.replace("50\n", "fifty\n")
    for algorithm in ("myers", "patience", "histogram"):
        assert toron.text_diff(old, new, algorithm=algorithm).counts == (1, 1)
    with pytest.raises(toron.InvalidArgumentError):
        toron.text_diff("a", "b", algorithm="fast")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        toron.text_diff(1, "b")  # type: ignore[arg-type]


def test_unified_output_is_applied_by_gnu_patch(tmp_path: Any) -> None:
    patch = subprocess.run(["which", "patch"], capture_output=True, text=True, check=False).stdout.strip()
    if not patch:
        pytest.skip("GNU patch is not installed")
    old = "".join(f"line {i}\n" for i in range(200))
    new = old.replace("line 10\n", "line ten\n").replace("line 150\n", "") + "tail"
    (tmp_path / "f.txt").write_text(old)
    (tmp_path / "p.diff").write_text(toron.text_diff(old, new).unified(3, "f.txt", "f.txt"))
    subprocess.run([patch, "-s", "f.txt", "p.diff"], cwd=tmp_path, check=True)
    assert (tmp_path / "f.txt").read_text() == new


def test_large_diffs_release_the_gil() -> None:
    old = "".join(f"line {i} of a long text\n" for i in range(400_000))
    new = "".join(f"line {i} of a long text\n" if i % 7 else f"changed {i}\n" for i in range(400_000))
    ticks = 0
    done = threading.Event()

    def work() -> None:
        toron.text_diff(old, new)
        done.set()

    t = threading.Thread(target=work)
    start = time.perf_counter()
    t.start()
    while not done.is_set():
        ticks += 1
        time.sleep(0.001)
    t.join()
    elapsed = time.perf_counter() - start
    # The comparison takes well over 20 ms; with the GIL held this loop could not have run meanwhile.
    assert elapsed < 0.02 or ticks >= 5, (elapsed, ticks)


def test_diff_example_runs() -> None:
    out = subprocess.run(
        [sys.executable, str(REPO / "examples" / "python" / "diff.py")],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert "2 changed, 1 added, 0 removed" in out.stdout
    assert '"op": "add"' in out.stdout and "\x1b[" in out.stdout
