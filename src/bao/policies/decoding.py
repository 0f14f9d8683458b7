"""Batched sampling from a causal LM with a KV cache that lives across the turns of each sequence.

Why a decoder of our own rather than `model.generate`: a multi-turn episode grows by a few dozen
environment tokens per turn, after a prompt of hundreds. `generate` re-reads the whole conversation every
turn; `DecodeBatch` keeps each sequence's keys and values, so a turn costs only its new tokens. It also
returns the exact sampled ids and their log-probs, which RL needs (token-in, token-out).

Layout: the cache holds one row per sequence, left-padded. Each call to `generate` (one turn of every
sequence) first *repacks* the cache: it drops the rows that are gone and squeezes out the pad slots that
earlier calls left (a row that stopped early idles on pad slots while the others finish), so that rows are
again contiguous and left-padded. It then runs the new tokens of every row in one padded forward pass and
samples token by token until every row has stopped. Attention masks are 4-D and built here (pad slots are
masked out for everyone, causal order is slot order), and position ids count only real tokens, so a padded
row computes what it would compute alone (up to float rounding).

Sampling: temperature 0 is greedy; otherwise softmax(logits / T) with nucleus (top-p) truncation. The
recorded log-prob of a sampled token is log softmax(logits / T) (T = 1 when greedy) *before* the top-p cut,
the convention of PPO/GRPO trainers, which recompute the same quantity (`sequence_logprobs`). Every row
draws from its own generator seeded by the caller, so a row's tokens do not depend on its neighbours.
"""

from __future__ import annotations

import os
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import torch
from transformers.cache_utils import Cache, DynamicLayer

from bao.policies.sampling import SamplingConfig

# With an explicit attention mask, transformers' sdpa path packs or repeats the key/value heads of grouped-query
# attention; torch's own `enable_gqa` computes the same thing and decodes ~1.5x faster on CPU (SmolLM2, batch
# 16). Transformers reads this switch at every call.
os.environ.setdefault("TRANSFORMERS_SDPA_FORCE_GQA", "1")


@dataclass
class Generated:
    """One sequence's turn: the sampled ids, their log-probs, and whether it ended on a stop token."""

    ids: list[int]
    logprobs: list[float]
    stopped: bool


class _SlabLayer(DynamicLayer):
    """A cache layer in a preallocated buffer with room for the tokens of the current turn.

    `DynamicLayer` concatenates on every step, copying the whole cache per generated token; writing in
    place into spare room removes that copy (40% of a decode step at batch 16 on SmolLM2). The room is the
    owning cache's `reserve`, set to what a `generate` call can append, so the buffer never grows mid-turn.
    """

    def __init__(self, cache: _SlabCache) -> None:
        super().__init__()
        self.cache = cache
        self.key_buf: torch.Tensor | None = None
        self.value_buf: torch.Tensor | None = None
        self.length = 0

    def update(self, key_states: torch.Tensor, value_states: torch.Tensor, *args, **kwargs):
        n = key_states.shape[-2]
        if self.key_buf is None or self.length + n > self.key_buf.shape[-2]:
            self._resize(key_states, self.length + n + self.cache.reserve)
            self.is_initialized = True
        self.key_buf[:, :, self.length : self.length + n] = key_states
        self.value_buf[:, :, self.length : self.length + n] = value_states
        self.length += n
        self.keys = self.key_buf[:, :, : self.length]
        self.values = self.value_buf[:, :, : self.length]
        return self.keys, self.values

    def get_seq_length(self) -> int:
        return self.length

    def gather(self, rows: torch.Tensor, slots: torch.Tensor) -> None:
        """Keep `rows`, and in row i only the slots `slots[i]` (shape rows x L), in that order."""
        width = slots.shape[1]
        for name in ("key_buf", "value_buf"):
            buf = getattr(self, name)[:, :, : self.length].index_select(0, rows)
            index = slots[:, None, :, None].expand(-1, buf.shape[1], -1, buf.shape[3])
            packed = torch.empty(*buf.shape[:2], width + self.cache.reserve, buf.shape[3], dtype=buf.dtype,
                                 device=buf.device)
            packed[:, :, :width] = torch.gather(buf, 2, index)
            setattr(self, name, packed)
        self.length = width
        self.keys = self.key_buf[:, :, : self.length]
        self.values = self.value_buf[:, :, : self.length]

    def _resize(self, like: torch.Tensor, capacity: int) -> None:
        shape = (*like.shape[:2], capacity, like.shape[3])
        for name in ("key_buf", "value_buf"):
            bigger = torch.empty(shape, dtype=like.dtype, device=like.device)
            if self.length:
                bigger[:, :, : self.length] = getattr(self, name)[:, :, : self.length]
            setattr(self, name, bigger)


class _SlabCache(Cache):
    """A transformers `Cache` made of `_SlabLayer`s, one per attention layer, created on first use."""

    def __init__(self) -> None:
        super().__init__(layer_class_to_replicate=lambda: _SlabLayer(self))
        self.reserve = 0  # slots to keep free after the current tokens: what the running `generate` may add

    def gather(self, rows: torch.Tensor, slots: torch.Tensor) -> None:
        for layer in self.layers:
            layer.gather(rows, slots)


