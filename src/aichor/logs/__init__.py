"""Every line from every step and replica of an experiment, kept as files under the data dir.

Handed an experiment id, a source (a step name or a replica name) and text lines.
May import aichor.replicas and the standard library only.
"""
