"""The RL trainer on the tiny model: it learns what the reward says for every estimator, the effort weight
changes what it learns, a killed run resumes exactly, and bad settings fail before any model loads."""

from __future__ import annotations

import json
import math

import pytest

torch = pytest.importorskip("torch")

from bao.agent.prompt import IM_END  # noqa: E402
from bao.pipelines.rl import Trainer  # noqa: E402
from bao.pipelines.rl_config import RLConfig, build_config  # noqa: E402
from tests.pipelines.clue_env import ANSWER, ASK, first_turn  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread", "clue_env")


def ask_probability(model, tokenizer) -> float:
    """P(ask) / (P(ask) + P(answer)) at the first turn's decision token (`[action` against `[answer`), from the
    model's log-probs: no sampling noise."""
    from bao.policies.hf import HFPolicy

    policy = HFPolicy(model, tokenizer)
    prompt = policy.prompt_ids(first_turn())
    ask, answer = policy.encode(ASK + IM_END), policy.encode(ANSWER + IM_END)
    split = next(i for i, (a, b) in enumerate(zip(ask, answer)) if a != b)
    ids = torch.tensor([prompt + ask[:split]])
    with torch.no_grad():
        logp = torch.log_softmax(model(input_ids=ids).logits[0, -1].float(), -1)
    return 1 / (1 + math.exp(logp[answer[split]].item() - logp[ask[split]].item()))


def _config(warm_start, tmp_path, **overrides) -> RLConfig:
    base = dict(env="clue", model=str(warm_start), out=tmp_path / "run", steps=40, tasks_per_step=4, group_size=8,
                lr=1e-3, temperature=0.8, top_p=1.0, max_new_tokens=8, micro_batch=8, seed=0, save_every=100)
    return build_config(None, {**base, **overrides}, [])


@pytest.mark.parametrize("algo", ["grpo", "userrl", "bao-paper", "bao"])
def test_every_estimator_learns_to_ask_for_the_clue(algo, warm_start, tmp_path):
    trainer = Trainer(_config(warm_start, tmp_path, algo=algo))
    before = ask_probability(trainer.model, trainer.tokenizer)
    trainer.run()
    after = ask_probability(trainer.model, trainer.tokenizer)
    assert 0.2 < before < 0.8
    assert after > 0.8, (before, after)  # measured 0.92-0.97 from 0.22


def test_a_large_effort_weight_teaches_bao_to_ask_less(warm_start, tmp_path):
    free = Trainer(_config(warm_start, tmp_path / "free", algo="bao", w=0.0))
    costly = Trainer(_config(warm_start, tmp_path / "costly", algo="bao", w=1.0))
    before = ask_probability(free.model, free.tokenizer)
    free.run()
    costly.run()
    assert ask_probability(costly.model, costly.tokenizer) < before / 2  # measured 0.015 from 0.22
    assert ask_probability(free.model, free.tokenizer) > 0.8


def test_a_killed_run_resumes_with_the_same_next_step(warm_start, tmp_path):
    settings = dict(steps=3, save_every=1, algo="bao")
    straight = Trainer(_config(warm_start, tmp_path / "straight", **settings))
    straight.run()
    first = Trainer(_config(warm_start, tmp_path / "resumed", **{**settings, "steps": 2}))
    first.run()
    resumed = Trainer(_config(warm_start, tmp_path / "resumed", **settings))
    resumed.run()

    def steps(path):
        lines = [json.loads(line) for line in (path / "log.jsonl").read_text().splitlines()]
        return {r["step"]: r for r in lines if r["event"] == "step"}

    a, b = steps(tmp_path / "straight" / "run"), steps(tmp_path / "resumed" / "run")
    assert a[3]["loss/policy"] == b[3]["loss/policy"]
    assert a[3]["episode/score"] == b[3]["episode/score"]
    assert any(json.loads(line)["event"] == "resume" for line in (tmp_path / "resumed" / "run" / "log.jsonl")
               .read_text().splitlines())


def test_a_run_killed_in_its_final_evaluation_finishes_it_from_the_kept_episodes(warm_start, tmp_path, monkeypatch):
    import bao.pipelines.evaluate as evaluation

    real, played = evaluation.evaluate, []

    def counted(config, policy, out, progress=None, **kwargs):
        def count(k):
            played.append(k)
            if kill and sum(played) >= 2:
                raise KeyboardInterrupt
        return real(config, policy, out, progress=count, **kwargs)

    config = _config(warm_start, tmp_path, steps=1, eval_n=3, eval_seeds="0,1", eval_before=False)
    monkeypatch.setattr(evaluation, "evaluate", counted)
    kill = True
    with pytest.raises(KeyboardInterrupt):
        Trainer(config).run()
    kill, played = False, []
    summary = Trainer(config).run()

    out = tmp_path / "run" / "eval-step-1"
    assert played[0] == 2 and sum(played) == 6  # the 2 kept episodes are counted at once, the other 4 played
    assert not (out / evaluation.INCOMPLETE).exists() and (out / evaluation.METRICS).is_file()
    assert len((out / evaluation.TRAJECTORIES).read_text().splitlines()) == 6 and "eval" in summary


