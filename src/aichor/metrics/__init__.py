"""Per-replica resource samples: stored in the `metric_point` table, read back as time series.

Handed `replicas.MetricSample`s by the pipeline's run step (through `pipeline.outcome`) and
asked for series by `services.telemetry`. Imports only `db` and `replicas`.
"""
