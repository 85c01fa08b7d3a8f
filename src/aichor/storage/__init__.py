"""Project storage: buckets through fsspec (`buckets`), key rules (`keys`), the per-project rows
(`records`) and the embedded S3 endpoints (`s3_server`)."""
