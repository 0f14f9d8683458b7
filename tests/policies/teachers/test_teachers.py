import pytest

from bao.agent.behaviors import parse_behavior
from bao.agent.parse import parse_action
from bao.core.types import Trajectory, Turn
from bao.envs import make
from bao.envs.travel_tasks import preferences_of
from bao.pipelines.evaluate import EvalConfig, evaluate
from bao.policies.base import Context
from bao.policies.scripted.telepathy import replay
from bao.policies.teachers import available, make_teacher
from bao.policies.teachers.audit import find_leaks, mentions
from bao.policies.teachers.base import BROKEN_CHARS, is_broken, played_turns
from bao.policies.teachers.telepathy import LIST_AT
from bao.policies.teachers.travel import preference_item
from tests.conftest import needs_data

N_TASKS = {"function": 40, "intention": 40, "telepathy": 60, "travel": 40, "turtle": 40}


@pytest.fixture(scope="module", params=available())
def episodes(request):
    """Teacher episodes on both splits of every env: (env, trajectories, tasks by id)."""
    env = request.param
    trajectories, tasks = [], {}
    for split in ("train", "test"):
        result = evaluate(EvalConfig(env, split=split, n=N_TASKS[env]), make_teacher(env))
        trajectories += result.trajectories
        tasks.update({t.id: t for t in make(env).tasks(split)})
    return env, trajectories, tasks


@needs_data
def test_teacher_reasoning_never_states_hidden_facts_before_they_are_told(episodes):
    _, trajectories, tasks = episodes
    leaks = [leak for traj in trajectories for leak in find_leaks(traj, tasks[traj.task_id])]
    assert leaks == []


@needs_data
def test_teachers_solve_most_train_tasks(episodes):
    _, trajectories, tasks = episodes
    train = [t for t in trajectories if tasks[t.task_id].split == "train"]
    assert sum(t.success for t in train) / len(train) >= 0.85


@needs_data
def test_every_bao_turn_follows_the_grammar_with_the_true_budget(episodes):
    _, trajectories, _ = episodes
    for traj in trajectories:
        for turn in played_turns(traj):
            assert parse_behavior(turn.reasoning).budget == 16 - turn.index


@needs_data
def test_a_broken_turn_loops_to_the_token_limit_and_the_next_turn_is_clean(episodes):
    """Some episodes break one turn the way fine-tuned models do (a list line of the next turn's reasoning
    looped until the turn is cut, or its reasoning closed again and again); it is a detour, and the turn after
    it is written in the grammar."""
    env, trajectories, tasks = episodes
    teacher = make_teacher(env)
    broken = 0
    for traj in trajectories:
        invalid = [t for t in traj.turns if t.kind == "invalid"]
        assert [t.index for t in invalid] in ([], [teacher.broken_turn(traj.task_id, traj.seed)])
        for turn in invalid:
            broken += 1
            assert len(turn.output) == BROKEN_CHARS and "<tool_call>" not in turn.output
            assert turn.index in teacher.detours(tasks[traj.task_id], traj)
            after = traj.turns[turn.index + 1]
            assert parse_action(after.output).valid
            assert turn.output.startswith("<think>\n" + after.reasoning.split("\n")[0])
    assert 0.1 * len(trajectories) < broken < 0.6 * len(trajectories)


@needs_data
@pytest.mark.parametrize("env", available())
def test_none_variant_makes_the_same_moves_without_reasoning(env):
    config = EvalConfig(env, split="train", n=10)
    bao = evaluate(config, make_teacher(env, "bao")).trajectories
    none = evaluate(config, make_teacher(env, "none")).trajectories
    for a, b in zip(bao, none):
        played = [(t.kind, t.content) for t in played_turns(a)]
        moves = [(t.kind, t.content) for t in b.turns]
        if len(played) == a.n_turns:
            assert played == moves
        else:  # the break cost a turn: the same moves until the smaller budget changes the plan or runs out
            assert played[:-1] == moves[:len(played) - 1]
        assert all(t.reasoning == "" and parse_action(t.output).valid for t in b.turns)


def _traj(task, reasoning, content="", earlier="", revealed=()):
    turns = []
    if earlier:
        turns.append(Turn(0, earlier, "ask", earlier, "", "No.", 0.0, False, True, info={"revealed": list(revealed)}))
    turns.append(Turn(len(turns), f"<think>{reasoning}</think>", "answer", content, reasoning, "", 0.0, True, True))
    return Trajectory(task.env, task.id, 0, "t", list(task.prompt), turns)


