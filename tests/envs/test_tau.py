import json

import pytest

from bao.agent.parse import parse_action
from bao.envs import make
from bao.envs.tau import INVALID_CALL, TOOLS_AGAIN, outputs_said, parse_tool_call
from bao.envs.tau_customer import STOP
from bao.envs.tau_db import build_db, state_hash
from bao.envs.tau_tasks import SUPPORTED, profile_of, task_pool, tool_catalogue
from bao.envs.tau_tools import run_tool
from tests.conftest import needs_data

pytestmark = needs_data

RETURN = {"name": "return_delivered_order_items",
          "arguments": {"order_id": "#W6067464", "item_ids": ["9624127908", "8917609800"],
                        "payment_method_id": "credit_card_4190576"}}


def _task(task_id, split="train"):
    return next(t for t in task_pool(split) if t.id == task_id)


def _env(task_id="retail-train-000", split="train", **kwargs):
    env = make("tau", **kwargs)
    env.reset(_task(task_id, split), seed=0)
    return env


def _do(env, text):
    return env.step(parse_action(text))


def _call(env, call):
    return _do(env, f"[answer] {json.dumps(call)}")


def test_pools_have_userrl_sizes_and_test_mixes_retail_and_airline():
    train, test = task_pool("train"), task_pool("test")
    assert (len(train), len(test)) == (500, 165)
    assert {t.hidden["domain"] for t in train} == {"retail"}
    assert sum(t.hidden["domain"] == "airline" for t in test) == 50
    assert all(t.hidden["support"] == SUPPORTED for t in train)
    assert sum(t.hidden["support"] == SUPPORTED for t in test) == 100


def test_every_ground_truth_tool_has_a_schema_and_every_train_write_runs_on_the_proxy_db():
    names = {a["name"] for s in ("train", "test") for t in task_pool(s) for a in t.hidden["actions"]}
    assert names <= set(tool_catalogue()["schemas"])
    for task in task_pool("train"):
        db = build_db(task)
        for action in task.hidden["actions"]:
            assert not run_tool(db, action["name"], action["kwargs"]).startswith("Error"), (task.id, action)


def test_profile_reads_identity_and_templated_items():
    profile = profile_of(_task("retail-train-000"))
    assert (profile.first_name, profile.last_name, profile.zip) == ("Omar", "Anderson", "19031")
    assert profile.items[("#W6067464", "9624127908")].name == "Electric Kettle"


def test_read_tools_return_records_and_errors():
    db = build_db(_task("retail-train-000"))
    assert run_tool(db, "find_user_id_by_name_zip", {"first_name": "omar", "last_name": "Anderson",
                                                      "zip": "19031"}) == "omar_anderson_3203"
    order = json.loads(run_tool(db, "get_order_details", {"order_id": "#W6067464"}))
    assert order["status"] == "delivered" and len(order["items"]) == 3  # two to return, one decoy
    assert run_tool(db, "get_order_details", {"order_id": "#W0000000"}) == "Error: order not found"
    assert run_tool(db, "calculate", {"expression": "(2 + 3) * 1.5"}) == "7.5"
    assert run_tool(db, "get_order_details", {}).startswith("Error: get_order_details takes order_id; missing")
    assert run_tool(db, "search_direct_flight", {}).startswith("Error: unknown tool")  # an airline tool


def test_write_tools_validate_against_the_db_and_change_nothing_on_error():
    db = build_db(_task("retail-train-000"))
    before = state_hash(db)
    bad = [("return_delivered_order_items", {**RETURN["arguments"], "payment_method_id": "paypal_1"}),
           ("return_delivered_order_items", {**RETURN["arguments"], "item_ids": ["123"]}),
           ("cancel_pending_order", {"order_id": "#W6067464", "reason": "no longer needed"}),  # delivered
           ("cancel_pending_order", {"order_id": "#W6067464", "reason": "because"})]
    for name, arguments in bad:
        assert run_tool(db, name, arguments).startswith("Error"), (name, arguments)
    assert state_hash(db) == before
    assert json.loads(run_tool(db, RETURN["name"], RETURN["arguments"]))["status"] == "return requested"
    assert run_tool(db, RETURN["name"], RETURN["arguments"]).startswith("Error")  # once per order


def test_item_modification_locks_the_order_so_address_must_change_first():
    task = _task("retail-train-068")
    writes = {a["name"]: a["kwargs"] for a in task.hidden["actions"] if a["kwargs"]["order_id"] == "#W1205816"}
    db = build_db(task)
    assert not run_tool(db, "modify_pending_order_items", writes["modify_pending_order_items"]).startswith("Error")
    assert run_tool(db, "modify_pending_order_address", writes["modify_pending_order_address"]).startswith("Error")


def test_writes_on_different_orders_commute():
    task = _task("retail-train-068")
    cancels = [a for a in task.hidden["actions"] if a["name"] == "cancel_pending_order"]
    hashes = []
    for order in (cancels, cancels[::-1]):
        db = build_db(task)
        for action in order:
            run_tool(db, action["name"], action["kwargs"])
        hashes.append(state_hash(db))
    assert hashes[0] == hashes[1]


def test_right_writes_then_stop_earn_one():
    env = _env()
    assert _do(env, "[action] What is your name and zip code?").observation.startswith("My name is Omar Anderson")
    assert "Yes" in _do(env, "[action] I will return 2 items of order #W6067464. Shall I proceed?").observation
    result = _call(env, RETURN)
    assert not result.done and result.reward == 0.0  # reward only at the end
    end = _do(env, "[action] Done. Anything else?")
    assert STOP in end.observation and end.done and end.reward == 1.0 and end.info["success"]


