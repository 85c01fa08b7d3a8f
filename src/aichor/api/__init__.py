"""REST API: one thin router per resource (parse → one services call → schema).

Handed HTTP requests; authenticates the Actor and calls aichor.services.
May import: aichor.services, aichor.schemas, aichor.errors; never aichor.client.
"""
