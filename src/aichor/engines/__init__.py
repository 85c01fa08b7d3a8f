"""Where replicas run: one module (or package) per engine behind the Engine protocol.

Handed a Workload (a ReplicaPlan plus a built image); reports ReplicaStates and LogLines.
May import: aichor.operators (addressing), aichor.replicas, aichor.lifecycle, aichor.errors.
"""
