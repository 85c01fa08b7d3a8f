import os

import ray

ray.init(address=os.environ.get("RAY_ADDRESS", "auto"))
print("BENCH first line", len(ray.nodes()), "nodes", flush=True)
