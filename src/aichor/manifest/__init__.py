"""The researcher's request: `manifest.yaml` parsed and validated into a `Manifest`.

Handed YAML text (and the file name, for error messages); pure, no I/O beyond what callers pass.
May import: pydantic, yaml, aichor.errors.
"""

from aichor.manifest.loading import load_manifest, load_manifest_file
from aichor.manifest.schema import Manifest

__all__ = ["Manifest", "load_manifest", "load_manifest_file"]
