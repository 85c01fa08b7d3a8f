"""jax.distributed on CPU: each process contributes (process_id + 1) * its local values.

Prints `PROCESS <i> SUM <s> EXPECTED <e>` and exits non-zero on a mismatch.
"""

from __future__ import annotations

import os
import sys

import jax
import jax.numpy as jnp
from jax.experimental import multihost_utils


def main() -> int:
    num_processes = int(os.environ["JAXOPERATOR_NUM_PROCESSES"])
    process_id = int(os.environ["JAXOPERATOR_PROCESS_ID"])
    jax.distributed.initialize(
        coordinator_address=os.environ["JAXOPERATOR_COORDINATOR_ADDRESS"],
        num_processes=num_processes,
        process_id=process_id,
        initialization_timeout=120,
    )
    print(
        f"process {jax.process_index()}/{jax.process_count()} "
        f"local devices {jax.local_device_count()} global devices {jax.device_count()}",
        flush=True,
    )
    local = jnp.arange(4.0) * (process_id + 1)  # this process's share of the data
    gathered = multihost_utils.process_allgather(jnp.sum(local))  # one value per process
    total = float(jnp.sum(gathered))
    expected = float(sum(6.0 * (i + 1) for i in range(num_processes)))
    print(f"PROCESS {process_id} SUM {total} EXPECTED {expected}", flush=True)
    multihost_utils.sync_global_devices("done")
    jax.distributed.shutdown()
    return 0 if total == expected else 1


if __name__ == "__main__":
    sys.exit(main())
