"""What the direct-debit lists share: the query string parsed once, a page with its totals,
sort links that keep the filter, and the filtered list streamed as a CSV download."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping

from flask import Response, abort, render_template, request, stream_with_context

from collector.core import clock
from collector.core.errors import Invalid
from collector.direct_debit.exports import CSV_MIMETYPE
from collector.runtime.views import list_args


def worked_list(
    template: str,
    parse: Callable[[Mapping[str, str]], dict],
    search: Callable[..., tuple],
    default_sort: str,
    **context,
):
    """The list page: ``search(**parse(request.args))`` as ``result`` and ``totals``; a
    filter it refuses renders the form with its ``errors`` and a 400."""
    try:
        args = parse(request.args)
    except Invalid as exc:
        page = _render(template, None, None, default_sort, exc.errors, context)
        return page, 400
    result, totals = search(**args)
    return _render(template, result, totals, args["sort"], {}, context), 200


def _render(template, result, totals, sort: str, errors: dict, context: dict) -> str:
    query = list_args()
    return render_template(
        template,
        result=result,
        totals=totals,
        errors=errors,
        values=request.args,
        query=query,
        # A header link sorts the whole list again: first page, every filter kept.
        sort_query={k: v for k, v in query.items() if k != "sort"},
        sort=sort,
        **context,
    )


def csv_download(
    parse: Callable[[Mapping[str, str]], dict],
    rows: Callable[..., Iterable],
    write: Callable[[Iterable], Iterator[str]],
    name: str,
) -> Response:
    """The filtered, sorted list, every page of it, as a CSV file streamed to the browser."""
    try:
        args = parse(request.args)
    except Invalid as exc:
        abort(400, "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in exc.errors.items()))
    found = rows(args["criteria"], args["sort"])
    # stream_with_context keeps the request (the session, the reader's language) open
    # while the body is sent.
    response = Response(stream_with_context(write(found)), mimetype=CSV_MIMETYPE)
    filename = f"{name}-{clock.local_today().isoformat()}.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
