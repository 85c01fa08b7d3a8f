"""Valid manifests: every example parses, round-trips, and reads as the reference says."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from aichor.manifest import Manifest, load_manifest, load_manifest_file
from aichor.manifest.schema import (
    JaxSpec,
    JobsetSpec,
    KuberaySpec,
    PytorchSpec,
    XGBoostSpec,
)
from tests.manifest.conftest import EXAMPLE_FILES, EXAMPLES, manifest_text


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_example_parses_and_round_trips(path: Path) -> None:
    manifest = load_manifest_file(path)
    dumped = yaml.safe_dump(manifest.model_dump(by_alias=True, mode="json"), sort_keys=False)
    assert load_manifest(dumped) == manifest


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_round_trip_without_defaults(path: Path) -> None:
    manifest = load_manifest_file(path)
    dumped = manifest.model_dump(by_alias=True, mode="json", exclude_defaults=True)
    assert load_manifest(yaml.safe_dump(dumped)) == manifest


def test_every_field_of_the_full_example() -> None:
    manifest = load_manifest_file(EXAMPLES / "pytorch_full_v023.yaml")
    assert manifest.name == "resnet-training"
    builder = manifest.builder
    assert (builder.dockerfile, builder.context, builder.target) == (
        "./docker/Dockerfile",
        ".",
        "runtime",
    )
    assert builder.build_args == {"PYTHON_VERSION": "3.11", "USE_CUDA": True}
    assert builder.registry == "europe-west4-docker.pkg.dev/acme/images"
    assert (manifest.clone.depth, manifest.clone.include_dot_git) == (5, True)
    assert manifest.clone.submodules == "recursive"
    spec = manifest.spec
    assert isinstance(spec, PytorchSpec)
    assert spec.engine_name == "gpu-cluster"
    assert spec.env == {"LEARNING_RATE": "0.001", "BATCH_SIZE": "32", "USE_AMP": "true"}
    assert spec.extra_labels["app.kubernetes.io/part-of"] == "resnet"
    assert spec.graceful_termination is not None
    assert spec.graceful_termination.shutdown_command == ["python", "save_checkpoint.py"]
    assert spec.graceful_termination.termination_grace_period_seconds == 60
    assert spec.restart_policy.backoff_limit == 2
    assert spec.security_context is not None and spec.security_context.fs_group == 1000
    assert spec.security_context.perfmon and not spec.security_context.ptrace
    assert spec.storage is not None and spec.storage.shared_volume is not None
    assert spec.storage.shared_volume.size_gb == 100
    assert spec.storage.shared_volume.storage_class == "standard-rwo"
    assert [p.name for p in spec.storage.attach_existing_pvcs or []] == ["datasets-pvc", "logs-pvc"]
    assert spec.tensorboard is not None and spec.tensorboard.use_pvc is not None
    assert spec.tensorboard.use_pvc.name == "logs-pvc"
    assert spec.debug is not None and spec.debug.vscode is not None
    assert spec.debug.vscode.provider == "microsoft"
    assert spec.deadline_seconds() == 30 * 3600  # timeout wins over activeDeadlineSeconds


def test_resources_of_the_full_example() -> None:
    spec = load_manifest_file(EXAMPLES / "pytorch_full_v023.yaml").spec
    assert isinstance(spec, PytorchSpec)
    assert spec.types.master is not None and spec.types.worker is not None
    master = spec.types.master.resources
    assert (master.cpus, master.ram_ratio, master.shm_size_gb) == (16, 16, 32)
    assert master.machine_name == "dgx-01"
    assert master.accelerators is not None and master.accelerators.gpu is not None
    gpu = master.accelerators.gpu
    assert (gpu.count, gpu.type, gpu.product) == (8, "gpu", "NVIDIA-H100-80GB-HBM3")
    assert master.rdma is not None
    assert (master.rdma.devices, master.rdma.device_names) == (2, ("sriov_a", "sriov_b"))
    worker = spec.types.worker.resources
    assert worker.rdma is not None and worker.rdma.devices == 2 and not worker.rdma.device_names
    assert spec.replica_count() == 4


def test_lowercase_replica_types_are_normalised() -> None:
    jax = load_manifest_file(EXAMPLES / "jax_lowercase.yaml").spec
    assert isinstance(jax, JaxSpec) and jax.types.worker.count == 2
    pytorch = load_manifest_file(EXAMPLES / "pytorch_workers_only.yaml").spec
    assert isinstance(pytorch, PytorchSpec)
    assert pytorch.types.master is None and pytorch.types.worker is not None
    ray = load_manifest_file(EXAMPLES / "kuberay_jupyter.yaml").spec
    assert isinstance(ray, KuberaySpec) and [p.name for p in ray.types.workers] == [
        "cpu-workers",
        "gpu-workers",
    ]


def test_kuberay_shapes() -> None:
    old = load_manifest_file(EXAMPLES / "kuberay_v021.yaml")
    assert old.api_version == "0.2.1"
    assert isinstance(old.spec, KuberaySpec)
    assert old.spec.types.job is not None  # accepted, and ignored by the operator
    assert old.spec.types.head.resources.shm_size_gb == 48
    assert old.spec.storage is not None and old.spec.storage.attach_existing_pvcs is None
    assert old.spec.replica_count() == 3
    shorthand = load_manifest_file(EXAMPLES / "kuberay_jupyter_false.yaml").spec
    assert shorthand.debug is not None and shorthand.debug.jupyter is not None
    assert shorthand.debug.jupyter.enabled is False
    enabled = load_manifest_file(EXAMPLES / "kuberay_jupyter.yaml").spec
    assert enabled.debug is not None and enabled.debug.vscode is not None
    assert enabled.debug.jupyter is not None and enabled.debug.jupyter.enabled
    assert enabled.debug.vscode.enabled is False


def test_jobset_and_xgboost() -> None:
    jobset = load_manifest_file(EXAMPLES / "jobset.yaml").spec
    assert isinstance(jobset, JobsetSpec)
    assert list(jobset.types) == ["master", "worker"]
    worker = jobset.types["worker"]
    assert (worker.count, worker.completions, worker.parallelisms) == (10, 10, 2)
    assert jobset.types["master"].completions == 1
    assert jobset.replica_count() == 101
    xgb = load_manifest_file(EXAMPLES / "xgboost.yaml").spec
    assert isinstance(xgb, XGBoostSpec) and xgb.types.master.count == 1
    assert xgb.replica_count() == 3


def test_defaults_of_a_minimal_manifest() -> None:
    manifest = load_manifest_file(EXAMPLES / "minimal.yaml")
    assert manifest.builder.dockerfile == "./Dockerfile" and manifest.builder.context == "."
    assert (manifest.clone.depth, manifest.clone.submodules) == (1, "false")
    spec = manifest.spec
    assert spec.restart_policy.backoff_limit == 0
    assert spec.env == {} and spec.extra_labels == {}
    assert spec.deadline_seconds() is None
    assert isinstance(spec, JaxSpec)
    assert (spec.types.worker.count, spec.types.worker.resources.cpus) == (1, 1)


@pytest.mark.parametrize(
    ("timeout", "seconds"),
    [("1w 2d 5h 6m 20s", 795_980), ("1d 6h", 108_000), ("90s", 90), ("2h30m", 9_000)],
)
def test_timeout_grammar(timeout: str, seconds: int) -> None:
    tail = f'timeout: "{timeout}"\nactiveDeadlineSeconds: 5\ntypes: {{Worker: {{}}}}'
    spec = load_manifest(manifest_text(tail, operator="jax")).spec
    assert spec.deadline_seconds() == seconds


def test_active_deadline_alone_and_yaml_booleans() -> None:
    text = manifest_text(
        "activeDeadlineSeconds: 600\ntypes: {Worker: {}}",
        operator="jax",
        top_level="clone:\n  submodules: true",
    )
    manifest = load_manifest(text)
    assert manifest.spec.deadline_seconds() == 600
    assert manifest.clone.submodules == "true"


def test_manifest_model_is_the_public_type() -> None:
    assert isinstance(load_manifest_file(EXAMPLES / "minimal.yaml"), Manifest)
