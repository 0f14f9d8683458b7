import json
import subprocess
import sys

from bao.cli.main import main
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
def test_demo_prints_a_table_per_environment(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--env", "function", "--env", "telepathy", "--n", "3"]) == 0
    out = capsys.readouterr().out
    assert "function / test: scripted agents" in out and "telepathy / test: scripted agents" in out
    assert (tmp_path / "runs" / "demo" / "telepathy-oracle" / "metrics.json").exists()
