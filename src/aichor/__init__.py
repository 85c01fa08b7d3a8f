"""aichor: run machine-learning experiments described by AIchor manifests."""

__version__ = "0.1.0"
