"""Rollout: runs policies against environments and records trajectories."""