def test_wrong_arguments_earn_zero_even_when_the_customer_stops():
    env = _env()
    wrong = {**RETURN, "arguments": {**RETURN["arguments"], "item_ids": ["9624127908"]}}
    assert not _call(env, wrong).observation.startswith("Error")
    end = _do(env, "[action] Anything else?")
    assert end.done and end.reward == 0.0 and not end.info["db_matches_goal"]


def test_finish_scores_the_database_and_the_name_colon_form_is_a_tool_call():
    env = _env()
    _do(env, f"[answer] {RETURN['name']}: {json.dumps(RETURN['arguments'])}")
    end = _do(env, "[finish]")
    assert end.done and end.reward == 1.0 and end.observation == "Episode finished. Final reward: 1.0"


def test_truncation_without_stop_scores_zero():
    env = _env(max_steps=2)
    _call(env, RETURN)
    last = _do(env, "[search] help")
    assert last.done and last.info["truncated"] and last.reward == 0.0


def test_outputs_must_be_said_to_the_customer():
    assert outputs_said(["8276.23"], ["The total refund is $8,276.23."])
    assert not outputs_said(["10", "polyester"], ["There are 10 options."])
    task = next(t for t in task_pool("test") if t.hidden["outputs"] and len(t.hidden["outputs"]) == 1
                and not any(a["name"].startswith(("cancel", "modify", "return", "exchange", "update", "book"))
                            for a in t.hidden["actions"]))
    for message, reward in (("I looked it up.", 0.0), (f"The answer is {task.hidden['outputs'][0]}.", 1.0)):
        env = make("tau")
        env.reset(task, seed=0)
        _do(env, f"[action] {message}")
        assert _do(env, "[finish]").reward == reward


def test_transfer_to_human_agents_ends_the_episode():
    env = _env()
    result = _call(env, {"name": "transfer_to_human_agents", "arguments": {"summary": "help"}})
    assert result.done and result.reward == 0.0 and result.observation == "Transfer successful"


def test_customer_refuses_a_proposal_outside_its_goals_and_flags_repeats_as_redundant():
    env = _env()
    no = _do(env, "[action] I will cancel order #W1234567. Shall I proceed?")
    assert no.observation.startswith("No") and no.info["user_involved"]
    first = _do(env, "[action] Could you give me your email or name and zip?")
    again = _do(env, "[action] Please tell me your name and zip code.")
    assert first.info["revealed"] == ["identity"] and not first.info["redundant"]
    assert again.info["redundant"] and again.info["revealed"] == []


def test_search_tools_once_help_and_invalid_actions_use_userrl_messages():
    env = _env()
    tools = _do(env, "[search] tools").observation
    assert tools.startswith("Available Tools:") and "return_delivered_order_items" in tools
    assert "book_reservation" not in tools
    assert _do(env, "[search] tools").observation == TOOLS_AGAIN
    assert _do(env, "[search] flights").observation.startswith("Search not supported for 'flights'")
    assert _do(env, "[answer] not json").observation == INVALID_CALL
    invalid = _do(env, "hello there")
    assert invalid.info["kind"] == "invalid" and invalid.observation.startswith("Invalid action format: hello there")
    assert not invalid.done


def test_tool_calls_are_not_user_effort_but_messages_are():
    env = _env()
    assert not _call(env, RETURN).info["user_involved"]
    assert _do(env, "[action] Hello?").info["user_involved"]


def test_parse_tool_call_forms():
    assert parse_tool_call('{"name": "calculate", "arguments": {"expression": "1+1"}}') == \
        ("calculate", {"expression": "1+1"})
    assert parse_tool_call('calculate: {"expression": "1"}') == ("calculate", {"expression": "1"})
    assert parse_tool_call("calculate 1+1") is None


def test_same_task_same_seed_same_episode_and_db():
    for task in task_pool("test")[:20]:
        assert state_hash(build_db(task)) == state_hash(build_db(task))
    texts = []
    for _ in range(2):
        env = _env("retail-000", "test")
        texts.append([_do(env, m).observation for m in ("[action] Hi, how can I help? Your name and zip?",
                                                          "[action] Which order ids, and which payment method?")])
    assert texts[0] == texts[1]


def test_airline_writes_run_and_booking_gets_a_deterministic_id():
    task = _task("airline-000", "test")
    db = build_db(task)
    action = task.hidden["actions"][0]
    booked = json.loads(run_tool(db, action["name"], action["kwargs"]))
    assert booked["reservation_id"] == "NEW001" and booked["cabin"] == "economy"


def test_llm_backend_needs_a_model():
    with pytest.raises(ValueError, match="needs a model"):
        make("tau", user="llm")


class _FakeLLM:
    """Stands in for `bao.users.llm.LLMUser`: records the calls, always satisfied."""

    def __init__(self):
        self.calls = []

    def ask_json(self, system, prompt, *, seed):
        self.calls.append((system, prompt, seed))
        return {"reply": f"That's all, thanks! {STOP}"}


def test_llm_customer_plays_the_instruction_and_its_stop_ends_the_episode():
    env = make("tau")
    env.llm_user = _FakeLLM()
    env.reset(_task("retail-train-000"), seed=3)
    _call(env, RETURN)
    end = _do(env, "[action] I returned both items.")
    system, prompt, _ = env.llm_user.calls[0]
    assert "Omar Anderson" in system and prompt.endswith("agent: I returned both items.\ncustomer:")
    assert end.done and end.reward == 1.0
