"""Content-addressed document storage: one protocol suite run against the folder store and
the S3 store (a real HTTP S3 server on loopback, tests/support/s3.py), then what is
particular to each."""

from __future__ import annotations

import hashlib
import io
import os

import pytest
from botocore.exceptions import ClientError

from collector.core.object_store import S3Settings, S3Store, make_client
from collector.core.storage import (
    ContentTooLarge,
    DocumentStore,
    FolderStore,
    StoredDocumentMissing,
    document_key,
)
from tests.support.s3 import bucket_names, count_calls

PDF = b"%PDF-1.4\n% a small document\n%%EOF\n"
KEY = hashlib.sha256(PDF).hexdigest()
BAD_KEY = "a document key is 64 lowercase hex characters"
MIB = 1024 * 1024


def stored_names(store) -> list[str]:
    """Everything the store holds, as its own names (files or objects)."""
    if isinstance(store, FolderStore):
        if not store.root.exists():
            return []
        return sorted(str(p.relative_to(store.root)) for p in store.root.rglob("*") if p.is_file())
    return bucket_names(store.settings)


@pytest.fixture(params=["folder", "s3"])
def store(request, tmp_path):
    if request.param == "folder":
        return FolderStore(tmp_path / "documents")
    return S3Store.from_settings(request.getfixturevalue("s3_settings"))


@pytest.fixture
def folder(tmp_path) -> FolderStore:
    return FolderStore(tmp_path / "documents")


@pytest.fixture
def bucket(s3_settings) -> S3Store:
    return S3Store.from_settings(s3_settings)


# -- the protocol, for both -----------------------------------------------------------------


def test_the_store_implements_the_protocol(store):
    assert isinstance(store, DocumentStore)


def test_put_returns_the_sha256_and_get_exists_size_answer(store):
    key = store.put(PDF)

    assert key == KEY
    assert store.get(key) == PDF
    assert store.exists(key)
    assert store.size(key) == len(PDF)
    with store.open(key) as file:
        assert file.read() == PDF


def test_storing_the_same_content_twice_keeps_one_document(store):
    store.put(PDF)
    before = stored_names(store)

    assert store.put(PDF) == KEY
    assert store.put_stream(io.BytesIO(PDF)) == (KEY, len(PDF))

    assert stored_names(store) == before and len(before) == 1


def test_different_content_gets_a_different_key(store):
    other = store.put(PDF + b"\n")

    assert other != KEY
    assert store.get(other) == PDF + b"\n"
    assert not store.exists(KEY)


def test_an_empty_document_is_still_a_document(store):
    key = store.put(b"")

    assert key == hashlib.sha256(b"").hexdigest()
    assert store.get(key) == b"" and store.size(key) == 0 and store.exists(key)


def test_a_missing_document_raises_stored_document_missing(store):
    with pytest.raises(StoredDocumentMissing) as raised:
        store.get(KEY)
    assert isinstance(raised.value, KeyError)
    with pytest.raises(StoredDocumentMissing):
        store.size(KEY)
    with pytest.raises(StoredDocumentMissing):
        store.open(KEY)
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
def test_a_malformed_key_is_refused_before_the_store_is_asked(store, key):
    store.put(PDF)
    calls = count_calls(store.client) if isinstance(store, S3Store) else {}

    for method in (store.get, store.exists, store.size, store.open):
        with pytest.raises(ValueError, match=BAD_KEY):
            method(key)

    assert sum(calls.values()) == 0


def test_a_stream_is_stored_under_its_sha256_read_in_chunks(store):
    content = b"customerNumber,mandateNumber\r\n" * 100_000  # 3 MB: several read chunks

    key, size = store.put_stream(io.BytesIO(content))

    assert (key, size) == (document_key(content), len(content))
    assert store.put(content) == key
    with store.open(key) as file:
        assert file.readline() == b"customerNumber,mandateNumber\r\n"
        assert file.read(10) == b"customerNu"
        assert file.tell() == 40
        assert len(file.read()) == len(content) - 40
        assert file.read() == b""


def test_an_open_document_can_be_read_again_from_anywhere(store):
    content = bytes(range(256)) * 12_000  # 3 MB: past one read buffer
    key = store.put(content)

    with store.open(key) as file:
        start = file.read(4)
        file.seek(0)  # as the mandates reader does after sniffing the first bytes
        assert file.read(4) == start == content[:4]
        file.seek(2_500_000)
        assert file.read(8) == content[2_500_000:2_500_008]
        assert file.tell() == 2_500_008
        file.seek(-3, os.SEEK_END)
        assert file.read() == content[-3:]
        file.seek(1)
        assert file.read() == content[1:]


def test_a_stream_past_the_limit_raises_and_keeps_nothing(store):
    with pytest.raises(ContentTooLarge) as raised:
        store.put_stream(io.BytesIO(b"x" * 5000), max_bytes=4999)

    assert raised.value.limit == 4999
    assert stored_names(store) == []
    assert store.put_stream(io.BytesIO(b"x" * 4999), max_bytes=4999)[1] == 4999


