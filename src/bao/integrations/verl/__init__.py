"""bao as a verl plugin (`pip install 'bao[verl]'`): bao's envs, users, rewards and estimators in verl's trainer.

- `estimators`: `userrl`, `bao-paper`, `bao` registered as verl advantage estimators;
- `agent_loop`: the `bao` agent loop, one bao episode per sample with per-turn (dense) rewards;
- `settings`: the `algorithm.bao` block both read;
- `plugin`: what verl's `verl.plugins` entry point imports; `check`: proves the registration happened;
- `export`: the parquet files verl's trainer reads (`bao export verl`), the only part that needs no verl.

Importing this package imports nothing from verl.
"""
