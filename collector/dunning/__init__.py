"""Dunning: who may be chased or debited, when, and how."""
