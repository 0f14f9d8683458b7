"""verl finds bao through its `verl.plugins` entry point, in a fresh process that imports verl and nothing of bao;
`python -m bao.integrations.verl.check` says so, and says why when it did not happen (verl swallows the error)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytest.importorskip("verl")

PROBE = """
import sys
import verl
from verl.experimental.agent_loop.agent_loop import _agent_loop_registry
from verl.trainer.ppo.core_algos import ADV_ESTIMATOR_REGISTRY
print("bao.integrations.verl.plugin" in sys.modules)
print(",".join(n for n in ("userrl", "bao-paper", "bao") if n in ADV_ESTIMATOR_REGISTRY))
print(_agent_loop_registry.get("bao", {}).get("_target_"))
"""


def fresh(*args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore", **env}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=environ, timeout=300)


def test_importing_verl_registers_baos_estimators_and_agent_loop():
    run = fresh("-c", PROBE)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["True", "userrl,bao-paper,bao", "bao.integrations.verl.agent_loop.BaoAgentLoop"]


def test_the_check_confirms_the_registration():
    run = fresh("-m", "bao.integrations.verl.check")
    assert run.returncode == 0, run.stderr
    assert "bao's plugin is registered" in run.stdout


def test_the_check_fails_and_explains_when_verl_did_not_load_the_plugin():
    run = fresh("-m", "bao.integrations.verl.check", VERL_USE_EXTERNAL_PLUGINS="none")
    assert run.returncode == 1
    assert "did not register bao's estimator userrl" in run.stderr
    assert "VERL_USE_EXTERNAL_PLUGINS" in run.stderr
