"""Build-time tools: generate the committed schemas and reference docs from the tables.

Nothing at run time imports this package; CI runs both with ``--check`` for drift.
"""
