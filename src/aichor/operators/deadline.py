"""The experiment's wall-clock limit as the custom resources express it.

Kubeflow's `runPolicy.activeDeadlineSeconds`, RayJob's `activeDeadlineSeconds` and each JobSet
child Job's `activeDeadlineSeconds` all take the same number: `spec.timeout` when set, else
`spec.activeDeadlineSeconds` (the manifest resolves the two).
"""

from __future__ import annotations

from aichor.manifest.schema import SpecBase


def deadline_seconds(spec: SpecBase) -> int | None:
    """Seconds the experiment may run, or None for no limit."""
    return spec.deadline_seconds()
