"""The case cache: parsed, schema-valid case files kept by the digest of their bytes."""

import json
import os

import pytest

from conformance import cache
from conformance.cache import Cache
from conformance.yamlfile import YamlError, read_document

DOC = "title: cached\nlist:\n  - one\n  - two\n"


def entries(directory):
    return sorted(p for p in directory.rglob("*.json"))


def test_bytes_read_again_come_from_the_cache(tmp_path):
    store = Cache(tmp_path / "cache")
    path = tmp_path / "a.yaml"
    path.write_text(DOC)
    first = read_document(path, 1 << 20, cache=store)
    assert not first.cached and entries(tmp_path / "cache") == []  # the reader never stores
    store.put(first.digest, first.data)
    second = read_document(path, 1 << 20, cache=store)
    assert second.cached and second.data == first.data and second.digest == first.digest
    assert second.line(["list", 1]) == 4  # a line is still found, parsed when asked for


def test_changed_bytes_are_parsed_again(tmp_path):
    store = Cache(tmp_path / "cache")
    path = tmp_path / "a.yaml"
    path.write_text(DOC)
    store.put(read_document(path, 1 << 20).digest, {"title": "stale"})
    path.write_text(DOC.replace("two", "three"))
    again = read_document(path, 1 << 20, cache=store)
    assert not again.cached and again.data["list"] == ["one", "three"]


def test_an_entry_that_does_not_read_back_is_ignored(tmp_path):
    store = Cache(tmp_path / "cache")
    path = tmp_path / "a.yaml"
    path.write_text(DOC)
    digest = read_document(path, 1 << 20).digest
    store.put(digest, {"title": "kept"})
    [entry] = entries(tmp_path / "cache")
    entry.write_text("{not json")
    assert store.get(digest) is None
    assert not read_document(path, 1 << 20, cache=store).cached


@pytest.mark.parametrize("data", [{1: "an integer key"}, {"a": ("tuple",)}, {"a": {1, 2}}])
def test_data_json_would_change_is_not_kept(tmp_path, data):
    store = Cache(tmp_path / "cache")
    store.put(b"\x01" * 16, data)
    assert store.get(b"\x01" * 16) is None and entries(tmp_path / "cache") == []


def test_an_unwritable_cache_is_no_cache(tmp_path):
    blocked = tmp_path / "file-not-directory"
    blocked.write_text("")
    store = Cache(blocked)
    store.put(b"\x02" * 16, {"a": 1})  # no error
    assert store.get(b"\x02" * 16) is None and store.directory is None


def test_off_and_moved_by_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.ENVIRONMENT, "off")
    assert cache.location() is None and cache.cases().directory is None
    monkeypatch.setenv(cache.ENVIRONMENT, str(tmp_path / "here"))
    assert cache.cases().directory == tmp_path / "here" / cache.fingerprint()
    monkeypatch.delenv(cache.ENVIRONMENT)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.location() == tmp_path / "xdg" / "commonjs-conformance" / "cases"


def test_a_new_fingerprint_removes_the_caches_of_other_code(tmp_path):
    old = tmp_path / "0123456789abcdef"
    (old / "ab").mkdir(parents=True)
    (old / "ab" / "x.json").write_text("{}")
    unrelated = tmp_path / "notes"
    unrelated.mkdir()
    store = Cache(tmp_path)
    store.put(b"\x03" * 16, {"a": 1})
    assert not old.exists() and unrelated.exists()
    assert store.get(b"\x03" * 16) == {"a": 1}


def test_the_fingerprint_covers_the_schema(tmp_path):
    assert "schema/case.schema.json" in cache._DECIDERS and "yamlfile.py" in cache._DECIDERS
    assert len(cache.fingerprint()) == 16


def test_an_entry_is_written_whole(tmp_path):
    store = Cache(tmp_path)
    store.put(b"\x04" * 16, {"title": "x" * 1000})
    [entry] = entries(tmp_path)
    assert json.loads(entry.read_text()) == {"title": "x" * 1000}
    assert [p for p in entry.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_a_refused_file_is_still_refused_with_a_cache(tmp_path):
    store = Cache(tmp_path / "cache")
    path = tmp_path / "a.yaml"
    path.write_text("a: &x 1\nb: *x\n")
    with pytest.raises(YamlError, match="anchors and aliases"):
        read_document(path, 1 << 20, cache=store)
