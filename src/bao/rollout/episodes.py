"""Run many episodes of a text policy at once: each round asks the policy for the next turn of every active
episode in one batch, parses the actions, steps the environments and retires the finished episodes."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bao.agent.parse import parse_action
from bao.core.types import Task, Trajectory, Turn
from bao.envs.base import Env
from bao.policies.base import Context, Policy, episode_rng


def start_episode(env: Env, task: Task, seed: int, policy_name: str, draw: int = 0) -> tuple[Trajectory, Context]:
    env.reset(task, seed)
    messages = [dict(m) for m in task.prompt]
    traj = Trajectory(env=env.spec.name, task_id=task.id, seed=seed, policy=policy_name, messages=messages)
    return traj, Context(task=task, messages=messages, seed=seed, rng=episode_rng(seed, task.id), draw=draw)


def apply_turn(env: Env, traj: Trajectory, ctx: Context, output: str) -> bool:
    """Parse `output`, step the env, record the turn in `traj` and `ctx`; returns True when the episode ended."""
    action = parse_action(output, env.spec.action_kind)
    result = env.step(action)
    info = result.info
    turn = Turn(
        index=len(traj.turns),
        output=output,
        kind=action.kind.value,
        content=action.content,
        reasoning=action.reasoning,
        observation=result.observation,
        reward=result.reward,
        done=result.done,
        user_involved=bool(info.get("user_involved")),
        error=action.error,
        reward_components=dict(info.get("reward_components", {"task": result.reward})),
        info=info,
    )
    traj.turns.append(turn)
    traj.R += result.reward
    traj.score = float(info["score"]) if "score" in info else traj.R
    traj.U += int(turn.user_involved)
    traj.U_userrl += int(bool(info.get("user_involved_userrl")))
    traj.success = traj.success or bool(info.get("success"))
    ctx.messages.append({"role": "assistant", "content": output})
    ctx.messages.append({"role": "tool", "content": result.observation})
    ctx.turn += 1
    if result.done:
        traj.stop_reason = "done" if info.get("terminated") else "max_turns"
    return result.done


def run_episodes(
    make_env: Callable[[], Env],
    policy: Policy,
    jobs: Sequence[tuple[Task, int]],
    on_done: Callable[[Trajectory], None] | None = None,
) -> list[Trajectory]:
    """Play every (task, seed) job to the end with `policy`; trajectories come back in job order."""
    envs = [make_env() for _ in jobs]
    started = [start_episode(env, task, seed, policy.name) for env, (task, seed) in zip(envs, jobs)]
    active = list(range(len(jobs)))
    while active:
        outputs = policy.act_batch([started[i][1] for i in active])
        still = []
        for i, output in zip(active, outputs):
            traj, ctx = started[i]
            if apply_turn(envs[i], traj, ctx, output):
                if on_done:
                    on_done(traj)
            else:
                still.append(i)
        active = still
    return [traj for traj, _ in started]
