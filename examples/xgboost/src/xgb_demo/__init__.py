"""Distributed XGBoost demo."""
