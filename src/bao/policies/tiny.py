"""Tiny random-weight chat models, built in-process so that tests and benchmarks never need a download.

A tiny model is a small Llama (a few layers, hidden 64-256) with a byte-level BPE tokenizer trained with
`tokenizers` on a few KB of bao's own text (the tool instructions, tool calls, environment replies), with the
ChatML special tokens `<|im_start|>`, `<|im_end|>` and `<|endoftext|>` and bao's ChatML chat template. Its
weights are random, so what it writes is noise: exactly what the rollout and training tests need (malformed
outputs, varying lengths) at a fraction of a second per forward pass. Same arguments => same weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from bao.agent.prompt import CHATML_TEMPLATE, IM_END, IM_START, observation_message, tools_block
from bao.agent.render import render_tool_call

PAD = "<|endoftext|>"
SPECIAL_TOKENS = (PAD, IM_START, IM_END)

_PROSE = (
    "You are an agent that interacts with an environment. Ask the user a question when you lack a detail, "
    "act when you know what to do, and answer when you are sure. Every question costs the user some effort, "
    "so ask only what you cannot infer. Think before you act: restate what you know, list the hypotheses "
    "that are still alive, and plan the next step against the remaining budget. The hidden function maps "
    "four numbers to a result with addition, subtraction, multiplication, division and squaring. "
    "For numbers [1.0, 2.0, 3.0, 4.0], the result is 10.0. Your answer is wrong. Your answer is correct! "
    "Invalid action format. Please use [action], [search], [answer], or [finish]. Test case: [5, 7, 2, 9]. "
    "0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 25 32 42 64 99 100 128 225 256 1000 3.5 -7 0.25 "
)


@dataclass(frozen=True)
class TinyConfig:
    """Shape of a tiny model; the defaults build in well under a second on 2 CPU cores."""

    hidden_size: int = 64
    num_layers: int = 2
    num_heads: int = 4
    num_kv_heads: int = 2
    intermediate_size: int = 128
    vocab_size: int = 1024  # BPE target size; the corpus may yield a little fewer
    max_positions: int = 2048
    seed: int = 0


def corpus() -> list[str]:
    """The few KB of text the tiny tokenizer is trained on: bao's prompts, calls and replies."""
    calls = [
        render_tool_call("action", "1 2 3 4", "I will vary one input at a time."),
        render_tool_call("search", "test"),
        render_tool_call("answer", "225", "The rule looks like a * b + c - d."),
        render_tool_call("action", "Is the item you want a red one?"),
    ]
    replies = [observation_message(f"For numbers [{a}.0, 2.0, 3.0, 4.0], the result is {a * 7}.0.")["content"]
               for a in range(10)]
    return [tools_block(), _PROSE * 3, *calls, *replies]


@lru_cache(maxsize=4)
def build_tokenizer(vocab_size: int = 1024):
    """A byte-level BPE tokenizer with ChatML special tokens and bao's ChatML chat template (cached)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    backend.train_from_iterator(corpus(), trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        bos_token=IM_START,
        eos_token=IM_END,
        pad_token=PAD,
        unk_token=PAD,
        chat_template=CHATML_TEMPLATE,
    )


def build_tiny_model(config: TinyConfig = TinyConfig()):
    """(model, tokenizer): a random-weight Llama in fp32 eval mode, and its tokenizer."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = build_tokenizer(config.vocab_size)
    model_config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=config.hidden_size,
        intermediate_size=config.intermediate_size,
        num_hidden_layers=config.num_layers,
        num_attention_heads=config.num_heads,
        num_key_value_heads=config.num_kv_heads,
        max_position_embeddings=config.max_positions,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
    )
    with torch.random.fork_rng():
        torch.manual_seed(config.seed)
        model = LlamaForCausalLM(model_config)
    return model.float().eval(), tokenizer


def save_tiny_model(path: str | Path, config: TinyConfig = TinyConfig()) -> Path:
    """Write a tiny model as an ordinary HF directory (for `--model DIR` and benchmarks)."""
    model, tokenizer = build_tiny_model(config)
    path = Path(path)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path
