"""JobSet demo: each pod reports its indices."""
