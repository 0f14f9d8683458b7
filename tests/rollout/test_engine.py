from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from bao.core.types import Action, ActionKind, StepResult, Task, Trajectory, read_jsonl  # noqa: E402
from bao.envs.base import Env, EnvSpec  # noqa: E402
from bao.policies.decoding import sequence_logprobs  # noqa: E402
from bao.policies.hf import HFPolicy  # noqa: E402
from bao.policies.sampling import SamplingConfig  # noqa: E402
from bao.rollout.engine import EngineConfig, run_engine  # noqa: E402
from tests.conftest import needs_data  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SAMPLED = SamplingConfig(temperature=0.7, top_p=0.9, max_new_tokens=10)
GREEDY = SamplingConfig(temperature=0.0, max_new_tokens=10)


class CountdownEnv(Env):
    """Terminates on its `finish_at`-th step (0 = never); answers every turn with a short, varying text.

    Its prompts share the system prompt and its tool schema, so the engine copies their cached prefix."""

    spec = EnvSpec(name="countdown", description="test env", choices=("action", "answer"), max_steps=4)

    def __init__(self, max_steps: int | None = None, finish_at: int = 0) -> None:
        super().__init__(max_steps)
        self.finish_at = finish_at

    def tasks(self, split: str) -> list[Task]:
        return [
            Task(id=f"t{i}", env="countdown", split=split,
                 prompt=[{"role": "system", "content": "Count down."},
                         {"role": "user", "content": f"Go {i}." + " Again." * i}])
            for i in range(3)
        ]

    def _step(self, action: Action) -> StepResult:
        done = self.steps == self.finish_at
        text = f"step {self.steps}: {'format error: ' + action.error if not action.valid else 'ok'}"
        return StepResult(text, 1.0 if done else 0.0, done, {"success": done})


def play(tiny, sampling=SAMPLED, config=None, seeds=(0,), **env_kwargs) -> list[Trajectory]:
    config = EngineConfig(batch_size=3) if config is None else config
    policy = HFPolicy(*tiny, sampling)
    tasks = CountdownEnv().tasks("test")
    jobs = [(task, seed) for seed in seeds for task in tasks]
    return run_engine(lambda: CountdownEnv(**env_kwargs), policy, jobs, config)


def segments(mask: list[int]) -> list[tuple[int, int]]:
    """(start, end) of every run of 1s."""
    out, start = [], None
    for i, m in enumerate(mask + [0]):
        if m and start is None:
            start = i
        elif not m and start is not None:
            out.append((start, i))
            start = None
    return out


def test_mask_marks_exactly_each_turns_sampled_tokens(tiny):
    policy = HFPolicy(*tiny, SAMPLED)
    for traj in play(tiny):
        record = traj.tokens
        assert len(record.ids) == len(record.mask) == len(record.logprobs)
        runs = segments(record.mask)
        assert [start for start, _ in runs] == record.turn_starts
        assert len(runs) == traj.n_turns
        for (start, end), turn in zip(runs, traj.turns):
            assert policy.text(record.ids[start:end]) == turn.output
            assert end - start == turn.info["policy_tokens"]
        assert all(lp == 0.0 for lp, m in zip(record.logprobs, record.mask) if not m)


def test_ids_are_the_prompt_then_per_turn_sampled_ids_end_of_turn_and_observation(tiny):
    """The engine's ids are the pieces whose concatenation `test_hf` proves equal to a full render."""
    policy = HFPolicy(*tiny, SAMPLED)
    for traj in play(tiny):
        record = traj.tokens
        expected = policy.prompt_ids(traj.messages[:2])
        for k, turn in enumerate(traj.turns):
            start, end = segments(record.mask)[k]
            expected += record.ids[start:end]
            if k + 1 < traj.n_turns:
                close = [] if record.ids[end - 1] == policy.end_of_turn_id else [policy.end_of_turn_id]
                expected += close + policy.observation_ids(turn.observation)
        assert record.ids == expected


@pytest.mark.parametrize("sampling", [SAMPLED, GREEDY], ids=["sampled", "greedy"])
def test_recorded_logprobs_match_a_forward_pass_within_1e_4(tiny, sampling):
    model, _ = tiny
    for traj in play(tiny, sampling):
        record = traj.tokens
        assert record.temperature == (sampling.temperature or 1.0)
        reference = sequence_logprobs(model, record.ids, record.temperature)
        diffs = [abs(a - b) for a, b, m in zip(record.logprobs, reference, record.mask) if m]
        assert diffs and max(diffs) < 1e-4


@pytest.mark.parametrize("sampling", [SAMPLED, GREEDY], ids=["sampled", "greedy"])
def test_same_seed_gives_identical_trajectories(tiny, sampling):
    first = [t.to_dict() for t in play(tiny, sampling)]
    again = [t.to_dict() for t in play(tiny, sampling)]
    assert first == again


def test_another_seed_samples_other_trajectories(tiny):
    zero = [t.tokens.ids for t in play(tiny, seeds=(0,))]
    one = [t.tokens.ids for t in play(tiny, seeds=(1,))]
    assert zero != one


def test_stop_reasons_done_max_turns_max_tokens_and_context_limit(tiny):
    assert {t.stop_reason for t in play(tiny, finish_at=2)} == {"done"}
    assert all(t.n_turns == 2 and t.success for t in play(tiny, finish_at=2))
    assert {(t.stop_reason, t.n_turns) for t in play(tiny)} == {("max_turns", 4)}
    budget = play(tiny, config=EngineConfig(batch_size=3, max_tokens=15))
    assert {t.stop_reason for t in budget} == {"max_tokens"}
    assert all(sum(t.tokens.mask) == 15 for t in budget)
    limit = max(len(t.tokens.ids) for t in play(tiny, max_steps=1)) + 20
    cramped = play(tiny, config=EngineConfig(batch_size=3, context_limit=limit))
    assert {t.stop_reason for t in cramped} == {"context_limit"}
    assert all(len(t.tokens.ids) < limit for t in cramped)


