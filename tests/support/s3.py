"""A local S3 server for the storage tests: moto's server mode, a real HTTP server on
loopback that boto3 talks to over the network exactly as it would to S3 (signed requests,
multipart uploads, 404s), started once per test session.

``s3_server`` is its address; ``s3_settings`` a fresh, empty bucket for one test (with a
prefix, as an operator sharing a bucket would set); ``s3_calls`` counts the API calls a
client makes, by operation name.

moto accepts any credentials (it does not check signatures): the tests give boto3 made-up
ones through the environment, the standard chain production uses too, and never read a
developer's own AWS files.
"""

from __future__ import annotations

import socket
import uuid
from collections import Counter

import pytest

from collector.core.object_store import S3Settings, make_client

HOST = "127.0.0.1"
REGION = "eu-west-1"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def s3_server():
    from moto.server import ThreadedMotoServer  # loaded by the tests that use it only

    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_ACCESS_KEY_ID", "collector-test-key")
        env.setenv("AWS_SECRET_ACCESS_KEY", "collector-test-secret")
        env.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
        env.setenv("AWS_CONFIG_FILE", "/nonexistent/config")
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_PROFILE"):
            env.delenv(name, raising=False)
        port = _free_port()
        server = ThreadedMotoServer(ip_address=HOST, port=port, verbose=False)
        server.start()
        try:
            yield f"http://{HOST}:{port}"
        finally:
            server.stop()


@pytest.fixture
def s3_settings(s3_server) -> S3Settings:
    """A new bucket in the local server, its objects under ``documents/``."""
    settings = S3Settings(
        bucket=f"collector-test-{uuid.uuid4().hex[:16]}",
        prefix="documents/",
        endpoint_url=s3_server,
        region=REGION,
    )
    make_client(settings).create_bucket(
        Bucket=settings.bucket, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    return settings


def bucket_names(settings: S3Settings) -> list[str]:
    """The name of every object in the bucket."""
    client = make_client(settings)
    listed = client.list_objects_v2(Bucket=settings.bucket)
    return sorted(item["Key"] for item in listed.get("Contents", []))


def count_calls(client) -> Counter:
    """A counter that ``client`` adds each API call it makes to, by operation name."""
    calls: Counter = Counter()

    def seen(model, **_kwargs):
        calls[model.name] += 1

    client.meta.events.register("before-call.s3", seen)
    return calls


def s3_config(settings: S3Settings) -> dict:
    """The app's settings for the bucket (STORAGE left to the caller)."""
    return {
        "S3_BUCKET": settings.bucket,
        "S3_PREFIX": settings.prefix,
        "S3_ENDPOINT_URL": settings.endpoint_url,
        "S3_REGION": settings.region,
    }


@pytest.fixture
def s3_app(app, s3_settings):
    """The app keeping its documents in the test's bucket (its config put back after)."""
    saved = dict(app.config)
    app.config.update(STORAGE="s3", **s3_config(s3_settings))
    yield app
    app.config.clear()
    app.config.update(saved)
