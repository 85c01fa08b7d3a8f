"""torch.distributed over gloo: every rank contributes rank+1; all ranks must see the sum.

Prints `RANK <r> ALLREDUCE <sum> EXPECTED <expected>` and exits non-zero on a mismatch.
"""

from __future__ import annotations

import datetime
import os
import sys

import torch
import torch.distributed as dist


def main() -> int:
    rank = int(os.environ["RANK"])
    world_size = int(os.environ["WORLD_SIZE"])
    print(
        f"rank {rank}/{world_size} joining {os.environ['MASTER_ADDR']}:{os.environ['MASTER_PORT']}",
        flush=True,
    )
    # init_method "env://" reads MASTER_ADDR/MASTER_PORT/WORLD_SIZE/RANK, as the operator sets them.
    dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=120))
    tensor = torch.tensor([float(rank + 1)])
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    total = tensor.item()
    expected = world_size * (world_size + 1) / 2
    print(f"RANK {rank} ALLREDUCE {total} EXPECTED {expected}", flush=True)
    dist.barrier()
    dist.destroy_process_group()
    if total != expected:
        print(f"RANK {rank} MISMATCH", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
