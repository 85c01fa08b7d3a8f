"""The service layer: every use case written once; the API (and later the web pages) call it.

Handed a database session and the acting `Actor`; returns table rows or schema views.
May import: aichor.pipeline (to wake it), aichor.db, aichor.manifest, aichor.schemas and below.
"""
