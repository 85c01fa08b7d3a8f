"""Running an experiment on this machine without a server (`aichor run`).

Handed a repository directory and a manifest path; drives manifest → operator → local engine.
May import: aichor.engines, aichor.operators, aichor.manifest, aichor.experiment_env and below.
"""

from aichor.runner.run import LocalRun, RunReporter, run_local

__all__ = ["LocalRun", "RunReporter", "run_local"]
