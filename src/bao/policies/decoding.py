"""Batched sampling from a causal LM with a KV cache that lives across the turns of each sequence.

Why a decoder of our own rather than `model.generate`: a multi-turn episode grows by a few dozen
environment tokens per turn, after a prompt of hundreds. `generate` re-reads the whole conversation every
turn; `DecodeBatch` keeps each sequence's keys and values, so a turn costs only its new tokens. It also
returns the exact sampled ids and their log-probs, which RL needs (token-in, token-out).

Layout: the cache holds one row per sequence, left-padded. Each call to `generate` (one turn of every
sequence it names) first *rebuilds* the cache: it drops the rows of the sequences not named, squeezes out
the pad slots that earlier calls left (a row that stopped early idles on pad slots while the others finish),
and adds a row for every sequence named for the first time, so that rows are again contiguous and
left-padded. Sequences can thus join a batch that is under way (continuous batching). A new row starts with
a copy of the longest prefix of its tokens that a row of the cache holds, rows dropped by this very call
included (every episode of an environment starts with the same long system prompt), provided it is at least
`SHARED_PREFIX_MIN` tokens long; new rows that find no such prefix but share one among themselves get it
prefilled once, in a batch of its own, and copied. The call then runs the new tokens of every row (for a new
row, its tokens after the copied prefix) in one padded forward pass, so every row pays for the longest
(bao's envs leave a new row 1 to 170 tokens after 600 to 800 of shared system prompt), and samples token by
token until every row has stopped. Attention masks are 4-D and built here (pad slots are masked out for
everyone, causal order is slot order), and position ids count only real tokens, so a padded row, or a copied
prefix, computes what the sequence would compute alone (up to float rounding).

Sampling: temperature 0 is greedy; otherwise softmax(logits / T) with nucleus (top-p) truncation. The
recorded log-prob of a sampled token is log softmax(logits / T) (T = 1 when greedy) *before* the top-p cut,
the convention of PPO/GRPO trainers, which recompute the same quantity (`sequence_logprobs`). Every row
draws from its own generator seeded by the caller, so a row's tokens do not depend on its neighbours, up to
float rounding: the padded batch's shape moves logits by ~1e-5, enough, rarely, to swap two tokens of
near-equal probability in the sorted nucleus and so change the token a draw lands on.
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

    def assemble(self, parts: list[_Part], depth: int, rows: int, width: int) -> None:
        """Rebuild as `rows` rows of `width` slots, copied from layer `depth` of the parts' caches (this one's,
        maybe). Rows that no part fills are zeros: their slots are masked out, but a masked NaN left in
        uninitialised memory would still poison the attention (0 * NaN)."""
        sources = [part.cache.layers[depth] for part in parts]
        like = sources[0].key_buf
        for name in ("key_buf", "value_buf"):
            packed = like.new_zeros(rows, like.shape[1], width + self.cache.reserve, like.shape[3])
            for part, source in zip(parts, sources):
                buf = getattr(source, name)[:, :, : source.length].index_select(0, part.from_rows)
                index = part.slots[:, None, :, None].expand(-1, buf.shape[1], -1, buf.shape[3])
                packed[part.to_rows, :, :width] = torch.gather(buf, 2, index)
            setattr(self, name, packed)
        self.length = width
        self.is_initialized = True
        self.keys = self.key_buf[:, :, : self.length]
        self.values = self.value_buf[:, :, : self.length]

    def _resize(self, like: torch.Tensor, capacity: int) -> None:
        shape = (*like.shape[:2], capacity, like.shape[3])
        for name in ("key_buf", "value_buf"):
            bigger = torch.empty(shape, dtype=like.dtype, device=like.device)
            if self.length:
                bigger[:, :, : self.length] = getattr(self, name)[:, :, : self.length]
            setattr(self, name, bigger)


@dataclass
class _Part:
    """Rows of one cache going into a rebuilt one: row `from_rows[i]`, its slots `slots[i]` in that order,
    becomes row `to_rows[i]`."""

    cache: _SlabCache
    from_rows: torch.Tensor
    slots: torch.Tensor
    to_rows: torch.Tensor


class _SlabCache(Cache):
    """A transformers `Cache` made of `_SlabLayer`s, one per attention layer, created on first use."""

    def __init__(self) -> None:
        super().__init__(layer_class_to_replicate=lambda: _SlabLayer(self))
        self.reserve = 0  # slots to keep free after the current tokens: what the running `generate` may add

    def assemble(self, parts: list[_Part], rows: int, width: int) -> None:
        """Rebuild every layer as `rows` rows of `width` slots copied from `parts` (this cache among them, maybe)."""
        if not parts:
            self.layers.clear()  # nothing kept: the next forward lays the layers out afresh
            return
        while len(self.layers) < len(parts[0].cache.layers):
            self.layers.append(_SlabLayer(self))
        for depth, layer in enumerate(self.layers):
            layer.assemble(parts, depth, rows, width)


@dataclass
class _Copy:
    """Where a row of the rebuilt cache comes from: the first `length` tokens of row `row` of `batch`."""

    batch: DecodeBatch
    row: int
    length: int


class DecodeBatch:
    """The KV cache and bookkeeping of a set of sequences that are decoded together, turn after turn.

    Sequences are named by hashable keys. Each `generate` call passes, for every sequence that goes on or
    joins, the tokens appended since its last turn (the whole prompt the first time, then e.g. an
    observation); sequences not named are dropped for good. A sequence's last sampled token is fed at the
    start of its next call.
    """

    # A new row copies a cached prefix, or new rows share one prefill, from this many common leading tokens.
    SHARED_PREFIX_MIN = 32

    def __init__(self, model, stop_ids: Sequence[int], pad_id: int = 0) -> None:
        self.model = model
        self.stop_ids = frozenset(stop_ids)
        self.pad_id = pad_id
        self.device = next(model.parameters()).device
        self.cache = _SlabCache()
        self.keys: list[Hashable] = []
        self.ids: list[list[int]] = []  # the tokens in each row's cache, in order (pad slots left out)
        self.valid = torch.zeros(0, 0, dtype=torch.bool, device=self.device)  # rows x slots: real token?
        self.unfed: dict[Hashable, int] = {}  # last sampled token of each row, not yet in the cache
        self.dropped: set[Hashable] = set()

    @torch.inference_mode()
    def generate(
        self,
        new_tokens: dict[Hashable, list[int]],
        limits: dict[Hashable, int],
        seeds: dict[Hashable, int],
        sampling: SamplingConfig,
    ) -> dict[Hashable, Generated]:
        """Extend every named sequence by `new_tokens[key]` (a new key starts a sequence), then sample its
        next turn. A row stops at a stop token or after `limits[key]` (>= 1) tokens; `seeds[key]` seeds its
        sampling.
        """
        keys = list(new_tokens)
        if any(limits[k] < 1 for k in keys):
            raise ValueError("every sequence needs a limit of at least one new token")
        back = [k for k in keys if k in self.dropped]
        if back:
            raise KeyError(f"sequences {back[:3]} were dropped: their cache is gone, start them under new keys")
        chunks = [([self.unfed.pop(k)] if k in self.unfed else []) + list(new_tokens[k]) for k in keys]
        if any(not chunk for chunk in chunks):
            raise ValueError("every sequence needs at least one new token before its next turn")
        reserve = max(len(c) for c in chunks) + max(limits[k] for k in keys)
        chunks = self._rebuild(keys, chunks, reserve)
        logits = self._forward(chunks)
        return self._sample(keys, logits, [limits[k] for k in keys], [seeds[k] for k in keys], sampling)

    def _rebuild(self, keys: list[Hashable], chunks: list[list[int]], reserve: int) -> list[list[int]]:
        """Lay the cache out as the rows of `keys`, in that order; returns what each row has left to read (a
        new row skips the prefix it copied)."""
        index = {k: r for r, k in enumerate(self.keys)}
        copies = [
            _Copy(self, index[k], len(self.ids[index[k]])) if k in index else self._cached_prefix(chunk)
            for k, chunk in zip(keys, chunks)
        ]
        fresh = {r for r, k in enumerate(keys) if k not in index}
        self._share_prefix([r for r in sorted(fresh) if copies[r] is None], copies, chunks)
        self.dropped.update(set(self.keys) - set(keys))
        self.unfed.clear()  # what is left belongs to dropped sequences
        self.cache.reserve = reserve
        self._assemble(copies)
        self.keys = list(keys)
        return [chunks[r][len(self.ids[r]) :] if r in fresh else chunks[r] for r in range(len(keys))]

    def _cached_prefix(self, chunk: list[int]) -> _Copy | None:
        """The row holding the longest prefix of `chunk`, if long enough to copy (leaving >= 1 token to read)."""
        length, row = max(((_common_prefix_length([ids, chunk]), r) for r, ids in enumerate(self.ids)),
                          default=(0, 0))
        length = min(length, len(chunk) - 1)
        return _Copy(self, row, length) if length >= max(self.SHARED_PREFIX_MIN, 1) else None

    def _share_prefix(self, rows: list[int], copies: list[_Copy | None], chunks: list[list[int]]) -> None:
        """Prefill once, apart, the prefix that new `rows` (with nothing to copy) share, and copy it to each."""
        if len(rows) < 2:
            return
        shared = _common_prefix_length([chunks[r] for r in rows])
        shared = min(shared, min(len(chunks[r]) for r in rows) - 1)  # every row keeps >= 1 token for its logits
        if shared < max(self.SHARED_PREFIX_MIN, 1):
            return
        alone = DecodeBatch(self.model, self.stop_ids, self.pad_id)
        alone._forward(alone._rebuild([None], [chunks[rows[0]][:shared]], reserve=0))
        for r in rows:
            copies[r] = _Copy(alone, 0, shared)

    def _assemble(self, copies: list[_Copy | None]) -> None:
        """Rebuild the cache from `copies`, each row's real slots right-aligned (rows without a copy are empty)."""
        width = max((c.length for c in copies if c), default=0)
        parts = []
        for batch in {id(c.batch): c.batch for c in copies if c}.values():
            to_rows = [r for r, c in enumerate(copies) if c and c.batch is batch]
            slots = torch.stack([batch._slots(copies[r].row, copies[r].length, width) for r in to_rows])
            from_rows = [copies[r].row for r in to_rows]
            parts.append(_Part(batch.cache, self._long(from_rows), slots, self._long(to_rows)))
        self.cache.assemble(parts, len(copies), width)
        self.ids = [c.batch.ids[c.row][: c.length] if c else [] for c in copies]
        counts = self._long([len(ids) for ids in self.ids])
        self.valid = torch.arange(width, device=self.device)[None, :] >= (width - counts)[:, None]

    def _long(self, values: list[int]) -> torch.Tensor:
        return torch.tensor(values, dtype=torch.long, device=self.device)

    def _slots(self, row: int, length: int, width: int) -> torch.Tensor:
        """The slots of the first `length` tokens of `row`, right-aligned in `width` (pad slots read slot 0)."""
        real = self.valid[row].nonzero().squeeze(1)[:length]
        return torch.cat([real.new_zeros(width - length), real])

    def _forward(self, chunks: list[list[int]]) -> torch.Tensor:
        """Append each row's chunk (left-padded to a common width) and return the last position's logits."""
        width = max(len(c) for c in chunks)
        rows = len(chunks)
        input_ids = torch.full((rows, width), self.pad_id, dtype=torch.long)
        positions = torch.zeros(rows, width, dtype=torch.long)
        new_valid = torch.zeros(rows, width, dtype=torch.bool)
        for r, chunk in enumerate(chunks):
            n = len(chunk)
            if n:
                start = len(self.ids[r])
                input_ids[r, width - n :] = torch.tensor(chunk)
                positions[r, width - n :] = torch.arange(start, start + n)
                new_valid[r, width - n :] = True
                self.ids[r] += chunk
        input_ids, positions = input_ids.to(self.device), positions.to(self.device)
        new_valid = new_valid.to(self.device)
        self.valid = torch.cat([self.valid, new_valid], dim=1)
        out = self.model(
            input_ids=input_ids,
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


def _common_prefix_length(seqs: list[list[int]]) -> int:
    n = 0
    for column in zip(*seqs):
        if any(x != column[0] for x in column):
            break
        n += 1
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
