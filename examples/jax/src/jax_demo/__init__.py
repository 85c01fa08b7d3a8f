"""JAX distributed demo: a sum over processes."""
