"""The direct-debit pages: mandates and their upload, collection runs, bank files."""

from collector.direct_debit.views import bank_files, collections, mandates, return_rules, signing

BLUEPRINTS = (mandates.bp, collections.bp, bank_files.bp, signing.bp, return_rules.bp)
