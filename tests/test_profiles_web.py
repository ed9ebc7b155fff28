"""The profiles screen: login required, CSRF on every form, viewers read only."""

from collector.documents.models import Customer, CustomerKind, Profile
from collector.extensions import db
from tests.conftest import csrf_token

VALID = {
    "name": "Direct debit",
    "allow_direct_debit": "y",
    "allow_bank_transfer": "y",
    "send_invitation_on_import": "y",
}


def post_form(client, path, data, form_path=None):
    token = csrf_token(client, form_path or path)
    return client.post(path, data={**data, "csrf_token": token})


def profiles():
    return db.session.scalars(db.select(Profile)).all()


def test_anonymous_is_sent_to_login(client, app):
    response = client.get("/profiles/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_admin_creates_a_profile(admin_client):
    response = post_form(admin_client, "/profiles/new", VALID)
    assert response.status_code == 302
    [profile] = profiles()
    assert profile.name == "Direct debit"
    assert profile.payment_methods == ["direct_debit", "bank_transfer"]
    assert profile.send_invitation_on_import and not profile.invitation_requires_pdf
    assert profile.dunning_steps == []  # the steps have their own page
    page = admin_client.get("/profiles/").get_data(as_text=True)
    assert "Direct debit" in page and f"/profiles/{profile.id}/dunning/" in page


def test_invalid_form_shows_field_errors_and_saves_nothing(admin_client):
    data = {"name": "", "invitation_requires_pdf": "y"}
    response = post_form(admin_client, "/profiles/new", data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'data-field="name"' in page
    assert profiles() == []


def test_business_rules_show_on_the_fields(admin_client):
    data = {"name": "Nothing", "invitation_requires_pdf": "y"}
    response = post_form(admin_client, "/profiles/new", data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Allow at least one way to pay." in page
    assert "Only applies when invitations are sent on import." in page
    assert profiles() == []


def test_duplicate_name_is_refused_case_insensitively(admin_client):
    post_form(admin_client, "/profiles/new", VALID)
    response = post_form(admin_client, "/profiles/new", {**VALID, "name": "direct DEBIT"})
    assert response.status_code == 400
    assert "already exists" in response.get_data(as_text=True)
    assert len(profiles()) == 1


def test_post_without_csrf_token_is_refused(admin_client):
    response = admin_client.post("/profiles/new", data=VALID)
    assert response.status_code == 400
    assert profiles() == []


def test_admin_edits_a_profile(admin_client):
    post_form(admin_client, "/profiles/new", VALID)
    [profile] = profiles()
    path = f"/profiles/{profile.id}"
    response = post_form(admin_client, path, {**VALID, "name": "SEPA"})
    assert response.status_code == 302
    db.session.refresh(profile)
    assert profile.name == "SEPA"


def test_delete_is_refused_while_a_customer_uses_the_profile(admin_client):
    post_form(admin_client, "/profiles/new", VALID)
    [profile] = profiles()
    db.session.add(
        Customer(
            teamleader_id="c-1",
            customer_number="c-1",
            kind=CustomerKind.COMPANY,
            name="Acme",
            profile=profile,
        )
    )
    db.session.commit()
    response = post_form(admin_client, f"/profiles/{profile.id}/delete", {}, "/profiles/")
    assert response.status_code == 409
    assert "used by 1 customer(s)" in response.get_data(as_text=True)
    assert len(profiles()) == 1


def test_delete_unused_profile(admin_client):
    post_form(admin_client, "/profiles/new", VALID)
    [profile] = profiles()
    response = post_form(admin_client, f"/profiles/{profile.id}/delete", {}, "/profiles/")
    assert response.status_code == 302
    assert profiles() == []


def test_viewer_can_look_but_not_change(viewer_client):
    assert viewer_client.get("/profiles/").status_code == 200
    assert viewer_client.get("/profiles/new").status_code == 403
    token = csrf_token(viewer_client, "/profiles/")
    response = viewer_client.post("/profiles/new", data={**VALID, "csrf_token": token})
    assert response.status_code == 403
    assert profiles() == []


def test_unknown_profile_is_404(admin_client):
    assert admin_client.get("/profiles/999").status_code == 404


def test_delete_is_refused_while_it_is_the_default_for_new_customers(admin_client):
    from collector.teamleader.models import TeamleaderConnection

    post_form(admin_client, "/profiles/new", VALID)
    [profile] = profiles()
    db.session.add(
        TeamleaderConnection(account_id="acc-1", webhook_token="t", default_profile=profile)
    )
    db.session.commit()
    response = post_form(admin_client, f"/profiles/{profile.id}/delete", {}, "/profiles/")
    assert response.status_code == 409
    assert "default for new customers" in response.get_data(as_text=True)
    assert len(profiles()) == 1
