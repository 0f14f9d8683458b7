import io
import time

from rich.console import Console

from bao.cli.progress import EpisodeProgress


def _log_console() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=False, width=200), out


def test_off_a_terminal_progress_is_printed_as_lines_with_turns_tokens_and_rate():
    console, out = _log_console()
    with EpisodeProgress(console, "function sft", total=4, every=0.0) as progress:
        progress.turns(4, 100)
        progress.episodes(1)
    lines = out.getvalue().splitlines()
    assert lines[0] == "function sft: 0/4 episodes, 0 s"  # at the start: the run has begun
    assert lines[1].startswith("function sft: 0/4 episodes") and "4 turns, 100 tokens" in lines[1]
    assert lines[-1].startswith("function sft: 1/4 episodes") and "tok/s" in lines[-1]


def test_lines_are_spaced_by_the_interval_and_the_last_one_always_comes():
    console, out = _log_console()
    with EpisodeProgress(console, "telepathy teacher (bao)", total=3, every=3600.0) as progress:
        progress.episodes(3)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and lines[0].startswith("telepathy teacher (bao): 0/3 episodes")
    assert lines[1].startswith("telepathy teacher (bao): 3/3 episodes")
    assert "turns" not in lines[1]  # scripted runs report episodes only


def test_off_a_terminal_a_run_that_reports_nothing_still_prints_a_line_every_interval():
    console, out = _log_console()
    with EpisodeProgress(console, "turtle heuristic", total=48, every=0.05):
        time.sleep(0.28)  # a lockstep batch: no episode finishes for a while
    lines = out.getvalue().splitlines()
    assert 4 <= len(lines) <= 8 and all(line.startswith("turtle heuristic: 0/48 episodes") for line in lines)


def test_labels_are_printed_verbatim_not_as_markup():
    console, out = _log_console()
    with EpisodeProgress(console, "function hf:[bold]x[/bold]", total=1, every=3600.0) as progress:
        progress.episodes(1)
    assert "function hf:[bold]x[/bold]: 1/1 episodes" in out.getvalue()