@needs_data
def test_audit_flags_the_target_named_too_early_and_allows_it_once_told():
    task = make("telepathy").tasks("test")[0]
    title = task.hidden["title"]
    assert find_leaks(_traj(task, f"I bet it is {title}"), task)
    assert not find_leaks(_traj(task, f"guess {title}", content=title), task)
    assert not find_leaks(_traj(task, f"it is not {title}", earlier=f"Is it {title}?"), task)


@needs_data
def test_audit_skips_a_broken_turn_and_does_not_count_it_as_seen():
    task = make("telepathy").tasks("test")[0]
    title = task.hidden["title"]
    broken = Turn(0, f"<think>\nKnown: {title}; {title}", "invalid", "", f"Known: {title}", "Format error.", 0.0,
                  False, False)
    later = Turn(1, f"<think>I bet it is {title}</think>", "answer", "", f"I bet it is {title}", "", 0.0, True, True)
    traj = Trajectory(task.env, task.id, 0, "t", list(task.prompt), [broken, later])
    assert [leak.turn for leak in find_leaks(traj, task)] == [1]


@needs_data
def test_audit_flags_a_travel_preference_or_best_option_named_before_the_agent_could_know_it():
    task = make("travel").tasks("test")[0]
    pref = preferences_of(task)[0]
    item = preference_item(pref.aspect, pref.attribute, pref.value)
    prompt = "\n".join(m["content"] for m in task.prompt)
    unseen = [best for best in task.hidden["best"].values() if not mentions(prompt, best)]  # the prompt cites H3
    assert unseen and all(find_leaks(_traj(task, f"recommend {best}"), task) for best in unseen)
    assert find_leaks(_traj(task, f"the user wants {item}"), task)
    assert not find_leaks(_traj(task, f"the user wants {item}", earlier="What matters?", revealed=[pref.key]), task)


@needs_data
def test_travel_teacher_asks_only_questions_that_reveal_a_preference():
    trajectories = evaluate(EvalConfig("travel", split="train", n=40), make_teacher("travel")).trajectories
    asks = [turn for traj in trajectories for turn in traj.turns if turn.kind == "ask"]
    assert asks and all(turn.info["revealed"] for turn in asks)


@needs_data
def test_intention_teacher_keeps_one_short_item_per_settled_detail():
    """Known lists `topic: option` per detail the user settled, not the replies verbatim (a small model trained
    on a growing list of whole reply sentences copies them until its token limit)."""
    trajectories = evaluate(EvalConfig("intention", split="train", n=40), make_teacher("intention")).trajectories
    for traj in trajectories:
        for turn in played_turns(traj):
            known = parse_behavior(turn.reasoning).known
            told = sum(len(t.info["revealed"]) for t in traj.turns[: turn.index])
            assert len(known) == told and all(": " in item and "question" not in item.lower() for item in known)


@needs_data
def test_intention_teacher_detours_reveal_nothing_and_the_next_turn_recovers():
    """A mistake re-asks a settled detail or asks what the user does not care about; the next turn written in
    the grammar says so in its plan, keeps Known as it was and asks about a detail still open. Every other
    question reveals one."""
    teacher = make_teacher("intention")
    trajectories = evaluate(EvalConfig("intention", split="train", n=40), teacher).trajectories
    tasks = {t.id: t for t in make("intention").tasks("train")}
    detoured = 0
    for traj in trajectories:
        detours = teacher.detours(tasks[traj.task_id], traj)
        detoured += bool(detours)
        for turn in traj.turns:
            assert bool(turn.info["revealed"]) == (turn.index not in detours)
        mistakes = teacher.mistakes(tasks[traj.task_id], traj)
        turns = played_turns(traj)
        for before, after in zip(turns, turns[1:]):
            if before.index not in mistakes:
                continue
            before, after = parse_behavior(before.reasoning), parse_behavior(after.reasoning)
            assert after.plan.startswith("that ") and after.known == before.known
    assert 0 < detoured < len(trajectories)


