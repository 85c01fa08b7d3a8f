"""Ray demo: tasks placed on the head and on a worker pool by custom resource."""
