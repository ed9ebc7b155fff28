"""Document storage for PDFs, content-addressed: the key of a document is the SHA-256 of its
bytes, so storing the same PDF twice costs nothing and a key says nothing about its owner.

``DocumentStore`` is the interface the operations use; ``FolderStore`` keeps documents on a
local (or mounted) folder, ``collector.core.object_store.S3Store`` in an S3-compatible bucket
(``STORAGE=s3``), so web and workers on several machines share them.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable

# Exactly what ``hashlib.sha256().hexdigest()`` produces: the key becomes a file path, so
# nothing else (separators, dots, upper case) may pass.
_KEY = re.compile(r"[0-9a-f]{64}")
_PART = re.compile(r"[0-9a-f]{2}")
# How much of a streamed upload is read at a time.
STREAM_CHUNK = 1024 * 1024


class StoredDocumentMissing(KeyError):
    """No document is stored under this key."""


class ContentTooLarge(ValueError):
    """A streamed document passed the size limit it was stored with; nothing was kept."""

    def __init__(self, limit: int):
        super().__init__(f"larger than {limit} bytes")
        self.limit = limit


@runtime_checkable
class DocumentStore(Protocol):
    """Where downloaded documents live, addressed by the SHA-256 of their content."""

    def put(self, content: bytes) -> str:
        """Store ``content`` and return its key."""
        ...

    def get(self, key: str) -> bytes:
        """Return the document stored under ``key``; raise StoredDocumentMissing if absent."""
        ...

    def exists(self, key: str) -> bool:
        """Whether a document is stored under ``key``."""
        ...

    def size(self, key: str) -> int:
        """Length in bytes of the document under ``key``; raise StoredDocumentMissing."""
        ...

    def put_stream(self, stream: BinaryIO, max_bytes: int | None = None) -> tuple[str, int]:
        """Store what ``stream`` yields without holding it in memory; return (key, size).
        Raise ContentTooLarge, keeping nothing, past ``max_bytes``."""
        ...

    def open(self, key: str) -> BinaryIO:
        """The document under ``key`` as a binary file to read from; the caller closes it.
        Raise StoredDocumentMissing if absent."""
        ...


def document_key(content: bytes) -> str:
    """The key of ``content``: its SHA-256 as 64 lowercase hex characters."""
    return hashlib.sha256(content).hexdigest()


def copy_hashing(stream: BinaryIO, target: BinaryIO, max_bytes: int | None):
    """Copy ``stream`` into ``target`` in chunks, hashing and counting on the way; return
    (sha256 digest, size). Past ``max_bytes`` raise ContentTooLarge (the caller discards
    what ``target`` received)."""
    digest, size = hashlib.sha256(), 0
    while chunk := stream.read(STREAM_CHUNK):
        size += len(chunk)
        if max_bytes is not None and size > max_bytes:
            raise ContentTooLarge(max_bytes)
        digest.update(chunk)
        target.write(chunk)
    return digest, size


def check_key(key: str) -> str:
    """Return ``key`` if it is a well-formed key, else raise ValueError."""
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise ValueError("a document key is 64 lowercase hex characters")
    return key


class FolderStore:
    """Documents as files under ``root/<k[:2]>/<k[2:4]>/<k>``."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        """The file a key maps to (whether or not it exists); raise ValueError on a bad key."""
        check_key(key)
        # Two levels of 256 folders keep any one folder small at millions of documents.
        return self.root / key[:2] / key[2:4] / key

    def put(self, content: bytes) -> str:
        """Store ``content`` (a no-op if it is already stored) and return its key."""
        key = document_key(content)
        target = self.path(key)
        if target.exists():
            return key
        target.parent.mkdir(parents=True, exist_ok=True)
        self._write_atomically(target, content)
        return key

    def get(self, key: str) -> bytes:
        """Return the document under ``key``; raise StoredDocumentMissing if absent."""
        try:
            return self.path(key).read_bytes()
        except FileNotFoundError:
            raise StoredDocumentMissing(key) from None

    def exists(self, key: str) -> bool:
        """Whether a document is stored under ``key``."""
        return self.path(key).is_file()

    def size(self, key: str) -> int:
        """Length in bytes of the document under ``key``; raise StoredDocumentMissing."""
        try:
            return self.path(key).stat().st_size
        except FileNotFoundError:
            raise StoredDocumentMissing(key) from None

    def put_stream(self, stream: BinaryIO, max_bytes: int | None = None) -> tuple[str, int]:
        """Store what ``stream`` yields, read in chunks and hashed on the way, so a large
        upload never sits in memory; return (key, size). Past ``max_bytes`` raise
        ContentTooLarge and keep nothing."""
        self.root.mkdir(parents=True, exist_ok=True)
        # The key is only known at the end, so the bytes go to a temporary file beside
        # the folders first (a dot name: never a valid key), then move into place.
        fd, temporary = tempfile.mkstemp(dir=self.root, prefix=".incoming.")
        try:
            digest, size = self._copy_hashing(stream, fd, max_bytes)
            key = digest.hexdigest()
            target = self.path(key)
            if target.exists():
                Path(temporary).unlink()
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return key, size

    def open(self, key: str) -> BinaryIO:
        """The document under ``key`` opened for reading; raise StoredDocumentMissing."""
        try:
            return self.path(key).open("rb")
        except FileNotFoundError:
            raise StoredDocumentMissing(key) from None

    def stored_keys(self) -> Iterator[str]:
        """The key of every document stored here (temporary files and anything else that
        is not a document in its place left out), in no particular order."""
        if not self.root.is_dir():
            return
        for first in self.root.iterdir():
            if not (first.is_dir() and _PART.fullmatch(first.name)):
                continue
            for second in first.iterdir():
                if not (second.is_dir() and _PART.fullmatch(second.name)):
                    continue
                for file in second.iterdir():
                    name = file.name
                    placed = name[:2] == first.name and name[2:4] == second.name
                    if _KEY.fullmatch(name) and placed and file.is_file():
                        yield name

    @staticmethod
    def _copy_hashing(stream: BinaryIO, fd: int, max_bytes: int | None):
        with os.fdopen(fd, "wb") as file:
            digest, size = copy_hashing(stream, file, max_bytes)
            file.flush()
            os.fsync(file.fileno())
        return digest, size

    @staticmethod
    def _write_atomically(target: Path, content: bytes) -> None:
        """Write to a temporary file beside ``target``, then rename it into place."""
        # Readers see the whole file or none: a crash or a concurrent put (web and worker
        # storing the same PDF) never leaves a half-written document under a valid key. The
        # temporary name starts with a dot and is never a valid key, so it cannot be read.
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(content)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
