"""TauGym's scripted agents on the proxy: the oracle solves every task, the heuristic what it can infer."""

from bao.envs import make
from bao.envs.tau_tasks import SUPPORTED
from bao.policies.scripted import make_agent
from bao.rollout.episodes import run_episodes
from tests.conftest import needs_data


def _play(agent, split):
    tasks = make("tau").tasks(split)
    return tasks, run_episodes(lambda: make("tau"), make_agent(agent, "tau"), [(t, 0) for t in tasks])


@needs_data
def test_oracle_solves_every_task_of_both_splits_with_two_messages():
    for split in ("train", "test"):
        tasks, trajectories = _play("oracle", split)
        assert all(t.success for t in trajectories), split
        assert all(t.U <= 2 for t in trajectories)


@needs_data
def test_heuristic_solves_supported_tasks_within_the_turn_limit():
    tasks, trajectories = _play("heuristic", "train")
    assert sum(t.success for t in trajectories) >= 490  # the rest run out of turns (many writes)
    tasks, trajectories = _play("heuristic", "test")
    supported = [t for task, t in zip(tasks, trajectories) if task.hidden["support"] == SUPPORTED]
    assert all(t.success for t in supported)
    assert all(t.turns[-1].info["supported"] == (task.hidden["support"] == SUPPORTED)
               for task, t in zip(tasks, trajectories))


@needs_data
def test_answer_now_never_reaches_a_write_goal():
    tasks, trajectories = _play("answer-now", "train")
    assert not any(t.success for t in trajectories) and all(t.U == 0 for t in trajectories)