def test_a_failing_stream_keeps_nothing(store):
    class Broken(io.RawIOBase):
        def __init__(self):
            self.reads = 0

        def readable(self):
            return True

        def readinto(self, buffer):
            self.reads += 1
            if self.reads > 2:
                raise OSError("connection reset by the client")
            buffer[:4] = b"data"
            return 4

    with pytest.raises(OSError, match="connection reset"):
        store.put_stream(Broken())

    assert stored_names(store) == []


# -- the folder store -----------------------------------------------------------------------


def test_the_folder_store_files_documents_two_levels_deep(folder, tmp_path):
    assert not (tmp_path / "documents").exists()  # created on demand

    folder.put(PDF)

    path = tmp_path / "documents" / KEY[:2] / KEY[2:4] / KEY
    assert path.read_bytes() == PDF
    assert sorted(p.name for p in (tmp_path / "documents").iterdir()) == [KEY[:2]]


def test_a_second_put_does_not_rewrite_the_file(folder):
    folder.put(PDF)
    before = folder.path(KEY).stat()

    folder.put(PDF)

    after = folder.path(KEY).stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_a_failed_write_leaves_nothing_under_the_key(folder, monkeypatch):
    def fail(fd):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", fail)

    with pytest.raises(OSError, match="disk full"):
        folder.put(PDF)

    assert not folder.exists(KEY)
    assert [p for p in folder.root.rglob("*") if p.is_file()] == []


def test_a_key_cannot_reach_outside_the_root(tmp_path):
    secret = tmp_path / "secret"
    secret.write_bytes(b"not yours")
    store = FolderStore(tmp_path / "documents")

    with pytest.raises(ValueError, match=BAD_KEY):
        store.get("../../../secret")


def test_the_folder_lists_its_documents_and_nothing_else(folder):
    keys = {folder.put(PDF), folder.put(b"other")}
    (folder.root / ".incoming.abc").write_bytes(b"half an upload")
    (folder.root / KEY[:2] / KEY[2:4] / f".{KEY}.tmp").write_bytes(b"half a put")
    (folder.root / "notes.txt").write_text("an operator's")
    misplaced = folder.root / "00" / "00"
    misplaced.mkdir(parents=True)
    (misplaced / KEY).write_bytes(PDF)  # a valid name in the wrong folder

    assert set(folder.stored_keys()) == keys
    assert list(FolderStore(folder.root / "absent").stored_keys()) == []


# -- the S3 store ---------------------------------------------------------------------------


def test_objects_are_named_like_the_folder_under_the_prefix(bucket, s3_settings):
    bucket.put(PDF)

    assert bucket_names(s3_settings) == [f"documents/{KEY[:2]}/{KEY[2:4]}/{KEY}"]


@pytest.mark.parametrize(("prefix", "folder"), [("", ""), ("/a/b/", "a/b/"), ("c", "c/")])
def test_the_prefix_is_a_folder_whatever_its_slashes(prefix, folder):
    assert S3Settings(bucket="b", prefix=prefix).folder == folder


def test_a_document_already_in_the_bucket_is_not_sent_again(bucket):
    bucket.put(PDF)
    calls = count_calls(bucket.client)

    bucket.put(PDF)
    bucket.put_stream(io.BytesIO(PDF))

    assert calls == {"HeadObject": 2}


def test_a_refused_stream_sends_nothing_to_the_bucket(bucket):
    calls = count_calls(bucket.client)

    with pytest.raises(ContentTooLarge):
        bucket.put_stream(io.BytesIO(b"x" * (3 * MIB)), max_bytes=2 * MIB)

    assert calls == {}


def test_a_large_file_goes_up_in_parts(s3_settings):
    store = S3Store(make_client(s3_settings), s3_settings, multipart_bytes=5 * MIB)
    calls = count_calls(store.client)
    content = os.urandom(11 * MIB)

    key, size = store.put_stream(io.BytesIO(content))

    assert (key, size) == (document_key(content), len(content))
    assert calls["CreateMultipartUpload"] == 1 and calls["UploadPart"] == 3
    assert calls["CompleteMultipartUpload"] == 1 and calls["PutObject"] == 0
    head = store.client.head_object(Bucket=s3_settings.bucket, Key=store.name(key))
    assert head["ETag"].strip('"').endswith("-3")  # S3's mark of an object sent in 3 parts
    assert store.get(key) == content
    with store.open(key) as file:
        assert hashlib.file_digest(file, "sha256").hexdigest() == key


def test_a_small_file_goes_up_in_one_request(bucket):
    calls = count_calls(bucket.client)

    bucket.put(PDF)

    assert calls == {"HeadObject": 1, "PutObject": 1}


def test_a_wrong_bucket_is_an_error_not_a_missing_document(s3_settings):
    elsewhere = S3Settings(**{**s3_settings.__dict__, "bucket": "collector-no-such-bucket"})
    store = S3Store.from_settings(elsewhere)

    with pytest.raises(ClientError) as raised:
        store.get(KEY)
    assert raised.value.response["Error"]["Code"] == "NoSuchBucket"
    with pytest.raises(ClientError):
        store.put(PDF)


def test_a_closed_document_releases_its_connection(bucket):
    bucket.put(PDF)

    file = bucket.open(KEY)
    assert file.read(4) == b"%PDF"
    file.close()

    assert file.closed
    with pytest.raises(ValueError):
        file.read()