class DecodeBatch:
    """The KV cache and bookkeeping of a set of sequences that are decoded together, turn after turn.

    Sequences are named by hashable keys. Each `generate` call passes, for every sequence that goes on, the
    tokens appended since its last turn (the prompt the first time, then e.g. an observation); sequences
    not named are dropped for good. A sequence's last sampled token is fed at the start of its next call.
    """

    # Prompts that share at least this many leading tokens are prefilled once and copied (GRPO groups,
    # and every episode of an environment share the long system prompt with its tool schema).
    SHARED_PREFIX_MIN = 32

    def __init__(self, model, stop_ids: Sequence[int], pad_id: int = 0) -> None:
        self.model = model
        self.stop_ids = frozenset(stop_ids)
        self.pad_id = pad_id
        self.device = next(model.parameters()).device
        self.cache: _SlabCache | None = None
        self.keys: list[Hashable] = []
        self.valid = torch.zeros(0, 0, dtype=torch.bool, device=self.device)  # rows x slots: real token?
        self.next_pos: list[int] = []  # position id of each row's next token
        self.unfed: dict[Hashable, int] = {}  # last sampled token of each row, not yet in the cache

    @torch.inference_mode()
    def generate(
        self,
        new_tokens: dict[Hashable, list[int]],
        limits: dict[Hashable, int],
        seeds: dict[Hashable, int],
        sampling: SamplingConfig,
    ) -> dict[Hashable, Generated]:
        """Extend every named sequence by `new_tokens[key]`, then sample its next turn.

        A row stops at a stop token or after `limits[key]` (>= 1) tokens; `seeds[key]` seeds its sampling.
        """
        keys = list(new_tokens)
        if any(limits[k] < 1 for k in keys):
            raise ValueError("every sequence needs a limit of at least one new token")
        chunks = [([self.unfed.pop(k)] if k in self.unfed else []) + list(new_tokens[k]) for k in keys]
        if any(not chunk for chunk in chunks):
            raise ValueError("every sequence needs at least one new token before its next turn")
        reserve = max(len(c) for c in chunks) + max(limits[k] for k in keys)
        if self.cache is None:
            chunks = self._start(keys, chunks, reserve)
        else:
            self.cache.reserve = reserve
            self._repack(keys)
        logits = self._forward(chunks)
        return self._sample(keys, logits, [limits[k] for k in keys], [seeds[k] for k in keys], sampling)

    def _start(self, keys: list[Hashable], chunks: list[list[int]], reserve: int) -> list[list[int]]:
        """Create the cache; prefill a prefix shared by all prompts once. Returns what is left to prefill."""
        self.cache = _SlabCache()
        self.cache.reserve = reserve
        self.keys = list(keys)
        self.valid = torch.zeros(len(keys), 0, dtype=torch.bool, device=self.device)
        self.next_pos = [0] * len(keys)
        shared = _common_prefix_length(chunks)
        shared = min(shared, min(len(c) for c in chunks) - 1)  # every row keeps >= 1 token for its logits
        if len(keys) == 1 or shared < self.SHARED_PREFIX_MIN:
            return chunks
        self.keys, self.valid, self.next_pos = self.keys[:1], self.valid[:1], [0]
        self._forward([chunks[0][:shared]])  # one row holds the shared prefix; copy it into every row
        rows = torch.zeros(len(keys), dtype=torch.long, device=self.device)
        slots = torch.arange(shared, device=self.device).expand(len(keys), -1)
        self.cache.gather(rows, slots)
        self.keys, self.next_pos = list(keys), [shared] * len(keys)
        self.valid = torch.ones(len(keys), shared, dtype=torch.bool, device=self.device)
        return [c[shared:] for c in chunks]

    def _repack(self, keys: list[Hashable]) -> None:
        """Keep the rows of `keys` (in that order), each with its real slots right-aligned."""
        index = {k: i for i, k in enumerate(self.keys)}
        missing = [k for k in keys if k not in index]
        if missing:
            raise KeyError(f"unknown sequences {missing[:3]}: new sequences need a new DecodeBatch")
        rows = torch.tensor([index[k] for k in keys], dtype=torch.long, device=self.device)
        valid = self.valid.index_select(0, rows)
        counts = valid.sum(dim=1)
        width = int(counts.max())
        # Stable sort puts pad slots first and keeps real slots in order: the last `width` are the row's slots.
        order = torch.sort(valid.to(torch.int8), dim=1, stable=True).indices[:, -width:]
        self.cache.gather(rows, order)
        self.valid = torch.arange(width, device=self.device)[None, :] >= (width - counts)[:, None]
        self.keys = list(keys)
        self.next_pos = [self.next_pos[int(r)] for r in rows]
        self.unfed.clear()  # what is left belongs to dropped sequences

    def _forward(self, chunks: list[list[int]]) -> torch.Tensor:
        """Append each row's chunk (left-padded to a common width) and return the last position's logits."""
        width = max(len(c) for c in chunks)
        rows = len(chunks)
        ids = torch.full((rows, width), self.pad_id, dtype=torch.long)
        positions = torch.zeros(rows, width, dtype=torch.long)
        new_valid = torch.zeros(rows, width, dtype=torch.bool)
        for r, chunk in enumerate(chunks):
            n = len(chunk)
            if n:
                ids[r, width - n :] = torch.tensor(chunk)
                positions[r, width - n :] = torch.arange(self.next_pos[r], self.next_pos[r] + n)
                new_valid[r, width - n :] = True
            self.next_pos[r] += n
        ids, positions, new_valid = ids.to(self.device), positions.to(self.device), new_valid.to(self.device)
        self.valid = torch.cat([self.valid, new_valid], dim=1)
        out = self.model(
            input_ids=ids,
            attention_mask=self._mask(width),
            position_ids=positions,
            cache=self.cache,
            use_cache=True,
            logits_to_keep=1,
        )
        return out.logits[:, -1, :].float()

    def _mask(self, width: int) -> torch.Tensor:
        """Additive 4-D mask (rows, 1, width, slots): a query sees real earlier slots, and itself."""
        slots = self.valid.shape[1]
        past = slots - width
        key_pos = torch.arange(slots, device=self.device)
        query_pos = past + torch.arange(width, device=self.device)
        causal = key_pos[None, :] <= query_pos[:, None]
        allowed = (causal[None] & self.valid[:, None, :]) | (key_pos[None, :] == query_pos[:, None])[None]
        dtype = next(self.model.parameters()).dtype
        mask = torch.zeros(allowed.shape, dtype=dtype, device=self.device)
        mask.masked_fill_(~allowed, torch.finfo(dtype).min)
        return mask[:, None]

    def _sample(
        self,
        keys: list[Hashable],
        logits: torch.Tensor,
        limits: list[int],
        seeds: list[int],
        sampling: SamplingConfig,
    ) -> dict[Hashable, Generated]:
        rows = len(keys)
        generators = [torch.Generator().manual_seed(s) for s in seeds]
        out = [Generated([], [], False) for _ in range(rows)]
        active = [True] * rows
        while True:
            tokens, logprobs = _pick(logits, sampling, generators)
            for r in range(rows):
                if not active[r]:
                    continue
                out[r].ids.append(tokens[r])
                out[r].logprobs.append(logprobs[r])
                if tokens[r] in self.stop_ids:
                    out[r].stopped, active[r] = True, False
                elif len(out[r].ids) >= limits[r]:
                    active[r] = False
            for r in range(rows):
                if not active[r] and keys[r] not in self.unfed:
                    self.unfed[keys[r]] = out[r].ids[-1]
            if not any(active):
                return dict(zip(keys, out))
            logits = self._forward([[tokens[r]] if active[r] else [] for r in range(rows)])


