"""The run archive from Python: content-addressed objects verified on read, runs and manifests, and a
changed object reported by id and path."""

from __future__ import annotations

from pathlib import Path

import pytest

import toron

BIG = {"history": [{"op": "put", "key": f"k{i}", "value": i, "ok": True} for i in range(400)]}


@pytest.mark.parametrize("compress", [True, False])
def test_put_get_roundtrip_and_identity(tmp_path: Path, compress: bool) -> None:
    archive = toron.Archive(tmp_path / ".toron", compress=compress)
    for value in [{"a": [1, 2.5, None, "é"]}, BIG, 7, []]:
        oid = archive.put(value)
        assert oid == toron.digest(value) and len(oid) == 64
        assert archive.put(value) == oid, "idempotent"
        assert archive.contains(oid) and oid in archive
        assert toron.canonical(archive.get(oid)) == toron.canonical(value)
        assert Path(archive.object_path(oid)).is_file()
    assert archive.verify()["ok"]


@pytest.mark.parametrize("compress", [True, False])
def test_changed_object_is_an_archive_error_naming_id_and_path(tmp_path: Path, compress: bool) -> None:
    archive = toron.Archive(tmp_path / ".toron", compress=compress)
    oid = archive.put(BIG)
    path = Path(archive.object_path(oid))
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.chmod(0o644)
    path.write_bytes(bytes(data))
    with pytest.raises(toron.ArchiveError) as info:
        archive.get(oid)
    e = info.value
    assert e.file == str(path) and oid in str(e) and str(path) in str(e)
    report = archive.verify()
    assert not report["ok"]
    [problem] = report["problems"]
    assert (problem["kind"], problem["id"], problem["path"]) == ("corrupt_object", oid, str(path))
    # Putting the value again repairs it.
    assert archive.put(BIG) == oid
    assert archive.get(oid) == BIG and archive.verify()["ok"]


def test_missing_object_and_bad_ids(tmp_path: Path) -> None:
    archive = toron.Archive(tmp_path)
    with pytest.raises(toron.ArchiveError) as info:
        archive.get("ab" * 32)
    assert "ab" * 32 in str(info.value)
    for bad in ["../../etc/passwd", "AB" * 32, "ab"]:
        with pytest.raises(toron.InvalidArgumentError):
            archive.get(bad)
    with pytest.raises(toron.CanonicalError) as cinfo:
        archive.put({"x": [float("inf")]})
    assert cinfo.value.path == "/x/0"


def test_runs_and_manifests(tmp_path: Path) -> None:
    archive = toron.Archive(tmp_path / ".toron")
    assert archive.runs() == []
    run = archive.new_run({"profile": "offline"})
    assert run.tag.startswith(f"run-{toron.__version__}-")
    oid = run.add_case("kv/basic", {"ok": True}, scenario="kv", seed=42, meta={"note": "x"})
    run.add_case("mm1", BIG, seed=1)
    assert archive.runs() == [], "invisible until finished"
    manifest = run.finish()
    assert manifest["tag"] == run.tag and manifest["scenarios"] == ["kv"]
    assert manifest["cases"]["kv/basic"] == {
        "object": oid,
        "scenario": "kv",
        "seed": 42,
        "meta": {"note": "x"},
    }
    with pytest.raises(RuntimeError):
        run.add_case("late", 1)
    with archive.new_run() as second:
        second.add_case("mm1", BIG)
    assert second.tag != run.tag
    runs = archive.runs()
    assert {r["tag"] for r in runs} == {run.tag, second.tag}
    assert archive.manifest(run.tag) == manifest
    assert archive.output(run.tag, "mm1") == BIG
    with pytest.raises(toron.ArchiveError):
        archive.output(run.tag, "nope")
    report = archive.verify()
    assert report["ok"] and report["runs"] == 2 and report["objects"] == 2
    with pytest.raises(toron.InvalidArgumentError):
        archive.new_run().add_case("../x", 1)
