"""Invalid manifests: each names the exact field path (in the user's spelling) and line."""

from __future__ import annotations

import pytest

from aichor.errors import InvalidInput
from aichor.manifest import ManifestInvalid, load_manifest
from tests.manifest.conftest import manifest_text

W = "types: {Worker: {}}"  # a valid pytorch/jax `types` on one line
RAY = "types:\n  Head: {}\n  Workers:\n"  # Workers pools follow, from line 12

# (case id, manifest text, expected path, expected line, fragment of the message)
CASES = [
    ("typo-command", manifest_text(f"comand: x\n{W}"), "spec.comand", 9, "did you mean 'command'?"),
    (
        "typo-ramratio",
        manifest_text("types:\n  Worker:\n    resources: {ramratio: 2}"),
        "spec.types.Worker.resources.ramratio",
        11,
        "did you mean 'ramRatio'?",
    ),
    (
        "typo-top-level",
        manifest_text(W, top_level="clones: {}"),
        "clones",
        10,
        "did you mean 'clone'?",
    ),
    (
        "env-aichor",
        manifest_text(f"env:\n  AICHOR_OUTPUT_PATH: /x\n{W}"),
        "spec.env.AICHOR_OUTPUT_PATH",
        10,
        "cannot be overridden",
    ),
    (
        "env-master-addr",
        manifest_text(f"env:\n  MASTER_ADDR: h\n{W}"),
        "spec.env.MASTER_ADDR",
        10,
        "set by the platform",
    ),
    (
        "env-pet-prefix",
        manifest_text(f"env:\n  PET_NNODES: '2'\n{W}"),
        "spec.env.PET_NNODES",
        10,
        "set by the platform",
    ),
    (
        "env-bad-name",
        manifest_text(f"env:\n  MY-VAR: x\n{W}"),
        "spec.env.MY-VAR",
        10,
        "not a valid variable name",
    ),
    (
        "env-list-value",
        manifest_text(f"env:\n  FOO: [1, 2]\n{W}"),
        "spec.env.FOO",
        10,
        "must be a string",
    ),
    (
        "image-mismatch",
        manifest_text(W, spec_image="other"),
        "builder.image",
        4,
        "must equal spec.image",
    ),
    (
        "grace-missing",
        manifest_text(f"gracefulTermination:\n  shutdownCommand: [a]\n{W}"),
        "spec.gracefulTermination.terminationGracePeriodSeconds",
        9,
        "required",
    ),
    (
        "grace-zero",
        manifest_text(
            f"gracefulTermination:\n  shutdownCommand: [a]\n  terminationGracePeriodSeconds: 0\n{W}"
        ),
        "spec.gracefulTermination.terminationGracePeriodSeconds",
        11,
        "must be > 0",
    ),
    (
        "shutdown-empty",
        manifest_text(
            f"gracefulTermination:\n  shutdownCommand: []\n  terminationGracePeriodSeconds: 5\n{W}"
        ),
        "spec.gracefulTermination.shutdownCommand",
        10,
        "at least 1",
    ),
    (
        "jupyter-not-ray",
        manifest_text(f"debug:\n  jupyter: {{enabled: true}}\n{W}"),
        "spec.debug.jupyter",
        10,
        "only available with operator kuberay",
    ),
    (
        "usepvc-without-pvcs",
        manifest_text(f"tensorboard:\n  enabled: true\n  usePVC: {{enabled: true}}\n{W}"),
        "spec.tensorboard.usePVC",
        11,
        "needs spec.storage.attachExistingPVCs",
    ),
    (
        "usepvc-unknown-name",
        manifest_text(
            "storage:\n  attachExistingPVCs: [{name: data, mountPoint: /data}]\n"
            f"tensorboard:\n  enabled: true\n  usePVC:\n    enabled: true\n    name: logs\n{W}"
        ),
        "spec.tensorboard.usePVC.name",
        15,
        "'logs' is not in",
    ),
    ("timeout-order", manifest_text(f"timeout: 5h 1d\n{W}"), "spec.timeout", 9, "not a duration"),
    ("timeout-twice", manifest_text(f"timeout: 1h 1h\n{W}"), "spec.timeout", 9, "not a duration"),
    ("timeout-zero", manifest_text(f"timeout: 0s\n{W}"), "spec.timeout", 9, "longer than 0"),
    ("timeout-number", manifest_text(f"timeout: 3600\n{W}"), "spec.timeout", 9, "must be a string"),
    (
        "deadline-zero",
        manifest_text(f"activeDeadlineSeconds: 0\n{W}"),
        "spec.activeDeadlineSeconds",
        9,
        "must be > 0",
    ),
    (
        "master-two",
        manifest_text("types:\n  Master: {count: 2}"),
        "spec.types.Master.count",
        10,
        "must be 1",
    ),
    (
        "master-lowercase-two",
        manifest_text("types:\n  master:\n    count: 2"),
        "spec.types.master.count",
        11,
        "must be 1",
    ),
    ("pytorch-no-types", manifest_text("types: {}"), "spec.types", 9, "needs a Master, a Worker"),
    (
        "pytorch-both-cases",
        manifest_text("types:\n  Worker: {}\n  worker: {}"),
        "spec.types.worker",
        11,
        "duplicates 'Worker'",
    ),
    (
        "xgboost-no-master",
        manifest_text("types:\n  Worker: {count: 2}", operator="xgboost"),
        "spec.types.Master",
        9,
        "required",
    ),
    (
        "jax-no-worker",
        manifest_text("types: {}", operator="jax"),
        "spec.types.Worker",
        9,
        "required",
    ),
    (
        "ray-no-pools",
        manifest_text("types:\n  Head: {}\n  Workers: []", operator="kuberay"),
        "spec.types.Workers",
        11,
        "at least 1",
    ),
    (
        "ray-count-zero",
        manifest_text(RAY + "    - {name: cpu, count: 0}", operator="kuberay"),
        "spec.types.Workers[0].count",
        12,
        "must be ≥ 1",
    ),
    (
        "ray-duplicate-pool",
        manifest_text(RAY + "    - name: cpu\n    - name: cpu", operator="kuberay"),
        "spec.types.Workers[1].name",
        13,
        "duplicate pool name",
    ),
    (
        "ray-pool-head",
        manifest_text(RAY + "    - name: head", operator="kuberay"),
        "spec.types.Workers[0].name",
        12,
        "reserved",
    ),
    (
        "ray-pool-bad-name",
        manifest_text(RAY + "    - name: CPU_pool", operator="kuberay"),
        "spec.types.Workers[0].name",
        12,
        "not a valid name",
    ),
    (
        "ray-no-head",
        manifest_text("types:\n  Workers: [{name: cpu}]", operator="kuberay"),
        "spec.types.Head",
        9,
        "required",
    ),
    ("jobset-empty", manifest_text("types: {}", operator="jobset"), "spec.types", 9, "at least 1"),
    (
        "jobset-bad-key",
        manifest_text("types:\n  Worker: {}", operator="jobset"),
        "spec.types.Worker",
        10,
        "must match",
    ),
    (
        "jobset-completions",
        manifest_text("types:\n  w:\n    completions: 0", operator="jobset"),
        "spec.types.w.completions",
        11,
        "must be ≥ 1",
    ),
    (
        "gpu-negative",
        manifest_text(
            "types:\n  Worker:\n    resources:\n      accelerators:\n        gpu: {count: -1}"
        ),
        "spec.types.Worker.resources.accelerators.gpu.count",
        13,
        "must be ≥ 0",
    ),
    (
        "shm-negative",
        manifest_text("types:\n  Worker:\n    resources: {shmSizeGB: -1}"),
        "spec.types.Worker.resources.shmSizeGB",
        11,
        "must be ≥ 0",
    ),
    (
        "cpus-text",
        manifest_text("types:\n  Worker:\n    resources:\n      cpus: lots"),
        "spec.types.Worker.resources.cpus",
        12,
        "must be a number",
    ),
    (
        "shared-size-zero",
        manifest_text(f"storage:\n  sharedVolume: {{mountPoint: /s, sizeGB: 0}}\n{W}"),
        "spec.storage.sharedVolume.sizeGB",
        10,
        "must be > 0",
    ),
    (
        "mount-relative",
        manifest_text(f"storage:\n  sharedVolume:\n    mountPoint: mnt\n    sizeGB: 1\n{W}"),
        "spec.storage.sharedVolume.mountPoint",
        11,
        "absolute",
    ),
    (
        "mount-twice",
        manifest_text(
            "storage:\n  attachExistingPVCs:\n    - {name: a, mountPoint: /data}\n"
            f"  sharedVolume:\n    mountPoint: /data/\n    sizeGB: 1\n{W}"
        ),
        "spec.storage.sharedVolume.mountPoint",
        13,
        "already the mount point of PVC 'a'",
    ),
    (
        "label-key",
        manifest_text(f"extraLabels:\n  -team: x\n{W}"),
        'spec.extraLabels["-team"]',
        10,
        "not a valid label key",
    ),
    (
        "label-value",
        manifest_text(f"extraLabels:\n  team: {'x' * 64}\n{W}"),
        "spec.extraLabels.team",
        10,
        "not a valid label value",
    ),
    ("api-version", manifest_text(W, api_version="0.3.0"), "apiVersion", 2, "must be one of"),
    ("kind", manifest_text(W, kind="Manifest"), "kind", 1, "must be one of 'AIchorManifest'"),
    (
        "operator-unknown",
        manifest_text(W, operator="tf"),
        "spec.operator",
        6,
        "unknown operator 'tf'",
    ),
    (
        "clone-depth",
        manifest_text(W, top_level="clone: {depth: 0}"),
        "clone.depth",
        10,
        "must be ≥ 1",
    ),
    (
        "clone-submodules",
        manifest_text(W, top_level="clone:\n  submodules: sometimes"),
        "clone.submodules",
        11,
        "must be one of",
    ),
    (
        "backoff-negative",
        manifest_text(f"restartPolicy: {{backoffLimit: -1}}\n{W}"),
        "spec.restartPolicy.backoffLimit",
        9,
        "must be ≥ 0",
    ),
    (
        "vscode-provider",
        manifest_text(f"debug:\n  vscode: {{provider: gitlab}}\n{W}"),
        "spec.debug.vscode.provider",
        10,
        "must be one of",
    ),
    (
        "rdma-negative",
        manifest_text("types:\n  Worker:\n    resources:\n      rdma: {devices: -2}"),
        "spec.types.Worker.resources.rdma.devices",
        12,
        "must be ≥ 0",
    ),
    (
        "duplicate-key",
        manifest_text(f"image: again\n{W}"),
        "spec",
        9,
        "duplicate key 'image' (first at line 7)",
    ),
]


