"""Content-addressed document storage on a folder."""

from __future__ import annotations

import hashlib
import os

import pytest

from collector.core.storage import DocumentStore, FolderStore, StoredDocumentMissing

PDF = b"%PDF-1.4\n% a small document\n%%EOF\n"
KEY = hashlib.sha256(PDF).hexdigest()
BAD_KEY = "a document key is 64 lowercase hex characters"


@pytest.fixture
def store(tmp_path) -> FolderStore:
    return FolderStore(tmp_path / "documents")


def test_folder_store_implements_the_protocol(store):
    assert isinstance(store, DocumentStore)


def test_put_returns_the_sha256_and_files_it_two_levels_deep(store, tmp_path):
    key = store.put(PDF)

    assert key == KEY
    path = tmp_path / "documents" / KEY[:2] / KEY[2:4] / KEY
    assert path.read_bytes() == PDF
    assert store.get(key) == PDF
    assert store.exists(key)
    assert store.size(key) == len(PDF)


def test_root_and_folders_are_created_on_demand(store, tmp_path):
    assert not (tmp_path / "documents").exists()

    store.put(PDF)

    assert sorted(p.name for p in (tmp_path / "documents").iterdir()) == [KEY[:2]]


def test_storing_the_same_content_twice_is_a_no_op(store):
    store.put(PDF)
    path = store.path(KEY)
    before = path.stat()

    assert store.put(PDF) == KEY

    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert os.listdir(path.parent) == [KEY]


def test_different_content_gets_a_different_key(store):
    other = store.put(PDF + b"\n")

    assert other != KEY
    assert store.get(other) == PDF + b"\n"
    assert not store.exists(KEY)


def test_no_temporary_file_is_left_behind(store):
    store.put(PDF)
    store.put(b"")  # an empty document is still a document

    files = sorted(p.name for p in store.root.rglob("*") if p.is_file())
    assert files == sorted([KEY, hashlib.sha256(b"").hexdigest()])


def test_a_failed_write_leaves_nothing_under_the_key(store, monkeypatch):
    def fail(fd):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", fail)

    with pytest.raises(OSError, match="disk full"):
        store.put(PDF)

    assert not store.exists(KEY)
    assert [p for p in store.root.rglob("*") if p.is_file()] == []


def test_a_missing_document_raises_stored_document_missing(store):
    with pytest.raises(StoredDocumentMissing) as raised:
        store.get(KEY)
    assert isinstance(raised.value, KeyError)
    with pytest.raises(StoredDocumentMissing):
        store.size(KEY)
    assert not store.exists(KEY)


@pytest.mark.parametrize(
    "key",
    [
        "",
        KEY.upper(),
        KEY[:-1],
        KEY + "0",
        KEY + "\n",
        "../" + KEY[3:],
        KEY[:2] + "/" + KEY[3:],
        "g" * 64,
        None,
    ],
)
def test_a_malformed_key_is_refused_before_touching_the_disk(store, key):
    store.put(PDF)

    with pytest.raises(ValueError, match=BAD_KEY):
        store.get(key)
    with pytest.raises(ValueError, match=BAD_KEY):
        store.exists(key)
    with pytest.raises(ValueError, match=BAD_KEY):
        store.size(key)


def test_a_key_cannot_reach_outside_the_root(tmp_path):
    secret = tmp_path / "secret"
    secret.write_bytes(b"not yours")
    store = FolderStore(tmp_path / "documents")

    with pytest.raises(ValueError, match=BAD_KEY):
        store.get("../../../secret")
