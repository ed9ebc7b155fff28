"""/api/v1/imports: start an import of a date range, follow it, resume it."""

from flask import jsonify, url_for

from collector.accounts.models.api_key import WRITE_IMPORTS
from collector.api import bp, json_body, requires
from collector.api.schemas import ImportRequestSchema, ImportSchema
from collector.extensions import db
from collector.teamleader import imports
from collector.teamleader import jobs as teamleader_jobs
from collector.teamleader.models import DocumentImport, ImportSource

request_schema = ImportRequestSchema()
schema = ImportSchema()


@bp.post("/imports")
@requires(WRITE_IMPORTS)
def start_import():
    data = request_schema.load(json_body())
    imp = imports.create_import(ImportSource.API, **data)
    teamleader_jobs.start_import(imp)
    response = jsonify(data=schema.dump(imp))
    response.headers["Location"] = url_for("api.get_import", import_id=imp.id)
    return response, 202


@bp.get("/imports/<int:import_id>")
def get_import(import_id: int):
    imp = db.get_or_404(DocumentImport, import_id, description="No import with this id.")
    return jsonify(data=schema.dump(imp))


@bp.post("/imports/<int:import_id>/resume")
@requires(WRITE_IMPORTS)
def resume_import(import_id: int):
    imp = db.get_or_404(DocumentImport, import_id, description="No import with this id.")
    teamleader_jobs.start_import(imports.resume_import(imp))
    response = jsonify(data=schema.dump(imp))
    response.headers["Location"] = url_for("api.get_import", import_id=imp.id)
    return response, 202
