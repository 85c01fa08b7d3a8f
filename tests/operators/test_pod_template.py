"""The pod template every custom resource shares, and the operator registry."""

from __future__ import annotations

from typing import Any

import pytest

from aichor import operators
from aichor.errors import InvalidInput
from aichor.manifest.schema import JaxSpec
from aichor.operators import pod_template, pytorch
from aichor.operators.base import expect_spec
from aichor.operators.resources import cpu_quantity, memory_quantity
from tests.operators.manifests import (
    EXPERIMENT_ID,
    IMAGE,
    MAX_FIELDS,
    MAX_RESOURCES,
    WORKLOAD,
    context,
    spec,
)

MAX_TYPES = {"Master": {"resources": MAX_RESOURCES}}


def _master_pod(**fields: Any) -> dict[str, Any]:
    resource = pytorch.render_resource(spec("pytorch", MAX_TYPES, **fields), context())
    template: dict[str, Any] = resource["spec"]["pytorchReplicaSpecs"]["Master"]["template"]
    return template


def test_labels_hold_extra_labels_but_never_lose_the_experiment() -> None:
    labels = {"team": "research", pod_template.EXPERIMENT_ID_LABEL: "spoofed"}
    resource = pytorch.render_resource(spec("pytorch", MAX_TYPES, extraLabels=labels), context())
    expected = {
        "team": "research",
        pod_template.EXPERIMENT_ID_LABEL: EXPERIMENT_ID,
        pod_template.WORKLOAD_LABEL: WORKLOAD,
        pod_template.OPERATOR_LABEL: "pytorch",
    }
    assert resource["metadata"]["labels"] == expected
    assert resource["metadata"]["namespace"] == "team-a"
    assert _master_pod(extraLabels=labels)["metadata"]["labels"] == expected


def test_max_manifest_pod_has_every_block() -> None:
    pod = _master_pod(**MAX_FIELDS)["spec"]
    (container,) = pod["containers"]
    assert container["image"] == IMAGE
    amounts = {"cpu": "1500m", "memory": "4608Mi", "nvidia.com/gpu": 2}
    amounts["rdma/rdma_shared_device_a"] = 1
    assert container["resources"] == {"requests": amounts, "limits": amounts}
    assert pod["nodeSelector"] == {
        "kubernetes.io/hostname": "gpu-node-7",
        "nvidia.com/gpu.product": "Tesla-V100-SXM3-32GB",
    }
    assert pod["volumes"] == [
        {"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": "8Gi"}},
        {"name": "shared-volume", "persistentVolumeClaim": {"claimName": WORKLOAD}},
        {"name": "pvc-0", "persistentVolumeClaim": {"claimName": "datasets"}},
    ]
    assert container["volumeMounts"] == [
        {"name": "dshm", "mountPath": "/dev/shm"},
        {"name": "shared-volume", "mountPath": "/mnt/shared"},
        {"name": "pvc-0", "mountPath": "/mnt/datasets"},
    ]
    assert pod["securityContext"] == {"runAsUser": 1000, "runAsGroup": 1000, "fsGroup": 100}
    assert container["securityContext"] == {"capabilities": {"add": ["SYS_PTRACE"]}}
    assert pod["terminationGracePeriodSeconds"] == 90
    assert container["lifecycle"] == {"preStop": {"exec": {"command": ["python", "save.py"]}}}


def test_min_manifest_pod_has_only_what_was_asked() -> None:
    pod = pytorch.render_resource(spec("pytorch", {"Master": {}}), context())
    template = pod["spec"]["pytorchReplicaSpecs"]["Master"]["template"]["spec"]
    assert set(template) == {"containers"}
    (container,) = template["containers"]
    assert set(container) == {"name", "image", "env", "resources", "command", "ports"}


def test_shared_volume_claim_is_named_after_the_workload() -> None:
    with_volume = spec("pytorch", MAX_TYPES, **MAX_FIELDS)
    claim = pod_template.shared_volume_claim(with_volume, context())
    assert claim is not None
    assert claim["metadata"]["name"] == WORKLOAD
    assert claim["spec"] == {
        "accessModes": ["ReadWriteMany"],
        "resources": {"requests": {"storage": "16Gi"}},
        "storageClassName": "cephfs",
    }
    assert pod_template.shared_volume_claim(spec("pytorch", MAX_TYPES), context()) is None


@pytest.mark.parametrize(("cpus", "text"), [(1, "1"), (2.0, "2"), (0.5, "500m"), (1.25, "1250m")])
def test_cpu_quantities(cpus: float, text: str) -> None:
    assert cpu_quantity(cpus) == text


@pytest.mark.parametrize(("gib", "text"), [(2, "2Gi"), (4.0, "4Gi"), (1.5, "1536Mi")])
def test_memory_quantities(gib: float, text: str) -> None:
    assert memory_quantity(gib) == text


def test_registry_lists_the_five_operators() -> None:
    assert set(operators.OPERATORS) == {"kuberay", "pytorch", "jax", "xgboost", "jobset"}
    assert operators.get("jax").plan_replicas is operators.jax.plan_replicas
    with pytest.raises(InvalidInput, match="unknown operator 'tf'"):
        operators.get("tf")


def test_an_operator_rejects_another_operators_spec() -> None:
    with pytest.raises(InvalidInput, match="JaxSpec"):
        expect_spec(spec("pytorch", MAX_TYPES), JaxSpec)


def test_timeout_wins_over_active_deadline_in_every_resource() -> None:
    fields = {"activeDeadlineSeconds": 60, "timeout": "1h 30m"}
    pt = pytorch.render_resource(spec("pytorch", MAX_TYPES, **fields), context())
    assert pt["spec"]["runPolicy"]["activeDeadlineSeconds"] == 5400
    ray = operators.kuberay.render_resource(
        spec("kuberay", {"Head": {}, "Workers": [{"name": "w"}]}, **fields), context()
    )
    assert ray["spec"]["activeDeadlineSeconds"] == 5400
    js = operators.jobset.render_resource(spec("jobset", {"w": {}}, **fields), context())
    assert js["spec"]["replicatedJobs"][0]["template"]["spec"]["activeDeadlineSeconds"] == 5400
