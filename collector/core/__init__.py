"""What every domain builds on and that knows nothing of Flask: the clock, money, VAT
numbers, encryption, OAuth, the one HTTP transport, rate limits, storage, fields, column
types and the errors operations raise."""
