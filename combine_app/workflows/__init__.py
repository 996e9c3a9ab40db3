"""Workflow instances: their history, drift and the pure structural diff."""
