"""/api/v1/customers: search customers by name, email or number, and by profile."""

from flask import request

from collector.api import bp, paged
from collector.api.schemas import CustomerSchema
from collector.documents import customers

schema = CustomerSchema()


@bp.get("/customers")
def list_customers():
    result = customers.search_customers(request.args)
    return paged(result, schema)