def _pick(logits: torch.Tensor, sampling: SamplingConfig, generators: list[torch.Generator]):
    """Next token of every row and its log-prob (see the module docstring for the convention)."""
    if sampling.temperature == 0:
        logp = torch.log_softmax(logits, dim=-1)
        tokens = logp.argmax(dim=-1)
    else:
        logp = torch.log_softmax(logits / sampling.temperature, dim=-1)
        probs, order = torch.sort(logp.exp(), dim=-1, descending=True)
        cumulative = probs.cumsum(dim=-1)
        probs = probs.masked_fill(cumulative - probs >= sampling.top_p, 0.0)  # the first token always stays
        cumulative = probs.cumsum(dim=-1)
        draws = torch.cat([torch.rand(1, generator=g) for g in generators]).to(logits.device)
        draws = draws * cumulative[:, -1]
        picked = torch.searchsorted(cumulative, draws[:, None]).clamp_(max=probs.shape[-1] - 1)
        tokens = order.gather(1, picked).squeeze(1)
    chosen = logp.gather(1, tokens[:, None]).squeeze(1)
    return tokens.tolist(), chosen.tolist()


def _common_prefix_length(chunks: list[list[int]]) -> int:
    first = chunks[0]
    n = min(len(c) for c in chunks)
    for i in range(n):
        if any(c[i] != first[i] for c in chunks[1:]):
            return i
    return n


@torch.inference_mode()
def sequence_logprobs(model, ids: Sequence[int], temperature: float = 1.0) -> list[float]:
    """Log-prob of every token given the ones before it, in one forward pass (0.0 for the first token).

    The same quantity `DecodeBatch` records for sampled tokens (log softmax(logits / T), T = 1 for greedy),
    so a trainer or a test can check recorded log-probs against a fresh forward.
    """
    device = next(model.parameters()).device
    tensor = torch.tensor([list(ids)], dtype=torch.long, device=device)
    logits = model(input_ids=tensor).logits[0, :-1].float()
    scale = temperature if temperature > 0 else 1.0
    logp = torch.log_softmax(logits / scale, dim=-1).gather(1, tensor[0, 1:, None]).squeeze(1)
    return [0.0] + logp.tolist()