@needs_data
def test_telepathy_teacher_groups_known_attributes_by_answer():
    """However many questions were asked, Known holds the told category and one item per answer kind, and
    every answered attribute appears once under the answer the user gave."""
    trajectories = evaluate(EvalConfig("telepathy", split="train", n=20), make_teacher("telepathy")).trajectories
    last = max((t.turns[-1] for t in trajectories), key=lambda turn: turn.index)
    assert last.index >= 5
    for traj in trajectories:
        for turn in played_turns(traj):
            known = parse_behavior(turn.reasoning).known
            groups = dict(item.split(": ", 1) for item in known if not item.startswith("it is "))
            assert len(known) <= 4 and set(groups) <= {"yes", "no", "maybe"}
            asked = [t for t in traj.turns[: turn.index] if t.kind == "ask" and t.observation.strip(". ").lower()
                     in ("yes", "no", "maybe")]
            assert sum(len(ids.split(", ")) for ids in groups.values()) == len(asked)


@needs_data
def test_telepathy_teacher_names_the_candidates_once_few_are_left_and_the_audit_allows_that_list():
    """Alive names exactly the entities the public knowledge base leaves (the heuristic's survivors) once at
    most LIST_AT are left, and counts them before; the same list written before the answers narrowed the
    pool to it is a leak."""
    task_by_id = {t.id: t for t in make("telepathy").tasks("train")}
    trajectories = evaluate(EvalConfig("telepathy", split="train", n=20), make_teacher("telepathy")).trajectories
    listed = 0
    for traj in trajectories:
        task = task_by_id[traj.task_id]
        messages = list(task.prompt)
        for turn in traj.turns:
            if not is_broken(turn):
                alive = replay(Context(task, messages, seed=0).history).alive
                names = parse_behavior(turn.reasoning).alive
                if len(alive) <= LIST_AT:
                    assert names == tuple(sorted(e.title for e in alive))
                    listed += len(alive) > 1
                else:
                    assert names == (f"{len(alive)} candidates",)
            messages += [{"role": "assistant", "content": turn.output}, {"role": "tool", "content": turn.observation}]
    assert listed >= 5
    task = task_by_id[trajectories[0].task_id]
    listing = f"Alive: {task.hidden['title']}, Zebra"
    early = Turn(0, f"<think>{listing}</think>", "ask", "Is it big?", listing, "No.", 0.0, False, True)
    assert find_leaks(Trajectory(task.env, task.id, 0, "t", list(task.prompt), [early]), task)


def test_mentions_needs_whole_numbers_and_phrases():
    assert mentions("f(1, 2) = -16.0", "-16")
    assert not mentions("f(1, 2) = -160", "-16")
    assert not mentions("budget 116", "16")
    assert mentions("The  KIWI fruit", "kiwi")


@needs_data
@pytest.mark.parametrize("env", ["function", "telepathy"])
def test_answer_turns_plan_with_the_tool_choice_they_call(env):
    """A plan that said "guess X" before an `answer` call taught a fine-tuned model to call a choice `guess`."""
    trajectories = evaluate(EvalConfig(env, split="train", n=20), make_teacher(env)).trajectories
    plans = [(turn.kind, parse_behavior(turn.reasoning).plan) for traj in trajectories for turn in played_turns(traj)]
    assert any(kind == "answer" for kind, _ in plans)
    assert all(plan.startswith("answer ") for kind, plan in plans if kind == "answer")


@needs_data
def test_function_teacher_errs_only_on_a_detour_or_between_two_predictions_and_recovers():
    """A wrong answer is either the detour (the first answer, kept out of SFT's loss) or one of two surviving
    predictions; the next turn lists it as wrong and answers a different value."""
    teacher = make_teacher("function")
    trajectories = evaluate(EvalConfig("function", split="train", n=40), teacher).trajectories
    tasks = {t.id: t for t in make("function").tasks("train")}
    recovered, detoured = 0, 0
    for traj in trajectories:
        detours = teacher.mistakes(tasks[traj.task_id], traj)
        detoured += bool(detours)
        turns = played_turns(traj)
        for before, after in zip(turns, turns[1:]):
            if before.kind == "answer" and not before.reward:
                plan = parse_behavior(before.reasoning).plan
                assert "one of 2 predictions" in plan or (before.index in detours and "best guess" in plan)
                assert f"answer {before.content} (wrong)" in parse_behavior(after.reasoning).ruled_out
                assert after.kind == "answer" and after.content != before.content
                recovered += after.reward == 1.0
        assert all(traj.turns[i].kind == "answer" and not traj.turns[i].reward for i in detours)
    assert recovered >= 1 and 0 < detoured < len(trajectories)
