"""bao's conversation format in token ids, for any chat tokenizer: the prompt, each observation, each turn's text.

The model sees `bao.agent.prompt.chat_messages` (tool schema in the system prompt, observations as
`<tool_response>` user turns) rendered by its own chat template (bao's ChatML when it has none). A token-level
rollout asks for the prompt's ids once (`prompt_ids`), then after every turn for the ids of the observation
(`observation_ids`): the chat template's own text for "end of the assistant turn, observation turn, next
assistant header", tokenised after the end-of-turn token. Since that token is special, the tokeniser starts
afresh after it, so the pieces concatenate to the full render of the conversation whenever the assistant's
sampled ids are the canonical tokenisation of their text (see `tests/policies/test_hf.py`). A sampled turn
may use another split of the same text; then the recorded ids (what the model really produced) differ from a
re-tokenised render, which is why bao never re-tokenises. The template must be append-only (rendering one
more message only appends text), true of ChatML templates (SmolLM2, Qwen2.5) and checked here.

It needs only a tokenizer, so bao's own rollout engine (`HFPolicy`) and a rollout served by another engine
(verl's agent loop) build exactly the same token sequences.
"""

from __future__ import annotations

from collections.abc import Iterable

from bao.agent.prompt import chat_messages, render_chatml
from bao.policies.models import ModelError

_SENTINEL = "BAO7SENTINEL"
_PROBE = [{"role": "system", "content": "S"}, {"role": "user", "content": "U"}]
# The probe's assistant turn holds reasoning, so that a template that strips it from past turns (as Qwen3's
# does) fails the append-only check instead of silently breaking token-in, token-out.
_PROBE_TURN = {"role": "assistant", "content": f"<think>\nr\n</think>\n{_SENTINEL}"}


class ChatTokens:
    """A tokenizer that speaks bao's conversation format in ids.

    `end_of_turn_id` closes an assistant turn; `stop_ids` end a sampled turn (the end of turn, the tokenizer's
    end of sequence and `extra_stop_ids`); `pad_id` pads batches.
    """

    def __init__(self, tokenizer, extra_stop_ids: Iterable[int] = ()) -> None:
        self.tokenizer = tokenizer
        self.end_of_turn_id, self._turn_end_text = self._find_turn_end()
        eos = {tokenizer.eos_token_id} if tokenizer.eos_token_id is not None else set()
        self.stop_ids = frozenset({self.end_of_turn_id, *eos, *extra_stop_ids})
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else self.end_of_turn_id

    def render(self, messages: list[dict[str, str]], add_generation_prompt: bool) -> str:
        """The text of a bao conversation as the model sees it."""
        chat = chat_messages(messages)
        if self.tokenizer.chat_template is None:
            return render_chatml(chat, add_generation_prompt)
        return self.tokenizer.apply_chat_template(chat, tokenize=False, add_generation_prompt=add_generation_prompt)

    def encode(self, text: str) -> list[int]:
        return self.tokenizer.encode(text, add_special_tokens=False)

    def prompt_ids(self, messages: list[dict[str, str]]) -> list[int]:
        """Ids of a conversation followed by the header of the next assistant turn."""
        return self.encode(self.render(messages, add_generation_prompt=True))

    def observation_ids(self, observation: str) -> list[int]:
        """Ids that follow an assistant turn's end-of-turn token: the observation, then the next header."""
        text = self._render_probe(observation)
        start = text.index(_SENTINEL) + len(_SENTINEL) + len(self._turn_end_text)
        return self.encode(text[start:])

    def text(self, ids: list[int]) -> str:
        """The text of a turn's sampled ids, without the stop token that ended it."""
        if ids and ids[-1] in self.stop_ids:
            ids = ids[:-1]
        return self.tokenizer.decode(ids, skip_special_tokens=False, clean_up_tokenization_spaces=False)

    def _render_probe(self, observation: str) -> str:
        probe = [*_PROBE, _PROBE_TURN, {"role": "tool", "content": observation}]
        return self.render(probe, add_generation_prompt=True)

    def _find_turn_end(self) -> tuple[int, str]:
        """The special token that closes an assistant turn in this template, checked to be append-only."""
        closed = self.render([*_PROBE, _PROBE_TURN], add_generation_prompt=False)
        cut = closed.index(_SENTINEL) + len(_SENTINEL)
        after = self.encode(closed[cut:])
        special = set(self.tokenizer.all_special_ids) | set(getattr(self.tokenizer, "added_tokens_decoder", {}))
        if not after or after[0] not in special:
            raise ModelError("the chat template does not end assistant turns with a special token; bao needs one")
        turn_end = self.tokenizer.decode(after[:1], skip_special_tokens=False)
        extended = self._render_probe("O")
        if not extended.startswith(closed[:cut] + turn_end):
            raise ModelError("the chat template rewrites earlier turns (not append-only): token-level rollouts need "
                             "a template where one more message only appends text")
        return after[0], turn_end
