"""The customer portal, ``/portal/<token>``: one unguessable address per customer, no
login, in the customer's language, showing everything they have with us.

- ``links``: the customer's portal token (find it, rotate it, the address), and the
  hook to online mandate signing (``mandate_link``).
- ``page``: what the portal shows, grouped by company entity, each with its branding.
- ``said``: "I have paid" and "I dispute this": a hold under the dunning policy, a
  timeline event, and a word to the team.
- ``views``: the public blueprint, and the admins' buttons on the customer's page.

Paying several documents at once is ``payments.several`` (the checkout) and
``payments.split`` (how the payment is split over them: the rule is written there).
"""
