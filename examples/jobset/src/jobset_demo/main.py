"""One JobSet pod: print the indices the JobSet gave it, do a little work, exit 0.

Prints `JOBSET type=<replicated job> job=<JOB_INDEX> completion=<JOB_COMPLETION_INDEX>
global=<JOB_GLOBAL_INDEX>` (one line) and then `DONE ...` with a checksum of its work.
"""

from __future__ import annotations

import hashlib
import os
import socket
import sys
import time


def main() -> int:
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
