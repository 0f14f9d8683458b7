"""A Hugging Face causal LM as a bao policy: token bookkeeping (`ChatTokens`) and sampling.

The model sees `bao.agent.prompt.chat_messages` rendered by its own chat template; how a conversation becomes
ids, and why the template must be append-only, is `bao.policies.chat_tokens`. Two ways to play:
- token level (`bao.rollout.engine`, what evaluation and RL use): the engine asks for the prompt's ids once
  (`prompt_ids`), then after every turn for the ids of the observation (`observation_ids`), and samples with a
  `DecodeBatch` whose KV cache persists across turns;
- text level (`act`, the `Policy` contract): every turn re-renders and re-reads the whole conversation with a
  fresh cache. It is the naive baseline of `benchmarks/rollout.py` and what a plain `run_episodes` uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch

from bao.policies.base import Context, Policy
from bao.policies.chat_tokens import ChatTokens
from bao.policies.decoding import DecodeBatch
from bao.policies.models import ModelError, resolve
from bao.policies.sampling import SamplingConfig


@dataclass
class HFPolicyConfig:
    """What to load and how to sample."""

    model: str = "smollm2-135m"  # embedded name, local HF directory, .gguf file, or Hub id
    adapter: str | None = None  # a peft LoRA adapter directory applied on top
    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    device: str | None = None  # default: cuda when present (bf16), else cpu (fp32)


class HFPolicy(ChatTokens, Policy):
    """A causal LM with its tokenizer. `token_level` tells the harness to play it with the rollout engine."""

    token_level = True

    def __init__(self, model, tokenizer, sampling: SamplingConfig | None = None, name: str = "hf") -> None:
        self.model = model.eval()
        ChatTokens.__init__(self, tokenizer, _eos_ids(model, tokenizer))
        self.sampling = sampling or SamplingConfig()
        self.name = name
        self.context_window = int(getattr(model.config, "max_position_embeddings", 0) or 1 << 30)

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
