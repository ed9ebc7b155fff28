"""The sandbox bank's terminal front: the demo's way to answer a run's file."""

from __future__ import annotations

import subprocess
import sys

import pytest

from collector.direct_debit.files import reading as parser
from collector.direct_debit.files.pain002 import StatusReport
from tests.support.bank import make_creditor, pain008_for
from tests.support.factories import make_collection


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sandbox.bank_cli", *args], capture_output=True, check=False
    )


@pytest.fixture
def pain008(app, tmp_path):
    make_creditor()
    collection = make_collection()
    path = tmp_path / "pain.008.xml"
    path.write_bytes(pain008_for(collection.run))
    return path, collection.end_to_end_id


def test_settle_return_and_reject_answer_the_file(pain008):
    path, e2e = pain008
    settled = run_cli("settle", str(path))
    assert settled.returncode == 0
    assert parser.parse(settled.stdout).kind == "camt.054"
    refund = run_cli("return", str(path), f"{e2e}=MD06")
    assert refund.returncode == 0 and b"MD06" in refund.stdout
    rejected = run_cli("reject", str(path), f"{e2e}=AM04")
    assert rejected.returncode == 0
    assert isinstance(parser.parse(rejected.stdout), StatusReport)


def test_a_return_without_codes_is_a_usage_error(pain008):
    path, _ = pain008
    answer = run_cli("return", str(path))
    assert answer.returncode == 2 and b"needs at least one" in answer.stderr
