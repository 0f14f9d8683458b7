"""Pipelines: evaluation, training, sweeps and reports built from the lower layers."""
