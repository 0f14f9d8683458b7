"""`discover`: evaluations, training runs and sweeps found recursively, each evaluation named by what it belongs to."""

from __future__ import annotations

import json
import shutil

import pytest

from bao.pipelines.rl_config import RLConfig
from bao.report.discover import discover
from tests.report.conftest import REFERENCE, TRAIN_W


def test_a_training_runs_evaluations_take_its_algo_w_step_and_reward_settings(runs):
    found = discover([runs / "train"])
    steps = {e.step: e for e in found.evaluations}
    assert set(steps) == {0, 6}
    assert all(e.method == "bao" and e.w == TRAIN_W for e in steps.values())
    assert steps[6].reward == RLConfig(env="function", algo="bao", w=TRAIN_W).reward_config()
    assert steps[6].reward.w == TRAIN_W and steps[6].reward.lambda_is > 0


def test_a_run_trained_for_several_w_names_each_evaluation_by_the_w_told_in_its_prompt(runs, tmp_path):
    run = tmp_path / "bao-conditioned-s0"
    shutil.copytree(runs / "train" / "function-bao", run)
    config = json.loads((run / "rl_config.json").read_text())
    (run / "rl_config.json").write_text(json.dumps({**config, "w_choices": "0.05,0.2"}))
    (run / "eval-step-6").rename(run / "eval-w0.2")
    metrics = json.loads((run / "eval-w0.2" / "metrics.json").read_text())
    metrics["settings"]["prompt_w"] = 0.2
    (run / "eval-w0.2" / "metrics.json").write_text(json.dumps(metrics))
    found = {e.path.name: e for e in discover([run]).evaluations}
    told = found["eval-w0.2"]
    assert (told.method, told.w, told.step, told.reward.w) == ("bao-conditioned", 0.2, None, 0.2)
    assert told.reward.lambda_is == found["eval-step-0"].reward.lambda_is > 0


def test_a_log_line_cut_short_by_a_running_trainer_is_skipped(runs):
    (run,) = discover([runs / "train"]).training_runs
    assert [r["step"] for r in run.steps] == [1, 2, 3, 4, 5, 6] and [r["step"] for r in run.evals] == [0, 6]


def test_a_sweep_names_the_evaluations_it_points_to_even_outside_its_directory(runs):
    found = discover([runs / "sweep"])
    assert len(found.sweeps) == 1
    assert sorted((e.method, e.w) for e in found.evaluations) == [("bao", TRAIN_W), (REFERENCE, None)]


def test_a_directory_given_twice_is_read_once(runs):
    assert len(discover([runs, runs / "eval"]).evaluations) == len(discover([runs]).evaluations) == 5


def test_a_missing_run_dir_fails_naming_it(tmp_path):
    with pytest.raises(ValueError, match="nowhere: no such directory"):
        discover([tmp_path / "nowhere"])
