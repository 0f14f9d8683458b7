"""Progress of a run of episodes: a live bar in a terminal, periodic lines in a log file.

An LLM episode can take minutes on a CPU, so counting finished episodes says little; the display also shows
the turns played and the tokens generated (and their rate) as the rollout engine reports them. Under `nohup` or
with output redirected, rich draws no live bar, so the same figures are printed as a plain line at the start,
at most every `every` seconds, and once at the end. The periodic line comes from a timer thread, not only from
progress reports: a scripted batch plays its episodes in lockstep and may finish none for minutes (turtle's
heuristic does), and a log file must still show the run is alive.
"""

from __future__ import annotations

import threading
import time
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn


def live_bar(console: Console, label: str, total: int) -> tuple[Progress, TaskID]:
    """A started, transient rich bar with a count, the elapsed time and a free `detail` field."""
    columns = (TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn(), TextColumn("{task.fields[detail]}", markup=False))
    bar = Progress(*columns, console=console, transient=True)
    bar.start()
    return bar, bar.add_task(label, total=total, detail="")


class EpisodeProgress:
    """`with EpisodeProgress(console, label, total) as p:` then `p.episodes(k)` and `p.turns(turns, tokens)`."""

    def __init__(self, console: Console, label: str, total: int, every: float = 30.0) -> None:
        self.console, self.label, self.total, self.every = console, label, total, every
        self.done = self.turns_played = self.tokens = 0
        self.start = self.last_line = time.perf_counter()
        self.bar: Progress | None = None
        self.stop = threading.Event()
        self.timer: threading.Thread | None = None

    def __enter__(self) -> EpisodeProgress:
        if self.console.is_terminal:
            self.bar, self.job = live_bar(self.console, self.label, self.total)
            return self
        self._line()
        if self.every > 0:
            self.timer = threading.Thread(target=self._tick, name="episode-progress", daemon=True)
            self.timer.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop.set()
        if self.timer is not None:
            self.timer.join()
        if self.bar is not None:
            self.bar.stop()
        elif kind is None:
            self._line()

    def episodes(self, k: int) -> None:
        self.done += k
        self._refresh()

    def turns(self, turns: int, tokens: int) -> None:
        self.turns_played += turns
        self.tokens += tokens
        self._refresh()

    def detail(self) -> str:
        if not self.turns_played:
            return ""
        rate = self.tokens / max(time.perf_counter() - self.start, 1e-9)
        return f"{self.turns_played:,} turns, {self.tokens:,} tokens, {rate:.1f} tok/s"

    def _refresh(self) -> None:
        if self.bar is not None:
            self.bar.update(self.job, completed=self.done, detail=self.detail())
        elif time.perf_counter() - self.last_line >= self.every:
            self._line()

    def _tick(self) -> None:
        """Print a line whenever `every` seconds pass without one, until the run ends."""
        while not self.stop.wait(max(self.last_line + self.every - time.perf_counter(), 0.0)):
            if time.perf_counter() - self.last_line >= self.every:
                self._line()

    def _line(self) -> None:
        self.last_line = time.perf_counter()
        elapsed = self.last_line - self.start
        detail = self.detail()
        self.console.print(f"{self.label}: {self.done}/{self.total} episodes, {elapsed:.0f} s"
                           + (f", {detail}" if detail else ""), markup=False, highlight=False, soft_wrap=True)
