"""The landing page after login."""

from flask import Blueprint, render_template

from collector.documents.models import Customer, Invoice, Profile
from collector.extensions import db
from collector.runtime.models import JobRun
from collector.runtime.views import protect

bp = protect(Blueprint("home", __name__))


@bp.get("/")
def index():
    count = db.func.count()
    totals = {
        "profiles": db.session.scalar(db.select(count).select_from(Profile)),
        "customers": db.session.scalar(db.select(count).select_from(Customer)),
        "documents": db.session.scalar(db.select(count).select_from(Invoice)),
    }
    recent_jobs = db.session.scalars(
        db.select(JobRun).order_by(JobRun.created_at.desc()).limit(5)
    ).all()
    return render_template("home/index.html", totals=totals, recent_jobs=recent_jobs)
