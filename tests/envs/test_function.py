import json
import math
import re

import pytest

from bao.agent.parse import parse_action
from bao.agent.render import render_tool_call
from bao.core.types import ActionKind, Task
from bao.envs import EpisodeOver, make
from bao.envs.data import DataError
from bao.envs.function import TEST_CASE_REFUSAL
from tests.conftest import needs_data

_NUM = re.compile(r"-?(?:\d+\.?\d*(?:e[+-]?\d+)?|inf)")


def _numbers(text: str) -> list[float]:
    return [float(x) for x in _NUM.findall(text)]


def _task(record: dict) -> Task:
    hidden = {k: record["task"][k] for k in ("rule", "test_case", "expected_result")}
    prompt = [{"role": "user", "content": "start"}]
    return Task(record["task"]["function_id"], "function", "train", prompt, hidden)


def _episodes(conformance_dir):
    path = conformance_dir / "function_userrl_episodes.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_reproduces_every_recorded_userrl_episode(conformance_dir):
    checked = 0
    for episode in _episodes(conformance_dir):
        env = make("function", max_steps=episode["env_config"]["max_steps"])
        env.reset(_task(episode), seed=0)
        for step in episode["steps"]:
            if step.get("tool_call"):
                call = step["tool_call"]
                text = render_tool_call(call["choice"], call["content"])
            else:
                text = step["action"]
            action = parse_action(text, ActionKind.ASK)
            where = f"{episode['episode_id']} t={step['t']} {step['action']!r}"
            if step.get("after_done"):
                with pytest.raises(EpisodeOver):
                    env.step(action)
                continue
            assert action.wire.strip() == step["action"].strip() or not action.valid, where
            result = env.step(action)
            assert result.reward == step["reward"], where
            assert result.info["terminated"] == step["terminated"], where
            assert result.info["truncated"] == step["truncated"], where
            expected_numbers = _numbers(step["obs"]["feedback"])
            got = _numbers(result.observation)[: len(expected_numbers)]
            assert len(got) == len(expected_numbers), (where, result.observation, step["obs"]["feedback"])
            for a, b in zip(got, expected_numbers):
                assert a == b or (math.isnan(a) and math.isnan(b)), (where, result.observation)
            checked += 1
    assert checked > 1000


@needs_data
def test_tasks_load_from_the_official_splits():
    env = make("function")
    assert len(env.tasks("train")) == 460
    test = env.tasks("test")
    assert len(test) == 78
    assert test[0].prompt[0]["role"] == "system"
    assert "interact_with_env" in test[0].prompt[0]["content"]


def test_same_task_and_seed_give_the_same_episode():
    task = Task("f", "function", "test", [{"role": "user", "content": "go"}],
                {"rule": "a * b + c - d", "test_case": [1, 2, 3, 4], "expected_result": 1.0})
    outputs = []
    for _ in range(2):
        env = make("function")
        env.reset(task, seed=3)
        outputs.append([env.step(parse_action(t)).observation
                        for t in ("[action] 2 3 4 5", "[search] test", "[answer] 1")])
    assert outputs[0] == outputs[1]
    assert outputs[0][0].endswith("the result is 5.0.")



_RULE = {"rule": "a * b + c - d", "test_case": [1, 2, 3, 4], "expected_result": 1.0}


def _play(texts: list[str], **kwargs) -> list:
    env = make("function", **kwargs)
    env.reset(Task("f", "function", "test", [{"role": "user", "content": "go"}], _RULE), seed=0)
    return [env.step(parse_action(t)) for t in texts]


def test_by_default_a_query_a_hair_off_the_test_case_echoes_the_answer_and_the_success_is_marked():
    probe, answer = _play(["[action] 1 2 3 4.0000001", "[answer] 1"])
    assert probe.observation.endswith("the result is 1.0.") and probe.info["value"] == 1.0
    assert probe.info["near_test_case"] and not probe.info["redundant"]
    assert answer.reward == 1.0 and answer.info["success"] and answer.info["via_loophole"]


def test_the_guard_refuses_queries_near_the_test_case_and_leaves_integer_queries_alone():
    near, exact, edge, honest, answer = _play(
        ["[action] 1.4 2 3 4.0000001", "[action] 1 2 3 4", "[action] 1.5 2 3 4", "[action] 2 3 4 5", "[answer] 1"],
        guard_test_case=True)
    assert near.observation == exact.observation == TEST_CASE_REFUSAL and "value" not in near.info
    assert near.info["near_test_case"] and not exact.info["near_test_case"]
    assert not edge.info["near_test_case"] and edge.info["value"] == 2.0
    assert honest.observation.endswith("the result is 5.0.") and not honest.info["near_test_case"]
    assert answer.reward == 1.0 and answer.info["success"] and not answer.info["via_loophole"]


def test_a_repeated_query_is_redundant_and_changes_nothing_else():
    first, again, same_floats, other = _play(["[action] 2 3 4 5", "[action] 2 3 4 5", "[action] 2.0 3 4 5.0",
                                              "[action] 2 3 4 6"])
    assert not first.info["redundant"] and again.info["redundant"] and same_floats.info["redundant"]
    assert not other.info["redundant"]
    assert again.observation == first.observation and again.reward == first.reward == 0.0

def test_a_malformed_function_file_names_the_file_and_field(tmp_path, monkeypatch):
    (tmp_path / "gyms" / "function").mkdir(parents=True)
    functions = [{"id": "func-1", "rule": "a + __import__('os')", "test_case": [1, 2, 3, 4], "expected_result": 1.0}]
    (tmp_path / "gyms" / "function" / "functions.json").write_text(json.dumps(functions))
    monkeypatch.setenv("BAO_DATA_DIR", str(tmp_path))
    with pytest.raises(DataError, match=r"functions.json item 0 .*field 'rule'"):
        make("function").tasks("test")