@pytest.mark.parametrize(
    ("text", "path", "line", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_invalid_manifest_names_field_and_line(
    text: str, path: str, line: int, fragment: str
) -> None:
    with pytest.raises(ManifestInvalid) as caught:
        load_manifest(text, source="aichor_manifests/manifest.yaml")
    found = [(issue.path, issue.line) for issue in caught.value.errors]
    matching = [i for i in caught.value.errors if (i.path, i.line) == (path, line)]
    assert matching, f"no issue at {path}:{line}; got {found}"
    assert any(fragment in issue.message for issue in matching), [i.message for i in matching]
    assert f"aichor_manifests/manifest.yaml:{line}: {path}: " in str(caught.value)


def test_there_are_at_least_thirty_cases() -> None:
    assert len(CASES) >= 30


def test_operator_missing_points_at_spec() -> None:
    text = "kind: AIchorManifest\napiVersion: 0.2.3\nbuilder: {}\nspec:\n  image: a\n  command: c\n"
    with pytest.raises(ManifestInvalid) as caught:
        load_manifest(text)
    assert [(i.path, i.line) for i in caught.value.errors] == [("spec.operator", 4)]
    assert "one of kuberay, jax, pytorch, xgboost, jobset" in caught.value.errors[0].message


def test_all_errors_are_collected_in_file_order() -> None:
    text = manifest_text(
        "comand: x\nenv: {RANK: '1'}\ntypes:\n  Worker: {count: 0}", top_level="clone: {depth: 0}"
    )
    with pytest.raises(ManifestInvalid) as caught:
        load_manifest(text, source="m.yaml")
    assert [(i.path, i.line) for i in caught.value.errors] == [
        ("spec.comand", 9),
        ("spec.env.RANK", 10),
        ("spec.types.Worker.count", 12),
        ("clone.depth", 13),
    ]
    assert str(caught.value).splitlines() == [i.render("m.yaml") for i in caught.value.errors]
    assert isinstance(caught.value, InvalidInput)
    assert caught.value.field == "spec.comand"
