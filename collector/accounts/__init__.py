"""Accounts: the people who log in (users, roles), API keys, and the company's own
settings — its time zone and who is paid (the creditor)."""
