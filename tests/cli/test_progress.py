import io

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
    assert lines[0].startswith("function sft: 0/4 episodes") and "4 turns, 100 tokens" in lines[0]
    assert lines[-1].startswith("function sft: 1/4 episodes") and "tok/s" in lines[-1]


def test_lines_are_spaced_by_the_interval_and_the_last_one_always_comes():
    console, out = _log_console()
    with EpisodeProgress(console, "telepathy teacher (bao)", total=3, every=3600.0) as progress:
        progress.episodes(3)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].startswith("telepathy teacher (bao): 3/3 episodes")
    assert "turns" not in lines[0]  # scripted runs report episodes only
