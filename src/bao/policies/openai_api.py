"""An API-served model (OpenAI, vLLM, SGLang) as a bao policy, through the same harness as every agent.

Two ways to offer the tool:
- `native`: the request carries `tools=[TOOL_SCHEMA]`; past turns go back as assistant `tool_calls` and
  `tool` messages, the way the API expects;
- `text`: the tool schema is rendered into the system prompt and observations go back as user turns in
  `<tool_response>` tags (`bao.agent.prompt`), for servers without tool support;
- `auto` (default): native while the server honours tools, text for the rest of the run once it does not.
  A server does not when it refuses a request with tools (4xx), or when it accepts them but none of the
  replies to the first batch carries a tool call: llama.cpp's server does that when the model's chat template
  drops `tools`, and the model, never shown the tool, writes prose. That first batch is then asked again in
  text mode (its answers were written without the tool), and the switch is said once on stderr.
Whichever the mode, a reply becomes the text `bao.agent.parse` reads: reasoning in `<think>`, then one
`<tool_call>` block per call the model made (so two calls are an invalid turn, as for local models).
A past turn never goes back with `content: null` (llama.cpp's server answers it with HTTP 500): a call without
text carries `""`, which every OpenAI-compatible server accepts.

Sampling is seeded per turn (`turn_seed`), and with a response cache (`ClientConfig.cache`) a rerun replays
the same episodes without calling the server. API policies are text-level: no token ids or log-probs.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from typing import Any

from bao.agent.prompt import chat_messages
from bao.agent.wire import TOOL_SCHEMA
from bao.llm_client import ChatClient, ClientConfig, RequestRejected
from bao.policies.base import Context, Policy
from bao.policies.sampling import SamplingConfig

TOOL_MODES = ("auto", "native", "text")


@dataclass
class OpenAIPolicyConfig:
    """An endpoint, a model and how to sample it."""

    model: str  # the name the server knows the model by
    client: ClientConfig = field(default_factory=ClientConfig)
    tool_mode: str = "auto"  # auto | native | text (see the module docstring)
    sampling: SamplingConfig = field(default_factory=SamplingConfig)

    def __post_init__(self) -> None:
        if self.tool_mode not in TOOL_MODES:
            raise ValueError(f"tool mode must be one of {', '.join(TOOL_MODES)}, got {self.tool_mode!r}")


class OpenAIPolicy(Policy):
    """Sends each active episode's conversation as one chat request; a batch goes out concurrently."""

    def __init__(self, config: OpenAIPolicyConfig, client: ChatClient | None = None) -> None:
        self.config = config
        self.client = client or ChatClient(config.client)
        self.mode = "native" if config.tool_mode == "auto" else config.tool_mode
        self.name = f"openai:{config.model}"
        self._probing = config.tool_mode == "auto"  # the first batch decides whether the server honours tools

    def act(self, ctx: Context) -> str:
        return self.act_batch([ctx])[0]

    def act_batch(self, contexts: list[Context]) -> list[str]:
        try:
            answers = self.client.chat_many([self.request(ctx) for ctx in contexts])
        except RequestRejected as exc:
            if self.config.tool_mode != "auto" or self.mode == "text":
                raise
            self._use_text(f"refused a request with tools (HTTP {exc.status})")
            answers = self.client.chat_many([self.request(ctx) for ctx in contexts])
        if self._probing and self.mode == "native" and answers:
            self._probing = False
            if not any(answer.get("tool_calls") for answer in answers):
                self._use_text("accepts tools but answered without a tool call (its chat template drops them?)")
                answers = self.client.chat_many([self.request(ctx) for ctx in contexts])
        return [output_text(answer) for answer in answers]

    def _use_text(self, reason: str) -> None:
        """Switch to the text tool format for the rest of the run, and say so (once: the switch happens once)."""
        self.mode, self._probing = "text", False
        print(f"bao: {self.client.endpoint} {reason}: using the text tool format (the tool described in the "
              "system prompt) for the rest of the run", file=sys.stderr)

    def request(self, ctx: Context) -> dict[str, Any]:
        """The `chat.completions.create` arguments of the next turn, in the current tool mode."""
        request: dict[str, Any] = {
            "model": self.config.model,
            "temperature": self.config.sampling.temperature,
            "top_p": self.config.sampling.top_p,
            "max_tokens": self.config.sampling.max_new_tokens,
            "seed": ctx.sampling_seed % 2**31,
        }
        if self.mode == "native":
            request["messages"] = native_messages(ctx.messages)
            request["tools"] = [TOOL_SCHEMA]
        else:
            request["messages"] = chat_messages(ctx.messages)
        return request


def output_text(answer: dict[str, Any]) -> str:
    """A reply as the text the parser reads: `<think>` reasoning, then a `<tool_call>` block per call."""
    content = (answer.get("content") or "").strip()
    calls = answer.get("tool_calls") or []
    if not calls:
        return content
    blocks = []
    for call in calls:
        try:
            arguments: Any = json.loads(call["arguments"])
        except (TypeError, json.JSONDecodeError):
            arguments = call["arguments"]  # kept as written: the parser reports it as invalid
        payload = json.dumps({"name": call["name"], "arguments": arguments}, ensure_ascii=False)
        blocks.append(f"<tool_call>\n{payload}\n</tool_call>")
    if content and not content.startswith("<think>"):
        content = f"<think>\n{content}\n</think>"
    return "\n".join([content, *blocks] if content else blocks)


def native_messages(messages: list[dict[str, str]]) -> list[dict[str, Any]]:
    """A bao conversation in the API's tool-call form.

    An assistant turn that holds exactly one readable `<tool_call>` goes back as a `tool_calls` message and its
    observation as the matching `tool` message; any other turn goes back as text, its observation as a user
    message (a tool message must answer a call).
    """
    out: list[dict[str, Any]] = []
    call_id = None
    for message in messages:
        role = message["role"]
        if role == "assistant":
            call = _single_call(message["content"])
            call_id = f"call_{len(out)}" if call else None
            if call:
                reasoning, name, arguments = call
                out.append({"role": "assistant", "content": reasoning, "tool_calls": [
                    {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}]})
            else:
                out.append({"role": "assistant", "content": message["content"]})
        elif role == "tool":
            out.append({"role": "tool", "tool_call_id": call_id, "content": message["content"]} if call_id
                       else {"role": "user", "content": message["content"]})
        else:
            out.append({"role": role, "content": message["content"]})
    return out


def _single_call(text: str) -> tuple[str, str, str] | None:
    """(reasoning, name, arguments JSON) of a turn with exactly one decodable `<tool_call>` block."""
    if text.count("<tool_call>") != 1:
        return None
    head, rest = text.split("<tool_call>", 1)
    try:
        call = json.loads(rest.split("</tool_call>", 1)[0])
    except json.JSONDecodeError:
        return None
    if not isinstance(call, dict) or not isinstance(call.get("name"), str) or "arguments" not in call:
        return None
    arguments = call["arguments"]
    reasoning = head.strip().removeprefix("<think>").removesuffix("</think>").strip()
    return reasoning, call["name"], (arguments if isinstance(arguments, str)
                                     else json.dumps(arguments, ensure_ascii=False))