def test_a_prompt_longer_than_the_context_ends_before_the_first_turn(tiny):
    trajectories = play(tiny, config=EngineConfig(batch_size=3, context_limit=8))
    assert all(t.stop_reason == "context_limit" and t.n_turns == 0 for t in trajectories)


def test_malformed_generation_is_an_invalid_action_and_the_episode_goes_on(tiny):
    for traj in play(tiny):
        assert traj.n_turns == 4  # the random model never writes a valid call, nothing crashes
        for turn in traj.turns:
            assert turn.kind == ActionKind.INVALID.value and turn.error
            assert turn.observation.startswith(f"step {turn.index + 1}: format error")


def test_a_turn_cut_at_max_new_tokens_is_closed_by_a_masked_end_of_turn_token(tiny):
    policy = HFPolicy(*tiny, SAMPLED)
    cut = 0
    for traj in play(tiny):
        record = traj.tokens
        for (start, end), turn in zip(segments(record.mask)[:-1], traj.turns):
            if turn.info["cut_off"]:
                cut += 1
                assert end - start == SAMPLED.max_new_tokens
                assert record.ids[end] == policy.end_of_turn_id and record.mask[end] == 0
    assert cut > 0


LENGTHS = [4, 1, 2, 1, 3, 1]  # turns of the episodes of `uneven`, in job order


def uneven(tiny, sampling=SAMPLED, batch_size=2, on_turns=None, on_done=None) -> list[Trajectory]:
    """Six jobs (three tasks, seeds 0 and 1) whose episodes end after `LENGTHS` turns."""
    policy = HFPolicy(*tiny, sampling)
    jobs = [(task, seed) for seed in (0, 1) for task in CountdownEnv().tasks("test")]
    lengths = iter(LENGTHS)  # the engine makes the envs in job order
    return run_engine(lambda: CountdownEnv(finish_at=next(lengths)), policy, jobs, EngineConfig(batch_size=batch_size),
                      on_done=on_done, on_turns=on_turns)


@pytest.mark.parametrize("sampling", [SAMPLED, GREEDY], ids=["sampled", "greedy"])
def test_batch_size_only_changes_how_many_episodes_decode_together(tiny, sampling):
    """A trajectory does not depend on which episodes share its rounds, nor on when it started."""
    runs = {size: uneven(tiny, sampling, batch_size=size) for size in (1, 2, 16)}
    for trajectories in runs.values():
        assert [t.tokens.ids for t in trajectories] == [t.tokens.ids for t in runs[1]]
        assert [t.R for t in trajectories] == [t.R for t in runs[1]]
        for traj, alone in zip(trajectories, runs[1]):
            assert max(abs(a - b) for a, b in zip(traj.tokens.logprobs, alone.tokens.logprobs)) < 1e-4


def test_a_finished_episodes_slot_goes_to_the_next_job_at_once(tiny):
    rounds: list[int] = []
    finished: list[str] = []
    trajectories = uneven(tiny, on_turns=lambda turns, _: rounds.append(turns),
                          on_done=lambda t: finished.append(f"{t.task_id}/{t.seed}"))
    # Waves of 2 would take 4 + 2 + 3 rounds; refilling each slot at once, both slots play until the last job
    # has started: jobs 0 and 1, 0 and 2, 0 and 2, 0 and 3, 4 and 5, then job 4 alone twice.
    assert rounds == [2, 2, 2, 2, 2, 1, 1]
    assert finished == ["t1/0", "t2/0", "t0/0", "t0/1", "t2/1", "t1/1"]
    assert [(t.task_id, t.seed) for t in trajectories] == [(f"t{i}", s) for s in (0, 1) for i in range(3)]
    assert [t.n_turns for t in trajectories] == LENGTHS
    assert all(t.stop_reason == "done" and t.success for t in trajectories)


def test_on_turns_reports_every_turn_and_every_generated_token(tiny):
    policy = HFPolicy(*tiny, SAMPLED)
    jobs = [(task, 0) for task in CountdownEnv().tasks("test")]
    rounds: list[tuple[int, int]] = []
    trajs = run_engine(lambda: CountdownEnv(), policy, jobs, EngineConfig(batch_size=2),
                       on_turns=lambda *r: rounds.append(r))
    assert sum(turns for turns, _ in rounds) == sum(len(t.turns) for t in trajs)
    assert sum(tokens for _, tokens in rounds) == sum(sum(t.tokens.mask) for t in trajs)


@needs_data
def test_evaluate_plays_an_llm_policy_through_the_engine_and_writes_token_records(tiny, tmp_path):
    from bao.pipelines.evaluate import EvalConfig, evaluate

    policy = HFPolicy(*tiny, SamplingConfig(max_new_tokens=8))
    config = EvalConfig(env="function", n=2, max_turns=2, batch_size=2)
    result = evaluate(config, policy, tmp_path)
    saved = list(read_jsonl(tmp_path / "trajectories.jsonl"))
    assert len(saved) == 2 and result.metrics["invalid_rate"].mean == 1.0
    for traj in saved:
        assert traj.tokens is not None and sum(traj.tokens.mask) == sum(t.info["policy_tokens"] for t in traj.turns)
        assert traj.stop_reason == "max_turns"
