"""Log-probs of the sampled tokens under the current policy, with the prompt prefix shared by a step computed once.

Every episode of a step starts with the same system prompt (the tool schema: 650-800 tokens for SmolLM2),
often more than half of its tokens. `SharedPrefix` runs that prefix once per optimizer step, keeps its keys and
values as leaf tensors, and lets every micro-batch attend to them (expanded, not copied per row). Gradients
that reach the prefix's keys and values accumulate on the leaves over the micro-batches; `backward()` then
sends them through the prefix once (recomputing its forward, which costs less than holding its
activations). The result equals a full forward/backward of every episode (up to float rounding;
`tests/pipelines/test_rl_forward.py`) at the cost of the prefix once instead of once per row.

Sequences are right-padded with no attention mask: causal attention never lets a real token see the padding
after it. Only the positions that predict a policy token go through the LM head (the vocabulary projection
is the largest matrix of a small model).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from transformers import DynamicCache

from bao.pipelines.rl_data import Row

MIN_SHARED_PREFIX = 32


def shared_prefix_length(rows: Sequence[Row], minimum: int = MIN_SHARED_PREFIX) -> int:
    """Tokens every row starts with, stopping before the position that predicts a row's first policy token
    (its logits must come from the row's own forward); 0 when shorter than `minimum` or for one row."""
    if len(rows) < 2:
        return 0
    first = rows[0].ids
    limit = min(min(r.mask.index(1) if 1 in r.mask else len(r.ids) for r in rows) - 1, *(len(r.ids) for r in rows))
    n = 0
    while n < limit and all(r.ids[n] == first[n] for r in rows):
        n += 1
    return n if n >= minimum else 0


class SharedPrefix:
    """The keys and values of a prefix, computed once and shared by every row of a forward.

    The prefix runs without a graph; `backward()` runs it again with one and sends the gradients gathered on
    its keys and values through it. Holding the prefix's activations from the first micro-batch to the last
    would cost more memory than the recomputation costs time (SmolLM2, 798 tokens: about 1.5 GiB against a
    forward of 798 tokens). The two forwards compute the same keys and values: no dropout runs in them
    (bao's LoRA has none).
    """

    def __init__(self, model, ids: Sequence[int]) -> None:
        self.model = model
        self.ids = list(ids)
        self.length = len(self.ids)
        grad = torch.is_grad_enabled()
        with torch.no_grad():
            self.leaves = [t.requires_grad_(grad) for t in self._keys_values()]

    def cache(self, rows: int) -> DynamicCache:
        cache = DynamicCache(config=self.model.config)
        for i in range(0, len(self.leaves), 2):
            keys, values = self.leaves[i], self.leaves[i + 1]
            cache.update(keys.expand(rows, -1, -1, -1), values.expand(rows, -1, -1, -1), i // 2)
        return cache

    def backward(self) -> None:
        """Send the gradients accumulated on the shared keys and values through the prefix's own graph."""
        if all(leaf.grad is None for leaf in self.leaves):
            return
        with torch.enable_grad():
            graph = self._keys_values()
            pairs = [(g, leaf.grad) for g, leaf in zip(graph, self.leaves) if leaf.grad is not None]
            torch.autograd.backward([g for g, _ in pairs], [d for _, d in pairs])

    def _keys_values(self) -> list[torch.Tensor]:
        device = next(self.model.parameters()).device
        out = self.model.get_decoder()(input_ids=torch.tensor([self.ids], device=device), use_cache=True)
        return [t for layer in out.past_key_values.layers for t in (layer.keys, layer.values)]


def policy_logprobs(
    model,
    rows: Sequence[Row],
    temperature: float,
    prefix: SharedPrefix | None = None,
    with_entropy: bool = False,
) -> tuple[list[torch.Tensor], torch.Tensor | None]:
    """Per row, log softmax(logits / T) of its policy tokens (in order), and optionally their mean entropy."""
    start = prefix.length if prefix is not None else 0
    device = next(model.parameters()).device
    width = max(len(r.ids) for r in rows) - start
    ids = torch.zeros(len(rows), width, dtype=torch.long)
    row_index, pos_index, targets, counts = [], [], [], []
    for b, row in enumerate(rows):
        suffix = row.ids[start:]
        ids[b, : len(suffix)] = torch.tensor(suffix)
        positions = [i for i in range(max(start, 1), len(row.ids)) if row.mask[i]]
        row_index += [b] * len(positions)
        pos_index += [i - 1 - start for i in positions]
        targets += [row.ids[i] for i in positions]
        counts.append(len(positions))
    cache = prefix.cache(len(rows)) if prefix is not None else None
    hidden = model.get_decoder()(input_ids=ids.to(device), cache=cache, use_cache=cache is not None)
    picked = hidden.last_hidden_state[torch.tensor(row_index), torch.tensor(pos_index)]
    logits = model.get_output_embeddings()(picked).float() / (temperature if temperature > 0 else 1.0)
    logp_all = torch.log_softmax(logits, dim=-1)
    logp = logp_all.gather(1, torch.tensor(targets, device=device)[:, None]).squeeze(1)
    entropy = None
    if with_entropy:
        with torch.no_grad():
            entropy = -(logp_all.exp() * logp_all).sum(-1).mean()
    return list(torch.split(logp, counts)), entropy
