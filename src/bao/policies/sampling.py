"""How an LLM policy samples its turns (shared by local and API-served models; no torch needed)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class SamplingConfig:
    """Sampling of one turn. The defaults suit small instruct models: at temperature 1.0 without top-p,
    SmolLM2-135M writes gibberish; 0.7 / 0.9 keeps it fluent and still varied enough for RL groups."""

    temperature: float = 0.7  # 0 = greedy
    top_p: float = 0.9  # nucleus sampling: keep the smallest set of tokens whose probability reaches top_p
    max_new_tokens: int = 256  # per turn; a turn cut here is still parsed (and usually invalid)

    def __post_init__(self) -> None:
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be >= 1, got {self.max_new_tokens}")
