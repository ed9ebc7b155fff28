"""Emulators of the external services collector talks to (demo, end-to-end tests, benchmarks)."""
