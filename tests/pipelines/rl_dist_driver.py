"""Runs `bao train`'s Trainer in this process (one of `torchrun`'s, or alone) on the clue env, then saves this
process's weights, for tests/pipelines/test_rl_dist.py.

    python tests/pipelines/rl_dist_driver.py SETTINGS.json
"""

import json
import sys
from pathlib import Path

import torch

from bao.envs import registry
from bao.pipelines.rl import Trainer
from bao.pipelines.rl_config import build_config

registry.register("clue", "tests.pipelines.clue_env:ClueEnv")
settings = json.loads(Path(sys.argv[1]).read_text())
trainer = Trainer(build_config(None, settings, []))
trainer.run()
weights = {name: p.detach() for name, p in trainer.model.named_parameters()}
torch.save(weights, Path(settings["out"]) / f"weights-rank{trainer.workers.rank}.pt")
