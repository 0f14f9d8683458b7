"""PersuadeGym's scripted agents against the offline persona."""

from bao.envs import make
from bao.envs.persuade import near_repeat
from bao.policies.base import Context
from bao.policies.scripted import make_agent
from bao.policies.scripted.persuade import TEMPLATES, claim_of
from bao.rollout.episodes import run_episodes
from tests.conftest import needs_data


def _play(agent, tasks):
    return run_episodes(lambda: make("persuade"), make_agent(agent, "persuade"), [(t, 0) for t in tasks])


@needs_data
def test_oracle_persuades_every_test_persona_in_six_turns():
    oracle = _play("oracle", make("persuade").tasks("test"))
    assert all(t.success and t.n_turns == 6 for t in oracle)


@needs_data
def test_heuristic_persuades_most_personas_with_more_arguments_than_the_oracle():
    heuristic = _play("heuristic", make("persuade").tasks("test"))
    assert sum(t.success for t in heuristic) / len(heuristic) >= 0.9
    assert min(t.n_turns for t in heuristic) > 6


@needs_data
def test_the_heuristics_claim_arguments_are_not_repeats_of_one_another():
    task = make("persuade").tasks("test")[0]
    claim = claim_of(Context(task=task, messages=list(task.prompt), seed=0))
    arguments = [template.format(claim=claim) for template in TEMPLATES]
    assert not any(near_repeat(arg, arguments[:i]) for i, arg in enumerate(arguments))


@needs_data
def test_answer_now_moves_one_level_and_stops():
    runs = _play("answer-now", make("persuade").tasks("test")[:5])
    assert all(t.n_turns == 2 and abs(t.R - 1 / 6) < 1e-5 and not t.success for t in runs)
