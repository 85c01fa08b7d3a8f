"""The researcher's request: `manifest.yaml` parsed and validated into a `Manifest`.

Handed YAML text (and the file name, for error messages); pure, no I/O beyond reading the file.
May import: pydantic, yaml, aichor.errors.
"""

from aichor.manifest.issues import ManifestInvalid, ManifestIssue
from aichor.manifest.loading import load_manifest, load_manifest_file
from aichor.manifest.protected import PROTECTED_NAMES, is_protected
from aichor.manifest.schema import Manifest, Spec

__all__ = [
    "PROTECTED_NAMES",
    "Manifest",
    "ManifestInvalid",
    "ManifestIssue",
    "Spec",
    "is_protected",
    "load_manifest",
    "load_manifest_file",
]
