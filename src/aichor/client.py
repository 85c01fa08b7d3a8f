"""Typed HTTP client of the aichor API, used by the CLI. (Filled in by the control-plane work.)"""
