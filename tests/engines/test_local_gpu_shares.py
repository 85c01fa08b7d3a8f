"""GPU and core shares on a GPU machine. This machine has no GPU, so the inventory is given to
the real `Shares` allocator (the same code the engine uses with `nvidia-smi`'s answer)."""

from __future__ import annotations

import pytest

from aichor.engines.local.capacity import Gpu, Machine, Shares, check_plan
from aichor.errors import Conflict
from aichor.replicas import ReplicaPlan, Resources, SuccessRule
from tests.engines.plans import task

FOUR_GPUS = Machine(
    cores=(0, 1, 2, 3, 4, 5, 6, 7),
    memory_gib=64,
    gpus=tuple(Gpu(index=i, name="NVIDIA A100", memory_mib=40960) for i in range(4)),
)


def test_replicas_get_disjoint_gpus_and_cores_and_give_them_back() -> None:
    shares = Shares(FOUR_GPUS)
    two_gpus = Resources(cpus=2, memory_gib=8, gpus=2)
    first, second = shares.acquire(two_gpus), shares.acquire(two_gpus)
    assert set(first.gpus) | set(second.gpus) == {0, 1, 2, 3}
    assert not set(first.gpus) & set(second.gpus)
    assert first.cores is not None and second.cores is not None
    assert not set(first.cores) & set(second.cores)
    shares.release(first)
    assert set(shares.acquire(two_gpus).gpus) == set(first.gpus)


def test_a_gang_needing_more_gpus_than_the_machine_is_rejected_with_the_numbers() -> None:
    gpu = Resources(cpus=1, memory_gib=4, gpus=3)
    plan = ReplicaPlan(
        "gpu-gang",
        (task("a", "true", resources=gpu), task("b", "true", resources=gpu)),
        SuccessRule.ALL,
    )
    with pytest.raises(Conflict) as caught:
        check_plan(plan, FOUR_GPUS)
    assert "6 GPUs" in caught.value.message and "4" in caught.value.message
