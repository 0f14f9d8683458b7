"""A scripted LLM user for tests: the fake OpenAI server answers each of bao's user and judge prompts with a
plausible JSON reply, chosen by the system prompt, so episodes of every env with `user="llm"` run offline."""

from __future__ import annotations

import json
import re
from typing import Any

from bao.envs import intention, persuade, search, tau_customer, telepathy, travel, turtle
from tests.llm_client.fake_server import FakeServer, Reply, completion


def _section(prompt: str, title: str) -> str:
    """The text under `## <title>` in a prompt, up to the next section."""
    match = re.search(rf"^## {re.escape(title)}[^\n]*\n(.*?)(?=^## |\Z)", prompt, re.MULTILINE | re.DOTALL)
    return match.group(1).strip() if match else ""


def fenced(obj: dict[str, Any]) -> str:
    """A reply as models write it: the JSON object in ```json fences."""
    return f"```json\n{json.dumps(obj)}\n```"


def scripted_reply(system: str, prompt: str) -> str:
    """What the scripted user says to one request: yes/no by keyword, full rubric credit, the first pending
    detail or preference, a persona moved one level, a judge that accepts the gold answer, a customer who agrees
    and stops; anything unknown gets a reply without JSON (the env's fallback)."""
    if system in (turtle.QUESTION_SYSTEM, telepathy.QUESTION_SYSTEM):
        question = _section(prompt, "Player's question") or _section(prompt, "The player's question")
        return fenced({"thought": "scripted", "response": "No" if " not " in f" {question} " else "Yes"})
    if system == turtle.JUDGE_SYSTEM:
        criteria = [line for line in _section(prompt, "Criteria").splitlines() if line.strip()]
        return fenced({"scores": [{"criterion": i + 1, "score": 1} for i in range(len(criteria))]})
    if system == telepathy.JUDGE_SYSTEM:
        guess = _section(prompt, "The player's guess").lower()
        entity = _section(prompt, "The entity you have in mind").lower()
        return fenced({"thought": "scripted", "judgment": "Yes" if guess and guess in entity else "No"})
    if system == intention.REPLY_SYSTEM:
        return fenced({"thought": "scripted", "response": "I would like the first option, please."})
    if system == intention.JUDGE_SYSTEM:
        return fenced({"analysis": "scripted", "task_related": True, "covered": [0]})
    if system == travel.JUDGE_SYSTEM:
        ids = re.findall(r"^- id (\S+):", _section(prompt, "The traveller's preferences not told yet"), re.MULTILINE)
        return fenced({"type": "2", "preference_id": ids[0]} if ids else {"type": "3"})
    if system == travel.REVEAL_SYSTEM:
        sentence = re.search(r"^Suggested sentence: (.*)$", prompt, re.MULTILINE)
        return fenced({"thought": "scripted", "response": sentence.group(1) if sentence else "Fine."})
    if system == travel.NEUTRAL_SYSTEM:
        return fenced({"thought": "scripted", "response": "Sounds fine."})
    if system == persuade.PERSONA_SYSTEM:
        before = re.search(r"^Your stance before this argument: (.*)$", prompt, re.MULTILINE).group(1)
        after = persuade.STANCES[min(persuade.STANCES.index(before) + 1, len(persuade.STANCES) - 1)]
        return fenced({"thought": "scripted", "response": "You have a point.", "stance": after})
    if system == search.JUDGE_SYSTEM:
        gold = re.search(r"^Gold answer: (.*)$", prompt, re.MULTILINE).group(1).lower()
        candidate = re.search(r"^Candidate answer: (.*)$", prompt, re.MULTILINE).group(1).lower()
        return fenced({"reasoning": "scripted", "judgment": "Yes" if gold in candidate else "No", "feedback": "-"})
    if system.startswith(tau_customer.SYSTEM_PROMPT.split("{")[0]):
        return fenced({"reply": f"Yes, please go ahead. {tau_customer.STOP}"})
    return "I am not sure what you mean."


def scripted_user(request: dict[str, Any]) -> Reply:
    messages = request["messages"]
    return completion(scripted_reply(messages[0]["content"], messages[-1]["content"]))


def scripted_server() -> FakeServer:
    """`with scripted_server() as server:` a fake endpoint playing bao's LLM user and judges."""
    return FakeServer(scripted_user)


def queued(*contents: str):
    """A reply function giving `contents` in order, one per request (the test decides every reply)."""
    replies = iter(contents)
    return lambda _request: completion(next(replies))


def llm_config(server: FakeServer, **kwargs: Any):
    """An LLM user config pointing at a test server: short timeout, no retries."""
    from bao.users.llm import LLMUserConfig

    return LLMUserConfig(model="scripted", base_url=server.base_url, timeout=5.0, max_retries=0, **kwargs)
