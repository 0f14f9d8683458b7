"""What a chat model sees: the tool schema in the system prompt, observations as tool responses, ChatML.

bao's conversations (`Context.messages`) hold the task prompt (system, user), then per turn the assistant's
text and the environment's observation (role `tool`). Small chat models such as SmolLM2 have no tool support
in their chat template, so `chat_messages` turns a conversation into plain system / user / assistant
messages with the conventions of Qwen2.5's tool template: the schema inside `<tools>...</tools>` at the end
of the system prompt, calls written as `<tool_call>{json}</tool_call>` (what `bao.agent.parse` reads), and
each observation sent back as a user turn wrapped in `<tool_response>...</tool_response>`. A model whose
template is ChatML therefore sees the same text whichever of the two families it comes from.

`render_chatml` renders such messages exactly like `CHATML_TEMPLATE` (the template of bao's tiny test
models), for tokenizers that have no chat template of their own.
"""

from __future__ import annotations

import json

from bao.agent.wire import TOOL_NAME, TOOL_SCHEMA

IM_START = "<|im_start|>"
IM_END = "<|im_end|>"

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

_TOOLS_HEADER = (
    "# Tools\n\n"
    "You have one function. Its signature is inside <tools></tools> XML tags:\n<tools>\n"
)
_TOOLS_FOOTER = (
    "\n</tools>\n\n"
    "In every turn, first reason inside <think></think>, then call the function exactly once: write a JSON "
    "object with the function name and its arguments inside <tool_call></tool_call> XML tags:\n"
    "<tool_call>\n"
    f'{{"name": "{TOOL_NAME}", "arguments": {{"choice": "...", "content": "..."}}}}\n'
    "</tool_call>"
)


def tools_block(tools: list[dict] | None = None) -> str:
    """The text appended to the system prompt that describes the tools and the call format."""
    schemas = "\n".join(json.dumps(t, ensure_ascii=False) for t in (tools or [TOOL_SCHEMA]))
    return _TOOLS_HEADER + schemas + _TOOLS_FOOTER


def observation_message(observation: str) -> dict[str, str]:
    """An environment observation as the user turn that carries a tool response."""
    return {"role": "user", "content": f"<tool_response>\n{observation}\n</tool_response>"}


def chat_messages(messages: list[dict[str, str]], tools: list[dict] | None = None) -> list[dict[str, str]]:
    """A bao conversation as plain chat messages: tools in the system prompt, `tool` turns as user turns.

    A conversation without a system message gets one that holds only the tools block.
    """
    out: list[dict[str, str]] = []
    block = tools_block(tools)
    if not messages or messages[0]["role"] != "system":
        out.append({"role": "system", "content": block})
    for i, message in enumerate(messages):
        role, content = message["role"], message["content"]
        if role == "system" and i == 0:
            out.append({"role": "system", "content": f"{content.rstrip()}\n\n{block}"})
        elif role == "tool":
            out.append(observation_message(content))
        else:
            out.append({"role": role, "content": content})
    return out


def render_chatml(messages: list[dict[str, str]], add_generation_prompt: bool = False) -> str:
    """ChatML text of plain chat messages, identical to what `CHATML_TEMPLATE` renders."""
    text = "".join(f"{IM_START}{m['role']}\n{m['content']}{IM_END}\n" for m in messages)
    return text + (f"{IM_START}assistant\n" if add_generation_prompt else "")