def test_lora_with_kl_trains_only_the_adapters_and_logs_the_kl(warm_start, tmp_path):
    trainer = Trainer(_config(warm_start, tmp_path, algo="bao", lora=True, kl_coef=0.1, steps=2))
    frozen = {n: p.detach().clone() for n, p in trainer.model.named_parameters() if not p.requires_grad}
    summary = trainer.run()
    assert all(torch.equal(p, frozen[n]) for n, p in trainer.model.named_parameters() if n in frozen)
    assert summary["last_step"]["loss/kl"] >= 0
    assert (tmp_path / "run" / "final" / "config.json").is_file()  # merged: loads as a plain model


def test_filter_groups_drops_groups_of_equal_scores(warm_start, tmp_path):
    trainer = Trainer(_config(warm_start, tmp_path, algo="grpo", filter_groups=True, steps=1, group_size=2))
    metrics = trainer.train_step()
    assert metrics["train/dropped_groups"] + metrics["train/rows"] / 2 <= 4
    assert all(any(r.advantages) for r in trainer.last_rows) or metrics["train/rows"] == 0
    assert 0.05 < metrics["mem/peak_rss_gib"] < 64  # GiB, not KiB or bytes


def test_bao_train_runs_from_the_command_line(warm_start, tmp_path, capsys):
    from bao.cli.main import main

    config = tmp_path / "run.yaml"
    config.write_text(f"env: clue\nmodel: {warm_start}\nsteps: 1\ntasks_per_step: 1\ngroup_size: 2\n"
                      "max_new_tokens: 8\nreward:\n  lambda_is: 0.1\n")
    code = main(["train", "--config", str(config), "--out", str(tmp_path / "cli"), "--algo", "bao",
                 "algo_args.gamma=0.9", "temperature=1.0"])
    assert code == 0
    saved = json.loads((tmp_path / "cli" / "rl_config.json").read_text())
    assert saved["reward"] == {"lambda_is": 0.1} and saved["algo_args"] == {"gamma": 0.9}
    assert saved["temperature"] == 1.0 and saved["steps"] == 1
    assert "final model in" in capsys.readouterr().out
    assert main(["train", "--config", str(config), "--out", str(tmp_path / "cli"), "--algo", "grpo"]) == 2


@pytest.mark.parametrize("bad, message", [
    (["--algo", "ppo"], "--algo 'ppo' is unknown"),
    (["--w", "-0.1"], "--w must be >= 0"),
    (["--group-size", "1"], "--group-size 1 with std normalisation"),
    (["--init", "no/such/dir"], "--init no/such/dir: no such directory"),
    (["reward.lambda_x=1"], "reward:"),
    (["nonsense"], "not key=value"),
])
def test_bad_settings_fail_in_one_line_before_any_model_loads(bad, message, capsys, monkeypatch):
    from bao.cli.main import main

    monkeypatch.setattr("bao.pipelines.rl._load_model", lambda config: pytest.fail("the model was loaded"))
    assert main(["train", "--env", "clue", *bad]) == 2
    err = capsys.readouterr().out
    assert message in err and len(err.strip().splitlines()) == 1


def test_undefined_metrics_are_logged_as_null_so_the_log_stays_valid_json():
    from bao.pipelines.rl import _finite

    record = _finite({"episode/redundant_rate": math.nan, "loss/policy": 0.5, "eval": {"x": math.inf, "y": 1}})
    assert record == {"episode/redundant_rate": None, "loss/policy": 0.5, "eval": {"x": None, "y": 1}}
    json.dumps(record, allow_nan=False)


def test_a_number_written_as_yaml_reads_it_is_the_number_it_spells(tmp_path):
    config_file = tmp_path / "run.yaml"
    config_file.write_text("env: clue\nlr: 3e-6\n")  # YAML 1.1 reads 3e-6 (no dot) as a string
    config = build_config(config_file, {}, ["clip_ratio=2e-1"])
    assert config.lr == 3e-6 and config.clip_ratio == 0.2
    with pytest.raises(ValueError, match="--lr must be a number, got 'fast'"):
        build_config(None, {"env": "clue"}, ["lr=fast"])
