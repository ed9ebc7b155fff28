"""Choosing the store by settings (STORAGE, S3_*), production's checks of them, and
``flask --app collector storage copy-to-s3``: a folder store moved into a bucket, counted,
safe to run twice and to resume."""

from __future__ import annotations

import hashlib

import pytest

from collector import config
from collector.core.object_store import S3Store
from collector.core.storage import FolderStore
from collector.runtime import setup as runtime_setup
from tests.support.s3 import bucket_names, count_calls, s3_config

DOCS = [b"%PDF-1.4 first", b"%PDF-1.4 second", b"customerNumber,mandateNumber\r\n"]


def key_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


# -- choosing the store ---------------------------------------------------------------------


def test_the_folder_store_is_the_default(app):
    assert config.load({})["STORAGE"] == "folder"
    store = runtime_setup.document_store(app)
    assert isinstance(store, FolderStore)
    assert str(store.root) == app.config["DOCUMENT_STORAGE"]


def test_storage_s3_gives_one_bucket_store_per_process(s3_app, s3_settings):
    store = runtime_setup.document_store(s3_app)

    assert isinstance(store, S3Store) and store.settings == s3_settings
    assert runtime_setup.document_store(s3_app) is store  # its client and connections kept
    key = store.put(b"shared")
    assert bucket_names(s3_settings) == [f"documents/{key[:2]}/{key[2:4]}/{key}"]


def test_an_unknown_storage_is_refused(app):
    app.config["STORAGE"] = "ftp"
    try:
        with pytest.raises(ValueError, match="STORAGE must be one of folder, s3, not 'ftp'"):
            runtime_setup.document_store(app)
    finally:
        app.config["STORAGE"] = "folder"


@pytest.mark.parametrize(
    ("settings", "problems"),
    [
        ({"STORAGE": "folder"}, []),
        ({"STORAGE": "s3", "S3_BUCKET": "docs"}, []),
        ({"STORAGE": "s3", "S3_BUCKET": " "}, ["STORAGE=s3 needs S3_BUCKET"]),
        ({"STORAGE": "disk"}, ["STORAGE (disk) must be folder or s3."]),
        (
            {"STORAGE": "s3", "S3_BUCKET": "d", "S3_ENDPOINT_URL": "https://s3.example.net"},
            [],
        ),
        (
            {"STORAGE": "s3", "S3_BUCKET": "d", "S3_ENDPOINT_URL": "http://s3.example.net"},
            ["S3_ENDPOINT_URL (http://s3.example.net) must be an https:// address"],
        ),
        ({"STORAGE": "s3", "S3_BUCKET": "d", "S3_ENDPOINT_URL": "http://127.0.0.1:9000"}, []),
        ({"STORAGE": "s3"}, ["STORAGE=s3 needs S3_BUCKET"]),
    ],
)
def test_production_checks_the_storage_settings(settings, problems):
    found = config.storage_problems(settings)

    assert len(found) == len(problems)
    for problem, expected in zip(found, problems, strict=True):
        assert problem.startswith(expected)


def test_production_refuses_to_start_on_s3_without_a_bucket(tmp_root):
    from tests.test_production_config import production, refusal

    message = refusal(production(tmp_root, STORAGE="s3"))

    assert "STORAGE=s3 needs S3_BUCKET" in message


# -- copy-to-s3 -----------------------------------------------------------------------------


@pytest.fixture
def folder(app, tmp_path):
    store = FolderStore(tmp_path / "documents")
    for content in DOCS:
        store.put(content)
    return store


def copy(app, folder, *args):
    runner = app.test_cli_runner()
    return runner.invoke(args=["storage", "copy-to-s3", "--source", str(folder.root), *args])


@pytest.fixture
def s3_configured(app, s3_settings):
    """The S3_* settings given while STORAGE is still folder: the migration's first step."""
    saved = dict(app.config)
    app.config.update(s3_config(s3_settings))
    yield app
    app.config.clear()
    app.config.update(saved)


def test_copy_to_s3_copies_every_document_once(s3_configured, s3_settings, folder):
    result = copy(s3_configured, folder)

    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "3 copied, 0 already there, 0 damaged"
    names = [f"documents/{k[:2]}/{k[2:4]}/{k}" for k in map(key_of, DOCS)]
    assert bucket_names(s3_settings) == sorted(names)
    bucket = S3Store.from_settings(s3_settings)
    assert [bucket.get(key_of(c)) for c in DOCS] == DOCS

    again = copy(s3_configured, folder)

    assert again.exit_code == 0
    assert again.stdout.strip() == "0 copied, 3 already there, 0 damaged"
    assert bucket_names(s3_settings) == sorted(names)


def test_an_interrupted_copy_resumes_where_it_stopped(
    s3_configured, s3_settings, folder, monkeypatch
):
    bucket = S3Store.from_settings(s3_settings)
    bucket.put(DOCS[1])  # what a first, interrupted run had sent
    calls = count_calls(runtime_setup.s3_store(s3_configured, s3_settings).client)

    result = copy(s3_configured, folder)

    assert result.stdout.strip() == "2 copied, 1 already there, 0 damaged"
    assert calls["PutObject"] == 2
    assert folder.exists(key_of(DOCS[0]))  # nothing is taken from the folder


def test_a_damaged_file_is_reported_not_copied_under_its_name(s3_configured, s3_settings, folder):
    damaged = folder.path(key_of(DOCS[0]))
    damaged.write_bytes(b"bit rot")
    (folder.root / ".incoming.x").write_bytes(b"half an upload")

    result = copy(s3_configured, folder)

    assert result.exit_code == 1
    assert result.stdout.strip() == "2 copied, 0 already there, 1 damaged"
    assert f"damaged (content does not match its name, not copied): {damaged.name}" in (
        result.stderr
    )
    bucket = S3Store.from_settings(s3_settings)
    assert not bucket.exists(key_of(DOCS[0]))


def test_copy_to_s3_asks_for_the_bucket_first(app, folder):
    result = copy(app, folder)

    assert result.exit_code == 1
    assert "S3_BUCKET is not set: set the S3_* settings first." in result.output


# -- is the store usable? (check-config) ----------------------------------------------------


def test_a_reachable_bucket_and_a_writable_folder_are_no_problem(app, s3_app):
    assert runtime_setup.storage_problem(s3_app) is None
    s3_app.config["STORAGE"] = "folder"
    assert runtime_setup.storage_problem(s3_app) is None


def test_a_missing_bucket_or_an_unreachable_service_is_said_without_secrets(s3_app, s3_settings):
    s3_app.config["S3_BUCKET"] = "collector-no-such-bucket"
    assert runtime_setup.storage_problem(s3_app) == (
        "S3 bucket collector-no-such-bucket does not exist."
    )
    result = s3_app.test_cli_runner().invoke(args=["check-config"])
    assert result.exit_code == 1
    assert "warning: S3 bucket collector-no-such-bucket does not exist." in result.output
    assert "collector-test-secret" not in result.output

    s3_app.config.update(S3_BUCKET=s3_settings.bucket, S3_ENDPOINT_URL=closed_port_url())
    problem = runtime_setup.storage_problem(s3_app)
    assert problem == (
        f"S3 bucket {s3_settings.bucket} cannot be reached: EndpointConnectionError."
    )

    s3_app.config["S3_BUCKET"] = ""
    assert runtime_setup.storage_problem(s3_app) == "STORAGE=s3: S3_BUCKET is not set."


def closed_port_url() -> str:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"
