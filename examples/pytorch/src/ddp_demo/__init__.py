"""PyTorch distributed demo: an all-reduce across every replica."""
