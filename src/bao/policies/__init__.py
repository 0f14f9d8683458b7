"""Policies: anything that, given the conversation so far, writes the next assistant message."""

from bao.policies.base import Context, Policy

__all__ = ["Context", "Policy"]
