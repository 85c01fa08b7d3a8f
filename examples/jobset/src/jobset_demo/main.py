"""One JobSet pod: print the indices the JobSet gave it, do a little work, exit 0.

Prints `JOBSET type=<replicated job> job=<JOB_INDEX> completion=<JOB_COMPLETION_INDEX>
global=<JOB_GLOBAL_INDEX>` (one line) and then `DONE ...` with a checksum of its work, and
records when it started and finished in `$AICHOR_OUTPUT_PATH/pods/` (the experiment's output
folder), so the run can be audited afterwards: every index once, parallelism respected.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sys
import time


def main() -> int:
    started = time.time()
    kind = os.environ["REPLICATED_JOB_NAME"]
    job = int(os.environ["JOB_INDEX"])
    completion = int(os.environ["JOB_COMPLETION_INDEX"])
    global_index = int(os.environ["JOB_GLOBAL_INDEX"])
    print(
        f"JOBSET type={kind} job={job} completion={completion} global={global_index}",
        flush=True,
    )
    print(
        f"jobset {os.environ.get('JOBSET_NAME', '?')}: {os.environ.get('REPLICATED_JOB_REPLICAS')} "
        f"job(s) of this type, {os.environ.get('GLOBAL_REPLICAS')} in all; host {socket.gethostname()}",
        flush=True,
    )
    # Stand-in for a shard of work: hash this pod's slice of a sequence.
    digest = hashlib.sha256(f"{kind}:{job}:{completion}".encode()).hexdigest()[:12]
    time.sleep(float(os.environ.get("SLEEP_SECONDS", "0.5")))
    print(f"DONE type={kind} job={job} completion={completion} digest={digest}", flush=True)
    record_run(kind, job, completion, started)
    return 0


def record_run(kind: str, job: int, completion: int, started: float) -> None:
    """Write this pod's start and end times to the output bucket (a local folder or a mount)."""
    output = os.environ.get("AICHOR_OUTPUT_PATH", "")
    if not output or output.startswith("s3://"):
        return  # on a real cluster the bucket is S3; this audit trail is for local runs
    folder = os.path.join(output, "pods")
    os.makedirs(folder, exist_ok=True)
    record = {"type": kind, "job": job, "completion": completion, "start": started, "end": time.time()}
    with open(os.path.join(folder, f"{kind}-{job}-{completion}.json"), "w") as handle:
        json.dump(record, handle)


if __name__ == "__main__":
    sys.exit(main())
