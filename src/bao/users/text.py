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
    whether ask question yes no not
    s t d ll re ve m""".split()  # fragments of contractions and possessives ("what's", "user's", "don't")
)
# Interchangeable words: each maps to one canonical token so that paraphrases meet. Keys are matched as
# written and after stemming ("murders", "murdering" -> kill); groups are general English, not per sheet.
SYNONYMS = {
    "human": "person", "people": "person", "man": "person", "woman": "person", "somebody": "person",
    "individual": "person", "character": "person", "guy": "person",
    "big": "large", "huge": "large", "giant": "large", "larger": "large", "bigger": "large",
    "small": "little", "tiny": "little", "smaller": "little",
    "alive": "living", "live": "living", "lives": "living", "life": "living",
    "dead": "die", "died": "die", "death": "die", "deceased": "die", "perish": "die",
    "killed": "kill", "murder": "kill", "murdered": "kill", "slay": "kill", "slain": "kill",
    "film": "movie", "films": "movie", "movies": "movie", "cinema": "movie",
    "tv": "television", "telly": "television",
    "eat": "food", "eaten": "food", "edible": "food", "eating": "food", "ate": "food",
    "drink": "beverage", "drinks": "beverage",
    "car": "vehicle", "automobile": "vehicle", "transport": "vehicle", "transportation": "vehicle",
    "imaginary": "fictional", "fiction": "fictional", "fictitious": "fictional", "mythical": "fictional",
    "myth": "fictional", "legendary": "fictional",
    "ocean": "sea", "marine": "sea",
    "cost": "price", "budget": "price", "expensive": "price", "cheap": "price",
    "mother": "mom", "mum": "mom", "mommy": "mom", "mummy": "mom", "father": "dad", "daddy": "dad",
    "wife": "spouse", "husband": "spouse",
    "kid": "child", "kids": "child", "children": "child", "youngster": "child",
    "pal": "friend", "buddy": "friend", "companion": "friend",
    "house": "home", "physician": "doctor", "medic": "doctor",
    "cop": "police", "cops": "police", "policeman": "police", "policemen": "police", "officer": "police",
    "sick": "ill", "illness": "ill", "disease": "ill", "unwell": "ill", "ailment": "ill",
    "medication": "medicine", "meds": "medicine", "pill": "medicine", "pills": "medicine", "tablet": "medicine",
    "afraid": "fear", "scared": "fear", "frightened": "fear", "terrified": "fear", "scare": "fear",
    "fright": "fear",
    "shout": "scream", "yell": "scream", "shriek": "scream",
    "store": "shop", "purchase": "buy", "cash": "money",
    "pistol": "gun", "rifle": "gun", "firearm": "gun",
    "jail": "prison", "imprisoned": "prison", "cadaver": "corpse",
    "telephone": "phone", "cellphone": "phone", "start": "begin",
    "rich": "wealthy", "fast": "quick", "rapid": "quick",
    "injure": "hurt", "injury": "hurt", "wound": "hurt", "harm": "hurt",
    "furious": "angry", "enraged": "angry", "unhappy": "sad", "sorrow": "sad",
    "stuck": "trap", "conceal": "hide", "toss": "throw", "hurl": "throw", "fling": "throw",
    "slice": "cut", "chop": "cut", "sever": "cut",
    "odor": "smell", "stench": "smell", "scent": "smell",
    "kitten": "cat", "feline": "cat", "puppy": "dog", "pup": "dog", "hound": "dog", "bunny": "rabbit",
    "marry": "marriage", "married": "marriage", "wedding": "marriage",
    "ship": "boat", "vessel": "boat", "airplane": "plane", "aircraft": "plane", "jet": "plane",
    "photograph": "photo", "snapshot": "photo", "clothing": "clothes", "outfit": "clothes", "garment": "clothes",
    "luggage": "bag", "baggage": "bag", "suitcase": "bag",
    "toxic": "poison", "poisonous": "poison", "asleep": "sleep", "nap": "sleep", "awake": "wake",
    "toilet": "bathroom", "restroom": "bathroom", "lavatory": "bathroom",
    "weird": "strange", "odd": "strange", "bizarre": "strange", "phony": "fake", "counterfeit": "fake",
    "genuine": "real",
}
# Irregular past forms to their base verb, so "he fell" meets "did he fall" (regular ones are stemmed).
IRREGULAR = {
    "fell": "fall", "fallen": "fall", "went": "go", "gone": "go", "took": "take", "taken": "take",
    "thought": "think", "found": "find", "gave": "give", "given": "give", "made": "make", "ran": "run",
    "hid": "hide", "hidden": "hide", "bought": "buy", "brought": "bring", "caught": "catch", "fought": "fight",
    "sold": "sell", "stole": "steal", "stolen": "steal", "broke": "break", "broken": "break",
    "woke": "wake", "woken": "wake", "awoke": "wake", "drank": "drink", "drunk": "drink", "threw": "throw",
    "thrown": "throw", "fed": "feed", "shot": "shoot", "dug": "dig", "bit": "bite", "bitten": "bite",
    "hung": "hang", "lost": "lose", "met": "meet", "paid": "pay", "said": "say", "sent": "send",
    "slept": "sleep", "spent": "spend", "stood": "stand", "swam": "swim", "wrote": "write", "written": "write",
    "drove": "drive", "driven": "drive", "froze": "freeze", "frozen": "freeze", "grew": "grow", "grown": "grow",
    "flew": "fly", "flown": "fly", "flies": "fly", "dies": "die", "dying": "die", "lies": "lie",
    "lying": "lie", "ties": "tie", "tied": "tie", "held": "hold", "kept": "keep", "felt": "feel",
    "heard": "hear", "built": "build", "sang": "sing", "sung": "sing", "began": "begin", "begun": "begin",
    "chose": "choose", "chosen": "choose", "forgot": "forget", "forgotten": "forget", "hit": "hit",
    "struck": "strike", "blew": "blow", "blown": "blow", "swore": "swear", "wore": "wear", "worn": "wear",
    "tore": "tear", "torn": "tear", "won": "win", "men": "man", "women": "woman", "feet": "foot",
    "teeth": "tooth", "mice": "mouse", "geese": "goose",
}
# British spellings to American, so both spellings of one word meet.
SPELLING = {
    "colour": "color", "colours": "colors", "coloured": "colored", "flavour": "flavor", "flavours": "flavors",
    "favourite": "favorite", "neighbour": "neighbor", "neighbours": "neighbors", "tyre": "tire",
    "tyres": "tires", "organise": "organize", "organised": "organized", "realise": "realize",
    "realised": "realized", "recognise": "recognize", "recognised": "recognized", "apologise": "apologize",
    "apologised": "apologized", "theatre": "theater", "centre": "center", "metre": "meter", "metres": "meters",
    "grey": "gray", "odour": "odor", "honour": "honor", "behaviour": "behavior", "travelling": "traveling",
    "jewellery": "jewelry", "aeroplane": "airplane", "defence": "defense", "licence": "license",
    "programme": "program", "catalogue": "catalog", "analyse": "analyze", "armour": "armor",
    "humour": "humor", "labour": "labor", "rumour": "rumor", "harbour": "harbor", "storey": "story",
    "storeys": "stories", "pyjamas": "pajamas", "mould": "mold", "plough": "plow",
}
_VOWEL = re.compile(r"[aeiouy]")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Light English stemmer: plural and verb endings off, final "e" off, doubled final consonant undone.

    "strangled", "strangles", "strangle" -> "strangl"; "stopped", "stopping" -> "stop"; "bodies" -> "body".
    Both sides of every comparison go through it, so a stem need not be a word, only the same for all forms.
    """
    w = word
    if len(w) > 4 and w.endswith("sses"):
        w = w[:-2]
    elif len(w) > 5 and w.endswith(("ies", "ied")):
        w = w[:-3] + "y"
    elif len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    if w.endswith("eed"):  # "agreed" -> "agree", but "need", "speed" stay
        if _VOWEL.search(w[:-3]):
            w = w[:-1]
        suffixes: tuple[str, ...] = ()
    else:
        suffixes = ("ing", "ed")
    for suffix in suffixes:
        base = w[: -len(suffix)]
        if w.endswith(suffix) and len(base) >= 3 and _VOWEL.search(base):
            w = base
            if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "aeiouylsz":
                w = w[:-1]
            break
    if len(w) > 3 and w.endswith("e") and not w.endswith("ee"):
        w = w[:-1]
    return w


_SYNONYM_STEMS = {stem(k): stem(v) for k, v in SYNONYMS.items()}


@lru_cache(maxsize=65536)
def _token(word: str) -> str:
    word = IRREGULAR.get(SPELLING.get(word, word), SPELLING.get(word, word))
    if word in SYNONYMS:
        return stem(SYNONYMS[word])
    s = stem(word)
    return _SYNONYM_STEMS.get(s, s)


@lru_cache(maxsize=65536)
def tokens(text: str) -> tuple[str, ...]:
    """Content tokens of `text`: accents folded, lowercased, stopwords dropped, spellings, irregular verbs
    and synonyms merged, stemmed."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return tuple(_token(word) for word in _WORD.findall(folded) if word not in STOPWORDS)


@lru_cache(maxsize=65536)
def normalize_name(text: str) -> str:
    """A name reduced for exact comparison: accents, case, punctuation, articles and spacing removed.

    Cached: telepathy normalises every entity name of the pool on every question."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    words = [w for w in _WORD.findall(folded) if w not in ("the", "a", "an")]
    return " ".join(words)
