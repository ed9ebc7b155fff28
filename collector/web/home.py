"""The landing page after login: the receivables dashboard (``web.dashboard``)."""

from flask import Blueprint, render_template, request

from collector.core import clock
from collector.core.errors import Invalid
from collector.runtime.views import protect
from collector.web import dashboard

bp = protect(Blueprint("home", __name__))


@bp.get("/")
def index():
    try:
        department_id = dashboard.parse_query(request.args)
    except Invalid as exc:
        return render_template("home/index.html", board=None, errors=exc.errors), 400
    board = dashboard.build(clock.local_today(), department_id)
    return render_template("home/index.html", board=board, errors={})
