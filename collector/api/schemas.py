"""marshmallow schemas of the API's resources."""

from marshmallow import RAISE, Schema, fields, validate


class ProfileSchema(Schema):
    class Meta:
        unknown = RAISE  # a misspelled field is an error, not silently ignored

    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    allow_direct_debit = fields.Boolean(load_default=False)
    allow_payment_link = fields.Boolean(load_default=False)
    allow_bank_transfer = fields.Boolean(load_default=False)
    send_invitation_on_import = fields.Boolean(load_default=False)
    invitation_requires_pdf = fields.Boolean(load_default=False)
    reminder_days = fields.List(
        fields.Integer(strict=True, validate=validate.Range(min=1, max=365)),
        load_default=list,
        validate=validate.Length(max=10),
    )
    payment_methods = fields.List(fields.String(), dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)
    updated_at = fields.AwareDateTime(dump_only=True)
