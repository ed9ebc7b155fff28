"""Documents in an S3-compatible bucket: the same content-addressed keys and the same
``DocumentStore`` protocol as the folder store, so web processes and workers on several
machines share one store and need nothing on their own disks.

An object's name is ``<prefix><k[:2]>/<k[2:4]>/<k>``: the folder store's layout, so a copy of
the folder (``flask --app collector storage copy-to-s3``, or any sync tool) lands where this
store reads. Credentials come from boto3's standard chain (environment, shared files,
instance or container role): never from our settings, so they are never in the
configuration we print or log. TLS certificates are always verified: the endpoint is an
operator's setting, and nothing here offers to turn verification off (a private CA is
given to boto3 through its own ``AWS_CA_BUNDLE``).
"""

from __future__ import annotations

import io
import tempfile
from dataclasses import dataclass
from typing import BinaryIO

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from collector.core.storage import StoredDocumentMissing, check_key, copy_hashing, document_key

# What S3 (and the compatible servers) answer for an object that is not there: NoSuchKey
# from GET, a bare 404 from HEAD, whose response has no body to name the error.
_MISSING = {"NoSuchKey", "404", "NotFound"}
# Uploads above this go up in parts of this size (boto3's transfer manager): a large
# mandates file is never one request of tens of megabytes, and a failed part is retried
# alone. S3's smallest part is 5 MiB.
MULTIPART_BYTES = 8 * 1024 * 1024
# A streamed upload is spooled to a local temporary file; up to this much stays in memory.
SPOOL_IN_MEMORY = 1024 * 1024
# How much of a document one read from the bucket asks for at a time.
READ_BUFFER = 1024 * 1024


@dataclass(frozen=True)
class S3Settings:
    bucket: str
    prefix: str = ""
    endpoint_url: str | None = None  # None: AWS itself
    region: str | None = None

    @property
    def folder(self) -> str:
        """The prefix as a folder: no leading slash, one trailing slash, or empty."""
        cleaned = self.prefix.strip("/")
        return f"{cleaned}/" if cleaned else ""


def make_client(settings: S3Settings, *, attempts: int = 5, timeout: float = 60):
    """A boto3 S3 client for ``settings``: credentials from the standard chain, TLS
    verified, bounded timeouts and retries."""
    config = Config(
        region_name=settings.region or None,
        connect_timeout=min(10, timeout),
        read_timeout=timeout,
        retries={"mode": "standard", "max_attempts": attempts},
        # Workers run several threads (the payment lane) and web processes several requests.
        max_pool_connections=20,
        # S3-compatible servers (MinIO, Ceph, moto) on their own host name are reached
        # path-style; AWS itself picks for us.
        s3={"addressing_style": "path" if settings.endpoint_url else "auto"},
    )
    session = boto3.session.Session()
    return session.client(
        "s3", endpoint_url=settings.endpoint_url or None, config=config, verify=True
    )


def bucket_problem(settings: S3Settings) -> str | None:
    """Why the bucket cannot be used, in a sentence without secrets, or None: one quick
    HeadBucket (``check-config`` and the readiness checks ask it)."""
    client = make_client(settings, attempts=1, timeout=5)
    try:
        client.head_bucket(Bucket=settings.bucket)
    except NoCredentialsError:
        return (
            "STORAGE=s3 finds no credentials: set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or give the host a role."
        )
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        why = {
            "404": "does not exist",
            "NoSuchBucket": "does not exist",
            "403": "refuses these credentials",
        }.get(code, f"answered {code or 'an error'}")
        return f"S3 bucket {settings.bucket} {why}."
    except BotoCoreError as exc:
        return f"S3 bucket {settings.bucket} cannot be reached: {type(exc).__name__}."
    return None


