"""Counts on the pages are written the reader's way, as money and dates are: "12.345" in
Dutch, "12 345" in French, "12,345" in English — in a plural sentence (``ngettext``) as in
a figure of its own (the ``number`` filter). ``data-*`` attributes keep plain digits."""

from __future__ import annotations

import re

import pytest
from flask import render_template_string

from collector.direct_debit.models import MandateUpload, MandateUploadStatus
from collector.extensions import db

READERS = {
    "nl-BE": r"12\.345",
    "fr-BE": r"12\s345",  # a narrow no-break space
    "en": r"12,345",
}


@pytest.mark.parametrize(("language", "written"), READERS.items())
def test_a_plural_sentence_writes_its_count_the_readers_way(app, language, written):
    template = '{{ ngettext("%(num)s document", "%(num)s documents", 12345) }}'
    with app.test_request_context(headers={"Accept-Language": language}):
        text = render_template_string(template)

    assert re.fullmatch(written + r" \w+", text), text


def test_a_plural_sentence_keeps_a_count_the_template_wrote_itself(app):
    template = '{{ ngettext("%(num)s byte", "%(num)s bytes", 12345, num="twelve thousand") }}'
    with app.test_request_context(headers={"Accept-Language": "nl-BE"}):
        assert render_template_string(template) == "twelve thousand bytes"


@pytest.mark.parametrize(("language", "written"), READERS.items())
def test_a_figure_is_written_the_readers_way(app, language, written):
    with app.test_request_context(headers={"Accept-Language": language}):
        assert re.fullmatch(written, render_template_string("{{ 12345 | number }}"))
        assert render_template_string("{{ none | number }}") == ""


@pytest.mark.parametrize(("language", "written"), READERS.items())
def test_a_mandates_upload_counts_its_rows_the_readers_way(admin_client, language, written):
    upload = MandateUpload(
        filename="m.csv",
        file_key="0" * 64,
        size=10,
        problems=[],
        status=MandateUploadStatus.READY,
        rows=12345,
        new_count=12345,
        unchanged_count=0,
        error_count=0,
        warning_count=0,
    )
    db.session.add(upload)
    db.session.commit()

    html = admin_client.get(
        f"/mandates/uploads/{upload.id}", headers={"Accept-Language": language}
    ).get_data(as_text=True)

    for name in ("rows", "new"):
        shown = re.search(rf'<dd data-count="{name}">([^<]*)</dd>', html).group(1)
        assert re.fullmatch(written, shown), (name, shown)
