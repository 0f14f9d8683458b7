"""What verl imports through its `verl.plugins` entry point (pyproject.toml), in every process that imports verl.

Importing it registers bao's estimators and its agent loop. verl swallows an error raised here (it logs it at
debug level), so a broken install shows up later as an unknown estimator: `python -m bao.integrations.verl.check`
says whether the registration happened and, if not, why.
"""

from bao.integrations.verl import agent_loop, estimators

__all__ = ["agent_loop", "estimators"]
