"""The local engine: builds an image without Docker and runs the replica gang as processes.

Handed a BuildRequest (build/) or a Workload (engine.py → supervisor → gang → processes).
May import aichor.engines.base, aichor.replicas, aichor.lifecycle, aichor.errors, psutil.
"""

from aichor.engines.local.engine import LocalEngine

__all__ = ["LocalEngine"]
