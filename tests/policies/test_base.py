from bao.envs import make
from bao.pipelines.evaluate import EvalConfig, evaluate
from bao.policies.base import Context, history_of
from bao.policies.teachers import make_teacher
from tests.conftest import needs_data


@needs_data
def test_history_of_a_recorded_episode_is_the_history_its_policy_saw():
    """Audits replay a trajectory's turns; they must read the moves a policy read from its messages, broken
    (invalid) turns included."""
    tasks = {t.id: t for t in make("telepathy").tasks("train")}
    trajectories = evaluate(EvalConfig("telepathy", split="train", n=8), make_teacher("telepathy")).trajectories
    assert any(t.kind == "invalid" for traj in trajectories for t in traj.turns)
    for traj in trajectories:
        messages = list(tasks[traj.task_id].prompt)
        for played, turn in enumerate(traj.turns):
            assert history_of(traj.turns[:played]) == Context(tasks[traj.task_id], messages, seed=0).history
            messages += [{"role": "assistant", "content": turn.output}, {"role": "tool", "content": turn.observation}]
        assert len(history_of(traj.turns)) == len(traj.turns)
