"""Data-parallel `bao train`: two processes (torchrun, CPU, gloo) take exactly the steps one process takes on
the same batch, and stay in sync."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("rl_dist_driver.py")


def _train(warm_start: Path, out: Path, processes: int) -> list[dict]:
    settings = dict(env="clue", model=str(warm_start), out=str(out), algo="bao", steps=2, tasks_per_step=4,
                    group_size=4, lr=1e-3, temperature=0.8, top_p=1.0, max_new_tokens=8, micro_batch=2, seed=0)
    out.mkdir(parents=True)
    (out / "settings.json").write_text(json.dumps(settings))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    command = [sys.executable, str(DRIVER), str(out / "settings.json")]
    if processes > 1:
        torchrun = shutil.which("torchrun", path=str(Path(sys.executable).parent)) or "torchrun"
        command = [torchrun, "--standalone", f"--nproc_per_node={processes}", *command[1:]]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]


def test_two_processes_take_the_same_steps_as_one(warm_start, tmp_path):
    one = _train(warm_start, tmp_path / "one", 1)
    two = _train(warm_start, tmp_path / "two", 2)

    def steps(log):
        return [r for r in log if r["event"] == "step"]

    assert [r["event"] for r in two] == [r["event"] for r in one]  # one log, written by the main process only
    for a, b in zip(steps(one), steps(two), strict=True):
        for key in ("episode/score", "episode/U", "tokens/policy", "train/rows"):  # tokens/forward: a prefix each
            assert a[key] == b[key], key
        for key in ("loss/policy", "loss/entropy", "train/grad_norm"):
            assert b[key] == pytest.approx(a[key], rel=1e-4, abs=1e-6), key
    single = torch.load(tmp_path / "one" / "weights-rank0.pt")
    rank0 = torch.load(tmp_path / "two" / "weights-rank0.pt")
    rank1 = torch.load(tmp_path / "two" / "weights-rank1.pt")
    assert all(torch.equal(rank0[n], rank1[n]) for n in rank0)  # the processes stay in sync
    assert all(torch.allclose(rank0[n], single[n], atol=1e-5) for n in rank0)  # and match one process
    assert all(r["train/grad_norm"] > 0 for r in steps(one))  # the steps did move the weights


def test_groups_are_dealt_whole_and_a_batch_that_does_not_split_is_refused():
    from bao.pipelines.rl_dist import Workers

    workers = Workers()
    workers.world, workers.rank = 2, 1
    assert [k for k in range(6) if workers.owns(k)] == [1, 3, 5]
    with pytest.raises(ValueError, match="--tasks-per-step 3 does not split over 2 processes"):
        workers.check(3)
    workers.check(4)
