"""A Hugging Face causal LM as a bao policy: prompt rendering, token bookkeeping and sampling.

The model sees `bao.agent.prompt.chat_messages` (tool schema in the system prompt, observations as
`<tool_response>` user turns) rendered by its own chat template (bao's ChatML when it has none). Two ways to
play:
- token level (`bao.rollout.engine`, what evaluation and RL use): the engine asks for the prompt's ids once
  (`prompt_ids`), then after every turn for the ids of the observation (`observation_ids`), and samples with a
  `DecodeBatch` whose KV cache persists across turns;
- text level (`act`, the `Policy` contract): every turn re-renders and re-reads the whole conversation with a
  fresh cache. It is the naive baseline of `benchmarks/rollout.py` and what a plain `run_episodes` uses.

`observation_ids` is the chat template's own text for "end of the assistant turn, observation turn, next
assistant header", tokenised after the end-of-turn token. Since that token is special, the tokeniser starts
afresh after it, so the pieces concatenate to the full render of the conversation whenever the assistant's
sampled ids are the canonical tokenisation of their text (see `tests/policies/test_hf.py`). A sampled turn
may use another split of the same text; then the recorded ids (what the model really produced) differ from a
re-tokenised render, which is why bao never re-tokenises. The template must be append-only (rendering one
more message only appends text), true of ChatML templates (SmolLM2, Qwen2.5) and checked at load.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch

from bao.agent.prompt import chat_messages, render_chatml
from bao.policies.base import Context, Policy
from bao.policies.decoding import DecodeBatch
from bao.policies.models import ModelError, resolve
from bao.policies.sampling import SamplingConfig

_SENTINEL = "BAO7SENTINEL"
_PROBE = [{"role": "system", "content": "S"}, {"role": "user", "content": "U"}]
# The probe's assistant turn holds reasoning, so that a template that strips it from past turns (as Qwen3's
# does) fails the append-only check instead of silently breaking token-in, token-out.
_PROBE_TURN = {"role": "assistant", "content": f"<think>\nr\n</think>\n{_SENTINEL}"}


@dataclass
class HFPolicyConfig:
    """What to load and how to sample."""

    model: str = "smollm2-135m"  # embedded name, local HF directory, .gguf file, or Hub id
    adapter: str | None = None  # a peft LoRA adapter directory applied on top
    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    device: str | None = None  # default: cuda when present (bf16), else cpu (fp32)


class HFPolicy(Policy):
    """A causal LM with its tokenizer. `token_level` tells the harness to play it with the rollout engine."""

    token_level = True

    def __init__(self, model, tokenizer, sampling: SamplingConfig | None = None, name: str = "hf") -> None:
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.sampling = sampling or SamplingConfig()
        self.name = name
        self.end_of_turn_id, self._turn_end_text = self._find_turn_end()
        self.stop_ids = frozenset({self.end_of_turn_id, *_eos_ids(model, tokenizer)})
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else self.end_of_turn_id
        self.context_window = int(getattr(model.config, "max_position_embeddings", 0) or 1 << 30)

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

    def act(self, ctx: Context) -> str:
        """Text-level turn: re-read the whole conversation, sample one turn (the naive loop)."""
        ids = self.prompt_ids(ctx.messages)
        room = self.context_window - len(ids)
        if room < 1:
            raise ValueError(f"conversation of {len(ids)} tokens does not fit the context of {self.context_window}")
        batch = DecodeBatch(self.model, self.stop_ids, self.pad_id)
        limit = min(self.sampling.max_new_tokens, room)
        generated = batch.generate({0: ids}, {0: limit}, {0: ctx.sampling_seed}, self.sampling)
        return self.text(generated[0].ids)

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


ADAPTER_WEIGHTS = ("adapter_model.safetensors", "adapter_model.bin")


def check_adapter(adapter: Path) -> None:
    """A peft adapter directory needs its config and its weights; say which is missing."""
    if not (adapter / "adapter_config.json").is_file():
        raise ModelError(f"{adapter} is not a peft adapter directory (no adapter_config.json)")
    if not any((adapter / name).is_file() for name in ADAPTER_WEIGHTS):
        raise ModelError(f"adapter {adapter} has adapter_config.json but no weights ({' or '.join(ADAPTER_WEIGHTS)})")


def _unreadable_weights(directory: Path) -> str:
    """The first `.safetensors` file of `directory` whose header cannot be read (all of them when each can)."""
    from safetensors import SafetensorError, safe_open

    files = sorted(directory.glob("*.safetensors"))
    for file in files:
        try:
            with safe_open(file, framework="pt"):
                pass
        except SafetensorError:
            return str(file)
    return ", ".join(map(str, files)) or str(directory)


def _eos_ids(model, tokenizer) -> set[int]:
    ids = {tokenizer.eos_token_id} if tokenizer.eos_token_id is not None else set()
    config = getattr(model, "generation_config", None)
    eos = getattr(config, "eos_token_id", None)
    ids |= set(eos) if isinstance(eos, (list, tuple)) else ({eos} if eos is not None else set())
    return ids


def load_hf_policy(config: HFPolicyConfig) -> HFPolicy:
    """Load (and on first use pull or convert) the model, put it on the device, apply the adapter if any.

    The adapter is checked before the model loads, and unreadable weights are reported by file name: a
    `ModelError` is one line for the user, where the loaders' own errors are tracebacks."""
    from safetensors import SafetensorError
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if config.adapter:
        check_adapter(Path(config.adapter))
    path = resolve(config.model)
    device = config.device or ("cuda" if torch.cuda.is_available() else "cpu")
    dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
    try:
        tokenizer = AutoTokenizer.from_pretrained(path)
        model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype).to(device)
    except OSError as exc:
        raise ModelError(f"cannot load model {config.model!r} ({str(exc).splitlines()[0]}); pass an embedded name "
                         f"(bao models list), a local HF directory or a .gguf file") from None
    except SafetensorError as exc:
        raise ModelError(f"cannot read the weights {_unreadable_weights(Path(path))} ({exc})") from None
    if config.adapter:
        from peft import PeftModel

        try:
            model = PeftModel.from_pretrained(model, config.adapter)
        except SafetensorError as exc:
            raise ModelError(f"cannot read the adapter weights {_unreadable_weights(Path(config.adapter))} "
                             f"({exc})") from None
    label = Path(config.model).name if Path(config.model).exists() else config.model
    name = f"hf:{label}" + (f"+{Path(config.adapter).name}" if config.adapter else "")
    return HFPolicy(model, tokenizer, config.sampling, name=name)
