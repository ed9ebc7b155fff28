"""/api/v1/profiles: list, get, create."""

from flask import jsonify, url_for

from collector.accounts.models.api_key import WRITE_PROFILES
from collector.api import bp, json_body, requires
from collector.api.schemas import ProfileSchema
from collector.documents import profiles
from collector.documents.models import Profile
from collector.extensions import db

schema = ProfileSchema()


@bp.get("/profiles")
def list_profiles():
    return jsonify(data=schema.dump(profiles.list_profiles(), many=True))


@bp.get("/profiles/<int:profile_id>")
def get_profile(profile_id: int):
    profile = db.get_or_404(Profile, profile_id, description="No profile with this id.")
    return jsonify(data=schema.dump(profile))


@bp.post("/profiles")
@requires(WRITE_PROFILES)
def create_profile():
    data = schema.load(json_body())
    profile = profiles.create_profile(data)
    response = jsonify(data=schema.dump(profile))
    response.headers["Location"] = url_for("api.get_profile", profile_id=profile.id)
    return response, 201