class S3Store:
    """``DocumentStore`` on a bucket. Thread-safe (boto3 clients are); build one per
    process, since a client's connections do not survive a fork."""

    def __init__(self, client, settings: S3Settings, *, multipart_bytes: int = MULTIPART_BYTES):
        self.client = client
        self.settings = settings
        self.bucket = settings.bucket
        self._transfer = TransferConfig(
            multipart_threshold=multipart_bytes, multipart_chunksize=multipart_bytes
        )

    @classmethod
    def from_settings(cls, settings: S3Settings) -> S3Store:
        return cls(make_client(settings), settings)

    def name(self, key: str) -> str:
        """The object name a key maps to; raise ValueError on a bad key."""
        check_key(key)
        return f"{self.settings.folder}{key[:2]}/{key[2:4]}/{key}"

    def put(self, content: bytes) -> str:
        """Store ``content`` (nothing is sent when it is already there) and return its key."""
        key = document_key(content)
        if not self.exists(key):
            self._upload(io.BytesIO(content), key)
        return key

    def get(self, key: str) -> bytes:
        """Return the document under ``key``; raise StoredDocumentMissing if absent."""
        with self.open(key) as file:
            return file.read()

    def exists(self, key: str) -> bool:
        """Whether a document is stored under ``key``."""
        try:
            self._head(key)
        except StoredDocumentMissing:
            return False
        return True

    def size(self, key: str) -> int:
        """Length in bytes of the document under ``key``; raise StoredDocumentMissing."""
        return int(self._head(key)["ContentLength"])

    def put_stream(self, stream: BinaryIO, max_bytes: int | None = None) -> tuple[str, int]:
        """Store what ``stream`` yields; return (key, size). Past ``max_bytes`` raise
        ContentTooLarge with nothing sent to the bucket.

        The key is the hash of the whole content, known only at the end, and a bucket has
        no rename: rather than upload under a temporary name, copy and delete (which needs
        the right to delete and leaves debris behind a crash), the bytes are spooled to a
        local temporary file while hashed and counted, then uploaded in parts under their
        key. Memory stays at one chunk; the disk holds at most ``max_bytes``."""
        with tempfile.SpooledTemporaryFile(SPOOL_IN_MEMORY, prefix="collector-upload-") as spool:
            digest, size = copy_hashing(stream, spool, max_bytes)
            key = digest.hexdigest()
            if not self.exists(key):
                spool.seek(0)
                self._upload(spool, key)
        return key, size

    def open(self, key: str) -> BinaryIO:
        """The document under ``key`` as a buffered binary file read from the bucket as
        it is consumed (seekable: a jump asks for the rest from there); the caller closes
        it. Raise StoredDocumentMissing if absent."""
        name = self.name(key)
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=name)
        except ClientError as exc:
            raise self._missing_or(exc, key) from None
        raw = _ObjectFile(self.client, self.bucket, name, answer)
        return io.BufferedReader(raw, buffer_size=READ_BUFFER)

    def _head(self, key: str) -> dict:
        name = self.name(key)
        try:
            return self.client.head_object(Bucket=self.bucket, Key=name)
        except ClientError as exc:
            raise self._missing_or(exc, key) from None

    def _upload(self, file: BinaryIO, key: str) -> None:
        # upload_fileobj sends one PUT below the threshold, parts above it, and aborts a
        # multipart upload that fails, so no half object appears under the key: S3 shows
        # an object only once it is complete.
        self.client.upload_fileobj(
            file,
            self.bucket,
            self.name(key),
            ExtraArgs={"ContentType": "application/octet-stream"},
            Config=self._transfer,
        )

    @staticmethod
    def _missing_or(exc: ClientError, key: str) -> Exception:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in _MISSING:
            return StoredDocumentMissing(key)
        return exc


class _ObjectFile(io.RawIOBase):
    """An object as a raw binary file, so ``io.BufferedReader`` gives the callers all a
    file has (read1, readline, iteration, tell, seek, a context manager). Reads continue
    the open response; a seek elsewhere drops it, and the next read asks for the bytes
    from there on (a Range request). Objects never change under their key (the key is
    the hash of their content), so the pieces always belong together."""

    def __init__(self, client, bucket: str, name: str, answer: dict) -> None:
        self._client, self._bucket, self._name = client, bucket, name
        self._body = answer["Body"]
        self._length = int(answer["ContentLength"])
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._length}
        target = base[whence] + offset
        if target < 0:
            raise ValueError("negative seek position")
        if target != self._position:
            self._drop_body()
            self._position = target
        return self._position

    def readinto(self, buffer) -> int:
        if self._position >= self._length:
            return 0
        if self._body is None:
            answer = self._client.get_object(
                Bucket=self._bucket, Key=self._name, Range=f"bytes={self._position}-"
            )
            self._body = answer["Body"]
        data = self._body.read(len(buffer))
        buffer[: len(data)] = data
        self._position += len(data)
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._drop_body()
        super().close()

    def _drop_body(self) -> None:
        if self._body is not None:
            self._body.close()
            self._body = None
