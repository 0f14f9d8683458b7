"""Text normalisation for the offline users: lowercase tokens, stopwords out, light stemming, synonyms."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_WORD = re.compile(r"[a-z0-9]+")
STOPWORDS = frozenset(
    """a an the is are was were be been being am do does did doing have has had having it its it's this that
    these those there their them they he she his her him i me my we our you your yours to of in on at by for
    with from as or and but if so than then too very can could would should will shall may might must just
    about into onto over under any some such what which who whom whose when where why how please tell know
    thing something someone anything one ones get got also really much many more most other else like
    whether ask question yes no not""".split()
)
# Interchangeable words: each maps to one canonical token so that paraphrases meet.
SYNONYMS = {
    "human": "person", "people": "person", "man": "person", "woman": "person", "somebody": "person",
    "individual": "person", "character": "person", "guy": "person",
    "big": "large", "huge": "large", "giant": "large", "larger": "large", "bigger": "large",
    "small": "little", "tiny": "little", "smaller": "little",
    "alive": "living", "live": "living", "lives": "living", "life": "living",
    "dead": "die", "died": "die", "death": "die", "killed": "kill", "murder": "kill", "murdered": "kill",
    "film": "movie", "films": "movie", "movies": "movie", "cinema": "movie",
    "tv": "television", "telly": "television",
    "eat": "food", "eaten": "food", "edible": "food", "eating": "food",
    "drink": "beverage", "drinks": "beverage",
    "car": "vehicle", "automobile": "vehicle", "transport": "vehicle", "transportation": "vehicle",
    "imaginary": "fictional", "fiction": "fictional", "fictitious": "fictional", "mythical": "fictional",
    "myth": "fictional", "legendary": "fictional", "made-up": "fictional",
    "ocean": "sea", "marine": "sea",
    "cost": "price", "budget": "price", "expensive": "price", "cheap": "price",
    "mother": "mom", "mum": "mom", "father": "dad",
    "wife": "spouse", "husband": "spouse",
}


def _stem(token: str) -> str:
    for suffix, keep in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if token.endswith(suffix) and len(token) - len(suffix) >= 3:
            return token[: -len(suffix)] + keep
    return token


@lru_cache(maxsize=65536)
def tokens(text: str) -> tuple[str, ...]:
    """Content tokens of `text`: accents folded, lowercased, stopwords dropped, synonyms merged, stemmed."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    out = []
    for word in _WORD.findall(folded):
        if word in STOPWORDS:
            continue
        out.append(_stem(SYNONYMS.get(word, word)))
    return tuple(out)


def normalize_name(text: str) -> str:
    """A name reduced for exact comparison: accents, case, punctuation, articles and spacing removed."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    words = [w for w in _WORD.findall(folded) if w not in ("the", "a", "an")]
    return " ".join(words)
