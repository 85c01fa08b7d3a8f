"""Pydantic shapes that cross the wire: API responses and requests, parsed by the client too.

Handed nothing; pure data. May import: pydantic, aichor.lifecycle.
"""
