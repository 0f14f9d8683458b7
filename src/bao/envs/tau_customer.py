"""TauGym's simulated customers: a scripted one (offline, deterministic, the default) and an LLM one.

The **scripted customer** wants exactly the task's goal writes (the ground-truth writes that succeed on the
proxy database) and knows what the instruction and those writes say. To each agent message it replies:
1. `###STOP###` once every goal write has been carried out (a successful call of the same tool on the same
   order, reservation or user; the reward then checks the arguments through the database);
2. to a proposal (a message naming a write, e.g. "I will cancel order #W1, shall I proceed?"): "Yes" when it
   names a goal write still to do and no order or reservation outside them, else "No" and what it wants;
3. to questions, the facts asked for: identity (name and zip, email or user id, as the instruction gives),
   the request (every goal write in words, numbered: items by product name and options, a cancel's reason,
   a new address), the order or reservation ids and the payment methods of each request part;
4. to anything else, its request again.
A question is `redundant` when it reveals nothing new (every fact it asks for was told before, or nothing the
customer knows was asked); the facts told are `revealed` (`identity`, `request`, `order_ids`,
`reservation_ids`, `payment`, `confirm:<i>`; a new address is part of the request).

The **LLM customer** plays the instruction (UserRL's τ-bench user simulator does the same with τ-bench's
prompt; this prompt is bao's): it reveals only what is asked and ends with `###STOP###` when satisfied.
Redundancy is then decided from the conversation (`bao.users.redundancy`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bao.core.types import Task
from bao.envs.tau_tasks import profile_of

STOP = "###STOP###"
STOP_REPLY = f"Great, that's everything I needed. Thank you! {STOP}"
_PROPOSAL_VERB = re.compile(r"\b(cancel\w*|return\w*|exchang\w*|modif\w*|chang\w*|updat\w*|switch\w*|replac\w*|"
                            r"book\w*|upgrad\w*|downgrad\w*|certificate|compensat\w*|bag\w*|passengers?)\b")
_PROPOSAL = re.compile(r"\b(confirm\w*|proceed|shall i|should i|go ahead|do you want me to|would you like me to|"
                       r"is (?:that|this) (?:ok|okay|correct|right|fine)|yes/no)\b|\(yes\)")
_TOPICS = {
    "identity": re.compile(r"\b(name|zip|postal|e-?mail|user ?id|identity|identify|verify|authenticat\w*|account)\b"),
    "order_ids": re.compile(r"\border\b[^.?!]*\b(ids?|numbers?|#)|\border (ids?|numbers?)\b|which orders?\b"),
    "reservation_ids": re.compile(r"\b(reservation|booking|confirmation) ?(ids?|numbers?|codes?)?\b"),
    "payment": re.compile(r"\b(payment|pay|card|paypal|gift card|refund|charge)\b"),
    "request": re.compile(r"\b(help|assist|what (?:can|do|would|else)|how can|looking for|anything else|"
                          r"request|which items?|what items?)\b"),
}
_ORDER_ID = re.compile(r"#W\d{7}")
_TARGETS = ("order_id", "reservation_id")


def target_of(name: str, kwargs: dict) -> tuple[str, str]:
    """What a write acts on: (tool, order / reservation / user id); a goal is done when a call hits it."""
    return name, str(kwargs.get("order_id") or kwargs.get("reservation_id") or kwargs.get("user_id") or "")


@dataclass
class Reply:
    text: str
    revealed: list[str] = field(default_factory=list)
    redundant: bool = False
    stop: bool = False


def _verb(name: str) -> str:
    """The word a customer uses for a write (matched against a proposal's verbs by stem)."""
    return {"cancel_pending_order": "cancel", "cancel_reservation": "cancel", "return_delivered_order_items": "return",
            "exchange_delivered_order_items": "exchang", "book_reservation": "book",
            "send_certificate": "certificate|compensat", "update_reservation_baggages": "bag",
            "update_reservation_passengers": "passenger"}.get(name, "chang|modif|updat|switch|replac|upgrad|downgrad")


def _options(options: dict) -> str:
    return ", ".join(f"{k}: {v}" for k, v in options.items())


def _address(kw: dict) -> str:
    parts = [kw["address1"], kw["address2"], kw["city"], kw["state"], kw["country"], kw["zip"]]
    return ", ".join(p for p in parts if p)


def _legs(flights: list[dict]) -> str:
    return ", ".join(f"{leg['flight_number']} on {leg['date']}" for leg in flights)


def _people(passengers: list[dict]) -> str:
    return ", ".join(f"{p['first_name']} {p['last_name']} (born {p['dob']})" for p in passengers)


def describe(goal: dict, db: dict) -> str:
    """One goal write as the customer words its wish."""
    name, kw = goal["name"], goal["kwargs"]
    if "item_ids" in kw:
        order = db["orders"][kw["order_id"]]
        lines = {i["item_id"]: i for i in order["items"]}
        changes = []
        for k, old in enumerate(kw["item_ids"]):
            line = lines[old]
            text = f"the {line['name']} ({_options(line['options'])})"
            if "new_item_ids" in kw:
                new = db["products"][line["product_id"]]["variants"][kw["new_item_ids"][k]]["options"]
                change = {o: v for o, v in new.items() if line["options"].get(o) != v}
                text += f" for one with {_options(change)}" if change else " for the exact same item"
            changes.append(text)
        what = " and ".join(changes)
        return {"return_delivered_order_items": f"return {what} that I received",
                "exchange_delivered_order_items": f"exchange {what} that I received"}.get(
                    name, f"change {what} in my pending order")
    return {
        "cancel_pending_order": lambda: f"cancel one of my pending orders (reason: {kw.get('reason')})",
        "modify_pending_order_address": lambda: f"change the shipping address of my pending order to {_address(kw)}",
        "modify_pending_order_payment": lambda: "pay for my pending order with another payment method",
        "modify_user_address": lambda: f"update my default address to {_address(kw)}",
        "cancel_reservation": lambda: "cancel my reservation",
        "update_reservation_flights": lambda: f"have my reservation on flights {_legs(kw['flights'])} in "
                                              f"{kw['cabin']}",
        "update_reservation_baggages": lambda: f"have {kw['total_baggages']} checked bags "
                                               f"({kw['nonfree_baggages']} paid) on my reservation",
        "update_reservation_passengers": lambda: f"change the passengers of my reservation to "
                                                 f"{_people(kw['passengers'])}",
        "book_reservation": lambda: f"book a {kw['flight_type'].replace('_', ' ')} {kw['cabin']} trip from "
                                    f"{kw['origin']} to {kw['destination']} on flights {_legs(kw['flights'])} for "
                                    f"{_people(kw['passengers'])}, with {kw['total_baggages']} checked bags "
                                    f"({kw['nonfree_baggages']} paid) and insurance: {kw['insurance']}",
        "send_certificate": lambda: f"receive a {kw['amount']} dollar certificate as compensation",
    }[name]()


class ScriptedCustomer:
    """The offline customer of one episode (see the module docstring)."""

    def __init__(self, task: Task, goals: list[dict], db: dict) -> None:
        self.profile = profile_of(task)
        self.goals = goals
        self.parts = [describe(g, db) for g in goals]
        self.obs = task.hidden["obs"]
        self.told: set[str] = set()

    def reply(self, message: str, done: list[bool]) -> Reply:
        low = message.lower()
        if (all(done) and self.goals) or (not self.goals and "request" in self.told):
            return Reply(STOP_REPLY, stop=True)
        if _PROPOSAL.search(low) and _PROPOSAL_VERB.search(low):
            return self._judge(message, low, done)
        asked = [topic for topic, pattern in _TOPICS.items() if pattern.search(low)]
        texts = [self._fact(topic) for topic in asked]
        texts = [t for t in texts if t]
        if not texts:
            asked, texts = ["request"], [self._fact("request")]
        revealed = [t for t in asked if t not in self.told]
        self.told.update(asked)
        return Reply(" ".join(texts), revealed, redundant=not revealed)

    def _judge(self, message: str, low: str, done: list[bool]) -> Reply:
        """Yes to a proposal of pending goal writes only; no (and the wish again) otherwise."""
        pending = [i for i, d in enumerate(done) if not d]
        targets = {str(self.goals[i]["kwargs"].get(k)) for i in pending for k in _TARGETS}
        named = set(_ORDER_ID.findall(message)) | {t for t in _reservation_ids(self.goals) if t in message}
        matched = [i for i in pending if re.search(rf"\b({_verb(self.goals[i]['name'])})", low)
                   and (not _target(self.goals[i]) or _target(self.goals[i]) in message or not named)]
        if not matched or named - targets:
            self.told.add("request")
            return Reply("No, that's not what I want. " + self._fact("request"), redundant=True)
        revealed = [f"confirm:{i}" for i in matched if f"confirm:{i}" not in self.told]
        self.told.update(revealed)
        return Reply("Yes, please go ahead.", revealed, redundant=not revealed)

    def _fact(self, topic: str) -> str:
        p = self.profile
        if topic == "identity":
            said = [f"My name is {p.first_name} {p.last_name}" + (f" and my zip code is {p.zip}." if p.zip else ".")]
            if p.email:
                said.append(f"My email is {p.email}.")
            if p.knows_user_id:
                said.append(f"My user id is {p.user_id}.")
            return " ".join(said)
        if topic == "request":
            if not self.parts:
                return self.obs
            if len(self.parts) == 1:
                return f"I'd like to {self.parts[0]}."
            return "I'd like to: " + "; ".join(f"({k + 1}) {part}" for k, part in enumerate(self.parts)) + "."
        key = {"order_ids": "order_id", "reservation_ids": "reservation_id", "payment": "payment"}[topic]
        values = [(k, _payment(g["kwargs"]) if key == "payment" else g["kwargs"].get(key))
                  for k, g in enumerate(self.goals)]
        values = [(k, v) for k, v in values if v]
        if not values:
            return ""
        label = {"order_id": "order id", "reservation_id": "reservation id", "payment": "payment method"}[key]
        if len({v for _, v in values}) == 1:
            return f"The {label} is {values[0][1]}."
        return f"The {label}s: " + ", ".join(f"({k + 1}) {v}" for k, v in values) + "."


def _payment(kwargs: dict) -> str | None:
    if "payment_methods" in kwargs:
        return " and ".join(f"{p['payment_id']} ({p['amount']} dollars)" for p in kwargs["payment_methods"])
    return kwargs.get("payment_method_id") or kwargs.get("payment_id")


def _target(goal: dict) -> str | None:
    return goal["kwargs"].get("order_id") or goal["kwargs"].get("reservation_id")


def _reservation_ids(goals: list[dict]) -> set[str]:
    return {g["kwargs"]["reservation_id"] for g in goals if "reservation_id" in g["kwargs"]}


SYSTEM_PROMPT = """You play a customer talking to a customer-service agent, following these instructions:

{instruction}

Rules:
- Write only your next message to the agent, in one to three short sentences.
- Reveal only what the agent asks for or what the instructions say you volunteer; never invent ids, names or
  facts the instructions do not give. If you do not know something, say so.
- Stay in character (the instructions describe your personality) and never act as the agent.
- When your request is fully handled, or it cannot be handled and you accept that, end your message with
  {stop} (exactly this token).
Answer with a JSON object: {{"reply": "<your message>"}}"""


class LLMCustomer:
    """The customer as an LLM (`bao.users.llm.LLMUser`) playing the instruction; one call per agent message."""

    def __init__(self, task: Task, user: Any, seed: int) -> None:
        self.system = SYSTEM_PROMPT.format(instruction=task.hidden["instruction"], stop=STOP)
        self.user, self.seed = user, seed
        self.transcript = [("customer", task.hidden["obs"])]
        self.questions: list[tuple[str, str]] = []

    def reply(self, message: str, done: list[bool]) -> Reply:
        from bao.users.llm import turn_seed
        from bao.users.redundancy import is_redundant

        self.transcript.append(("agent", message))
        prompt = "\n".join(f"{who}: {text}" for who, text in self.transcript) + "\ncustomer:"
        answer = self.user.ask_json(self.system, prompt, seed=turn_seed(self.seed, len(self.questions)))
        text = str(answer.get("reply", "")).strip() if answer else ""
        text = text or "Sorry, I didn't get that. Could you say it again?"
        self.transcript.append(("customer", text))
        redundant = is_redundant(message, self.questions, text)
        self.questions.append((message, text))
        return Reply(text, redundant=redundant, stop=STOP in text)
