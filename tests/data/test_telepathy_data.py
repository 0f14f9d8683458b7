"""Telepathy knowledge base: entities of one kind agree on what follows from the kind.

The offline user answers from these sheets, so a group of entities written with a wrong habit (every real
person "not a mammal", two planets "science" and two "maybe") misleads agents in a way no single record shows.

UserRL's categories are too fine to group by (109 for 196 entities, most with one member) and sometimes mixed
("fictional_character" holds Garfield and Captain America), so a kind is picked out either by the attribute
values that define it (a person who is not an animal is a human) or by UserRL category names (planets).
An entity may depart from its kind only where its record says why: `"exceptions": {attribute: reason}`
("eats_meat": "vegetarian ..."); an exception nothing needs fails too, so the reasons stay true.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from bao.envs.telepathy import Entity, knowledge_base
from bao.users.knowledge import sheet_path


@dataclass(frozen=True)
class Kind:
    name: str
    implies: dict[str, str]  # attribute -> the value every member has
    where: dict[str, str] = field(default_factory=dict)  # defining attribute values
    categories: frozenset[str] = frozenset()  # UserRL categories whose entities are all of the kind

    def has(self, entity: Entity) -> bool:
        defined = bool(self.where) and all(entity.values[a] == v for a, v in self.where.items())
        return defined or entity.category in self.categories


KINDS = (
    Kind("human", {"is_living": "yes", "is_mammal": "yes", "has_fur": "yes", "eats_meat": "yes", "is_plant": "no",
                   "fits_in_hand": "no"}, where={"is_person": "yes", "is_animal": "no"}),
    Kind("real person", {"is_person": "yes", "is_fictional": "no", "supernatural_powers": "no"},
         where={"is_real_person": "yes"}),
    Kind("fictional", {"is_real_person": "no"}, where={"is_fictional": "yes"}),
    Kind("animal", {"is_living": "yes", "is_plant": "no", "is_object": "no"}, where={"is_animal": "yes"}),
    Kind("mammal", {"is_living": "yes", "has_fur": "yes"}, where={"is_mammal": "yes"}),
    # Natural things that science studies (an eclipse, a comet, a planet) are "maybe" science_tech: the attribute
    # asks about science as a subject or made technology.
    Kind("planet", {"space": "yes", "science_tech": "maybe", "is_living": "no", "bigger_than_person": "yes",
                    "exists_today": "yes", "before_1900": "yes"}, categories=frozenset({"planet", "celestial body"})),
    Kind("fruit", {"is_food_or_drink": "yes", "is_plant": "yes", "is_living": "yes"}, categories=frozenset({"fruit"})),
    Kind("food", {"is_food_or_drink": "yes"}, categories=frozenset({"food", "dish", "dessert", "beverage"})),
    Kind("vehicle", {"is_vehicle": "yes", "is_object": "yes"}, categories=frozenset({"vehicle", "aircraft"})),
    Kind("sport", {"is_game_or_sport": "yes", "sports": "yes"}, categories=frozenset({"sport", "sports"})),
    Kind("musical instrument", {"is_object": "yes", "music": "yes"}, categories=frozenset({"musical_instrument"})),
    # A genre is a body of works rather than one work: "maybe" a creative work.
    Kind("music genre", {"music": "yes", "is_concept": "yes", "is_creative_work": "maybe"},
         categories=frozenset({"music_genre"})),
)


def recorded_exceptions() -> dict[str, dict[str, str]]:
    """Title -> {attribute: reason} from every shipped `entities_*.json` (the loader does not keep them)."""
    folder = sheet_path("telepathy", "")
    return {rec["title"]: rec.get("exceptions", {})
            for path in sorted(folder.glob("entities_*.json"))
            for rec in json.loads(path.read_text(encoding="utf-8"))}


def violations(entities: tuple[Entity, ...], exceptions: dict[str, dict[str, str]]) -> list[str]:
    """Each (entity, kind, attribute) whose value is not the one the kind implies and has no recorded reason."""
    return [f"{e.title} ({kind.name}): {a} is {e.values[a]}, the kind says {v}"
            for kind in KINDS for e in entities if kind.has(e)
            for a, v in kind.implies.items() if e.values[a] != v and a not in exceptions.get(e.title, {})]


def test_entities_of_a_kind_agree_on_what_follows_from_it():
    found = violations(knowledge_base().entities, recorded_exceptions())
    assert not found, "\n".join(found)


def test_every_kind_has_members_and_names_known_attributes():
    kb = knowledge_base()
    ids = {a.id for a in kb.attributes}
    for kind in KINDS:
        assert set(kind.implies) | set(kind.where) <= ids, kind.name
        assert any(kind.has(e) for e in kb.entities), f"kind {kind.name} matches no entity"


def test_every_exception_gives_a_reason_and_is_needed():
    kb = knowledge_base()
    for title, reasons in recorded_exceptions().items():
        entity = kb.entity(title)
        for attribute, reason in reasons.items():
            assert isinstance(reason, str) and reason.strip(), f"{title}: exception {attribute} gives no reason"
            implied = {k.implies[attribute] for k in KINDS if k.has(entity) and attribute in k.implies}
            assert implied - {entity.values[attribute]}, f"{title}: exception {attribute} departs from no kind"


def test_a_human_who_is_not_a_mammal_is_caught_unless_the_record_says_why():
    kb = knowledge_base()
    dickens = kb.entity("Charles Dickens")
    broken = Entity(dickens.title, dickens.split, dickens.category, dickens.aliases,
                    {**dickens.values, "is_mammal": "no"})
    assert violations((broken,), {}) == ["Charles Dickens (human): is_mammal is no, the kind says yes"]
    assert violations((broken,), {"Charles Dickens": {"is_mammal": "a reason"}}) == []
