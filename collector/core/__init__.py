"""What every domain builds on and that knows nothing of Flask: the clock, money."""
