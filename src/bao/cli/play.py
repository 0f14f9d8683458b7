"""`bao play`: a person plays an episode in the terminal and sees exactly what the agent would see.

Type a plain action (`[action] 1 2 3 4`, `[search] test`, `[answer] 42`, `[finish]`) or a tool call; an
empty line or end of input quits. Env and task text is printed as plain text, never as rich markup: rich would
take `[action]` for a style tag and drop it, and the player would not see what the agent sees.
"""

from __future__ import annotations

from rich.console import Console
from rich.panel import Panel
from rich.text import Text

from bao.envs import make
from bao.rollout.episodes import apply_turn, start_episode


def play(env_name: str, task_id: str | None, split: str, seed: int, console: Console,
         env_kwargs: dict | None = None) -> int:
    """`env_kwargs` reach the env (e.g. `user="llm"` and its config, from `--user llm`)."""
    env = make(env_name, **(env_kwargs or {}))
    tasks = env.tasks(split)
    if task_id is None:
        task = tasks[0]
    else:
        matches = [t for t in tasks if t.id == task_id]
        if not matches:
            raise ValueError(f"no task {task_id!r} in the {split} split of {env_name} (ids look like {tasks[0].id!r})")
        task = matches[0]
    traj, ctx = start_episode(env, task, seed, "human")
    for message in task.prompt:
        console.print(Panel(Text(message["content"]), title=Text(message["role"]), title_align="left"))
    console.print("Type an action such as [action] ..., [search] ..., [answer] ..., or [finish]. Empty line quits.",
                  markup=False)
    while True:
        try:
            line = console.input("[bold]you>[/bold] ")
        except EOFError:
            break
        if not line.strip():
            break
        done = apply_turn(env, traj, ctx, line)
        turn = traj.turns[-1]
        title = Text(f"env (turn {turn.index + 1}, {turn.kind}, reward {turn.reward})")
        console.print(Panel(Text(turn.observation), title=title, title_align="left"))
        if done:
            break
    console.print(f"R={traj.R} success={traj.success} U={traj.U} turns={traj.n_turns} ({traj.stop_reason or 'quit'})",
                  markup=False)
    return 0
