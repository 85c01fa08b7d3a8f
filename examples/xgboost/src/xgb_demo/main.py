"""Distributed XGBoost: rank 0 runs the tracker, every rank trains on its shard of the data.

Prints `RANK <r> WORLD <n> TRAINED rounds=<k>` and `RANK <r> MODEL <sha256 of the model>`;
the histograms are all-reduced across ranks, so every rank must end with the same model.
"""

from __future__ import annotations

import hashlib
import os
import sys
import warnings

import numpy as np
import xgboost as xgb
from xgboost import collective
from xgboost.tracker import RabitTracker

ROUNDS = 10
# Workers may start before rank 0's tracker listens; xgboost retries and warns each time.
warnings.filterwarnings("ignore", message=".*(Retrying connection|Failed to connect)")


def shard(rank: int, world: int) -> xgb.DMatrix:
    """A synthetic regression problem, the same on every rank; each rank keeps its rows."""
    rng = np.random.default_rng(seed=42)
    features = rng.normal(size=(4000, 8))
    target = features @ rng.normal(size=8) + 0.1 * rng.normal(size=4000)
    return xgb.DMatrix(features[rank::world], label=target[rank::world])


def main() -> int:
    rank = int(os.environ["RANK"])
    world = int(os.environ["WORLD_SIZE"])
    host, port = os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"])
    tracker = None
    if rank == 0:
        tracker = RabitTracker(host_ip=host, n_workers=world, port=port, sortby="task")
        tracker.start()
    args = {"dmlc_tracker_uri": host, "dmlc_tracker_port": port, "dmlc_task_id": str(rank)}
    with collective.CommunicatorContext(**args):
        assert collective.get_world_size() == world
        booster = xgb.train(
            {"objective": "reg:squarederror", "max_depth": 4, "tree_method": "hist", "nthread": 1},
            shard(rank, world),
            num_boost_round=ROUNDS,
        )
        rounds = booster.num_boosted_rounds()
        print(f"RANK {rank} WORLD {collective.get_world_size()} TRAINED rounds={rounds}", flush=True)
    checksum = hashlib.sha256(bytes(booster.save_raw("json"))).hexdigest()[:16]
    print(f"RANK {rank} MODEL {checksum}", flush=True)
    if tracker is not None:
        tracker.wait_for()
    return 0


if __name__ == "__main__":
    sys.exit(main())
