"""Errors every layer may raise or catch.

`DataError` lives here, below `users` and `envs`, because both load data: the users their knowledge sheets,
the envs the UserRL benchmark files. The CLI catches it to print the message instead of a traceback.
"""

from __future__ import annotations


class DataError(RuntimeError):
    """Data (a UserRL benchmark file or one of bao's knowledge sheets) is missing or malformed; the message
    names the file and field and says what to fix."""
