import argparse
import json
import subprocess
import sys

import pytest

from bao.cli import main as main_module
from bao.cli.main import build_parser, main
from tests.conftest import needs_data


def _run(args, **kw):
    return subprocess.run([sys.executable, "-m", "bao.cli.main", *args], capture_output=True, text=True,
                          timeout=120, **kw)


def test_unknown_env_is_a_one_line_error(capsys):
    assert main(["eval", "nope", "--agent", "oracle"]) == 2
    out = capsys.readouterr().out.strip()
    assert "unknown environment 'nope'" in out and "bao envs" in out
    assert len(out.splitlines()) == 1


def test_missing_data_dir_names_the_variable(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("BAO_DATA_DIR", str(tmp_path / "missing"))
    assert main(["eval", "function", "--agent", "oracle"]) == 2
    out = " ".join(capsys.readouterr().out.split())
    assert "BAO_DATA_DIR" in out and "not a directory" in out


def test_malformed_task_file_names_the_file(capsys, monkeypatch, tmp_path):
    (tmp_path / "gyms" / "function").mkdir(parents=True)
    (tmp_path / "gyms" / "function" / "functions.json").write_text("[{")
    monkeypatch.setenv("BAO_DATA_DIR", str(tmp_path))
    assert main(["eval", "function", "--agent", "oracle"]) == 2
    out = " ".join(capsys.readouterr().out.split())
    assert "malformed JSON" in out and "functions.json" in out


def test_unknown_agent_lists_the_choices(capsys):
    assert main(["eval", "function", "--agent", "genius"]) == 2
    assert "choose one of random, answer-now, heuristic, oracle" in " ".join(capsys.readouterr().out.split())


@needs_data
def test_eval_writes_trajectories_and_metrics_and_oracle_beats_everyone(tmp_path):
    results = {}
    for agent in ("oracle", "heuristic", "answer-now", "random"):
        out = tmp_path / agent
        assert main(["eval", "function", "--agent", agent, "--n", "50", "--seed", "0,1", "--out", str(out)]) == 0
        metrics = json.loads((out / "metrics.json").read_text())
        assert metrics["episodes"] == 100
        assert len((out / "trajectories.jsonl").read_text().splitlines()) == 100
        results[agent] = metrics["metrics"]
    assert results["oracle"]["success"]["mean"] >= 0.95
    assert results["answer-now"]["score"]["mean"] < 0.1
    assert results["heuristic"]["score"]["mean"] > results["answer-now"]["score"]["mean"] + 0.2
    for agent in ("heuristic", "answer-now", "random"):
        assert results["oracle"]["U_userrl"]["mean"] <= results[agent]["U_userrl"]["mean"]


@needs_data
def test_eval_is_deterministic_under_a_seed(tmp_path):
    for run in ("a", "b"):
        argv = ["eval", "function", "--agent", "random", "--n", "10", "--seed", "7", "--out", str(tmp_path / run)]
        assert main(argv) == 0
    assert (tmp_path / "a" / "trajectories.jsonl").read_bytes() == (tmp_path / "b" / "trajectories.jsonl").read_bytes()


@needs_data
def test_play_runs_an_episode_from_piped_stdin():
    result = _run(["play", "function", "--task", "func-484"], input="[search] test\n[action] 1 2 3 4\n[finish]\n")
    assert result.returncode == 0, result.stderr
    assert "Test case:" in result.stdout and "the result is" in result.stdout
    assert "finished without correct answer" in result.stdout


@needs_data
def test_envs_lists_function_with_its_split_sizes():
    result = _run(["envs"])
    assert result.returncode == 0
    assert "function" in result.stdout and "460" in result.stdout and "78" in result.stdout


@needs_data
def test_scripted_demo_prints_a_table_per_environment(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--scripted", "--env", "function", "--env", "telepathy", "--n", "3"]) == 0
    out = capsys.readouterr().out
    assert "function / test: scripted agents" in out and "telepathy / test: scripted agents" in out
    assert "scripted agents, each 3 episodes (seed 0)" in " ".join(out.split())
    assert (tmp_path / "runs" / "demo-scripted" / "telepathy-oracle" / "metrics.json").exists()


@pytest.fixture
def no_model(monkeypatch):
    """Fails the test if the command gets as far as building a policy (loading a model)."""

    def refuse(args):
        raise AssertionError("a policy was built before the command line was checked")

    monkeypatch.setattr(main_module, "_make_policy", refuse)


def _one_line_error(capsys) -> str:
    out = capsys.readouterr().out.strip()
    assert len(out.splitlines()) == 1, out
    return out


def test_eval_refuses_an_out_path_that_is_a_file(tmp_path, capsys, no_model):
    target = tmp_path / "results"
    target.write_text("keep me")
    assert main(["eval", "function", "--agent", "oracle", "--out", str(target)]) == 2
    assert "is a file" in _one_line_error(capsys) and target.read_text() == "keep me"


@pytest.mark.parametrize("name", ["metrics.json", "trajectories.jsonl"])
def test_eval_refuses_an_out_dir_with_earlier_results(tmp_path, capsys, no_model, name):
    (tmp_path / name).write_text("{}")
    assert main(["eval", "function", "--policy", "hf", "--out", str(tmp_path)]) == 2
    out = _one_line_error(capsys)
    assert "earlier results" in out and "--overwrite" in out and "--resume" in out
    assert (tmp_path / name).read_text() == "{}"


def test_eval_refuses_an_out_dir_it_cannot_write(tmp_path, capsys, no_model):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        try:
            (locked / "probe").touch()
        except OSError:
            pass
        else:
            pytest.skip("permission bits do not stop this user (root) from writing")
        assert main(["eval", "function", "--agent", "oracle", "--out", str(locked / "run")]) == 2
        assert "cannot write" in _one_line_error(capsys)
    finally:
        locked.chmod(0o700)


def test_eval_refuses_an_out_dir_where_no_file_can_be_created(tmp_path, capsys, no_model, monkeypatch):
    """What a read-only mount does to any user, root included (whom permission bits do not stop)."""
    from bao.pipelines import outputs

    def read_only(**kw):
        raise PermissionError(30, "Read-only file system")

    monkeypatch.setattr(outputs.tempfile, "NamedTemporaryFile", read_only)
    assert main(["eval", "function", "--agent", "oracle", "--out", str(tmp_path / "run")]) == 2
    assert f"cannot write in {tmp_path} (Read-only file system)" in _one_line_error(capsys)
    assert not (tmp_path / "run").exists()


@needs_data
def test_eval_overwrite_replaces_earlier_results(tmp_path, capsys):
    (tmp_path / "metrics.json").write_text("{}")
    assert main(["eval", "function", "--agent", "oracle", "--n", "2", "--out", str(tmp_path), "--overwrite"]) == 0
    assert json.loads((tmp_path / "metrics.json").read_text())["episodes"] == 2
    assert "function / test: 2 episodes (seed 0)" in " ".join(capsys.readouterr().out.split())


@needs_data
def test_eval_resume_finishes_a_run_and_refuses_other_settings_before_loading(tmp_path, capsys, monkeypatch):
    from bao.pipelines import evaluate as evaluate_module

    argv = ["eval", "function", "--agent", "random", "--n", "3", "--seed", "0,1", "--out", str(tmp_path)]
    real = evaluate_module.evaluate

    def interrupted(*args, progress, **kw):
        finished = []

        def stop_at_two(k):
            progress(k)
            finished.append(k)
            if sum(finished) >= 2:
                raise KeyboardInterrupt

        return real(*args, progress=stop_at_two, **kw)

    monkeypatch.setattr(evaluate_module, "evaluate", interrupted)
    assert main(argv) == 130
    monkeypatch.setattr(evaluate_module, "evaluate", real)
    capsys.readouterr()
    assert main([*argv[:-4], "--seed", "0", "--out", str(tmp_path), "--resume"]) == 2
    assert "seeds [0, 1] -> [0]" in _one_line_error(capsys)
    assert main([*argv, "--resume"]) == 0
    assert json.loads((tmp_path / "metrics.json").read_text())["episodes"] == 6


def test_overwrite_and_resume_exclude_each_other(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["eval", "function", "--overwrite", "--resume"])
    assert exit_.value.code == 2 and "--resume" in capsys.readouterr().err


@pytest.mark.parametrize("argv, flag", [
    (["eval", "function", "--max-turns", "0"], "--max-turns"),
    (["eval", "function", "--batch-size", "0"], "--batch-size"),
    (["eval", "function", "--n", "0"], "--n"),
    (["eval", "function", "--n", "two"], "--n"),
    (["eval", "function", "--max-new-tokens", "-5"], "--max-new-tokens"),
    (["eval", "function", "--temperature", "-0.1"], "--temperature"),
    (["eval", "function", "--temperature", "nan"], "--temperature"),
    (["eval", "function", "--top-p", "0"], "--top-p"),
    (["eval", "function", "--top-p", "1.5"], "--top-p"),
    (["play", "function", "--seed", "x"], "--seed"),
    (["demo", "--n", "0"], "--n"),
    (["demo", "--seed", ","], "--seed"),
])
def test_a_bad_number_fails_at_parse_time_naming_the_flag(capsys, argv, flag):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2 and f"argument {flag}:" in capsys.readouterr().err


@needs_data
def test_n_beyond_the_split_is_refused_with_the_task_count(capsys, no_model):
    assert main(["eval", "function", "--n", "1000"]) == 2
    assert "--n 1000 is more than the 78 tasks" in _one_line_error(capsys)
    assert main(["demo", "--scripted", "--env", "function", "--n", "1000"]) == 2
    assert "78 tasks" in _one_line_error(capsys)


def test_the_main_demo_refuses_the_scripted_demos_flags(capsys, no_model):
    assert main(["demo", "--n", "3"]) == 2
    assert "--scripted" in _one_line_error(capsys)


def test_agent_with_an_llm_policy_is_refused(capsys, no_model):
    assert main(["eval", "function", "--policy", "hf", "--agent", "oracle"]) == 2
    assert "--agent" in _one_line_error(capsys)


def test_default_output_dirs_of_two_final_models_differ(tmp_path):
    labels = set()
    for run in ("sft-a", "sft-b"):
        (tmp_path / run / "final").mkdir(parents=True)
        model = str(tmp_path / run / "final")
        args = build_parser().parse_args(["eval", "function", "--policy", "hf", "--model", model])
        labels.add(main_module._label(args))
    assert labels == {"hf-sft-a-final", "hf-sft-b-final"}


def test_help_lists_every_command_with_a_one_line_help_and_play_and_demo_explain_their_arguments():
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {choice.dest: choice.help for choice in commands._choices_actions}
    assert set(helps) == set(main_module.COMMANDS) and all(helps.values())
    for name in ("play", "demo"):
        assert all(action.help for action in commands.choices[name]._actions)


def test_error_messages_show_user_text_verbatim(capsys):
    assert main(["eval", "[bold]nope[/bold]"]) == 2
    assert "[bold]nope[/bold]" in capsys.readouterr().out
