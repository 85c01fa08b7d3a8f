"""Web dashboards next to an experiment: TensorBoard processes and the reverse proxy to them.

Handed a log directory or an upstream URL by the API (after `services.dashboards` checked the
caller may read the experiment). Imports only `settings`; no database, no engines.
"""
