"""Scripted agents for TauGym.

- `oracle` reads the hidden goal writes: asks the customer's identity (the service policy), proposes every
  goal write in one message (telling the required `outputs` there), makes the calls, and finishes. On a task
  without writes it tells the outputs and finishes.
- `heuristic` uses only the conversation and the tools, as a careful human agent would: asks what the
  customer needs together with their identity, looks the user up, asks once for the order or reservation
  ids and payment methods, reads the orders (and, for exchanges and modifications, the products) to turn
  item names and options into item ids, proposes every change in one message, makes the calls after a
  "yes", then asks whether anything else is needed (the customer ends with ###STOP###). It reads the
  customer's wording (`bao.envs.tau_customer.describe`), so it is tuned to the scripted customer.
- `answer-now` never asks: it finishes at once (there is nothing to commit to without the customer).
- `random` sends a random message, search or tool call.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from bao.agent.render import render_tool_call
from bao.envs.tau_tasks import is_write, tool_catalogue
from bao.policies.base import Context, Policy

OPENER = ("Hi! I'm happy to help. What can I do for you today? To verify your identity, please also give me "
          "your full name and zip code, or your email or user id.")
IDENTITY = "Hello! To get started, could you please give me your name and zip code, or your email or user id?"
IDS = ("Thank you. Could you tell me the order or reservation id for each of these, and the payment method "
       "you'd like to use?")
PROPOSAL = "I will now make these changes:"
CLOSING = "Everything is done. Is there anything else I can help you with?"
_NAME = re.compile(r"My name is (\S+) (\S+?)(?: and my zip code is (\d{5}))?\.")
_EMAIL = re.compile(r"My email is (\S+)\.(?:\s|$)")
_USER_ID = re.compile(r"My user id is (\S+)\.")
_PARTS = re.compile(r"\((\d+)\) (.*?)(?=; \(\d+\) |\.$)")
_LISTED = re.compile(r"\((\d+)\) ([^,()]+(?:\([^)]*\))?)")
_ITEM = re.compile(r"the (.+?) \(([^()]*)\)(?: for (?:one with (.*?)|the exact same item))?(?= and the |$)")
_ITEMS_SAID = re.compile(r"^(?:return|exchange|change) (.*?)(?: that I received| in my pending order)$")
_LEG = re.compile(r"(HAT\d{3}) on (\d{4}-\d{2}-\d{2})")
_PERSON = re.compile(r"(\S+) (\S+) \(born (\d{4}-\d{2}-\d{2})\)")
_PAID = re.compile(r"(\S+) \(([\d.]+) dollars\)")


def _options(text: str) -> dict[str, str]:
    return dict(pair.split(": ", 1) for pair in text.split(", ") if ": " in pair) if text else {}


@dataclass
class Memory:
    """What the conversation established, re-read from the history every turn."""

    identity: dict[str, str] = field(default_factory=dict)
    user_id: str | None = None
    lookup_failed: bool = False
    parts: list[str] = field(default_factory=list)
    ids: dict[int, str] = field(default_factory=dict)
    payments: dict[int, str] = field(default_factory=dict)
    asked_ids: bool = False
    records: dict[str, dict] = field(default_factory=dict)  # order / product / reservation id -> record
    proposal: str | None = None
    accepted: bool = False
    calls_made: int = 0
    closed: bool = False
    opened: bool = False


def _read_request(text: str) -> list[str] | None:
    if "I'd like to: " in text:
        return [m.group(2) for m in _PARTS.finditer(text[text.index("I'd like to: ") + 13:])]
    match = re.search(r"I'd like to (.*?)\.(?:\s|$)", text)
    return [match.group(1)] if match else None


def _read_listing(text: str, label: str) -> dict[int, str]:
    """`The order id is X.` (every part) or `The order ids: (1) X, (2) Y.` -> {part index: value}."""
    single = re.search(rf"The {label} is (.+?)\.(?:\s|$)", text)
    if single:
        return {-1: single.group(1)}
    listed = re.search(rf"The {label}s: (.*?)\.(?:\s|$)", text)
    return {int(k) - 1: v.strip() for k, v in _LISTED.findall(listed.group(1))} if listed else {}


def remember(ctx: Context) -> Memory:
    memory = Memory()
    for choice, content, reply in ctx.history:
        if choice == "action":
            memory.opened = True
            if content == IDS:
                memory.asked_ids = True
            if content == CLOSING:
                memory.closed = True
            if content.startswith(PROPOSAL):
                memory.proposal, memory.accepted = content, reply.startswith("Yes")
            memory.identity.update(_identity(reply))
            parts = _read_request(reply)
            if parts and not memory.parts:
                memory.parts = parts
            for label, store in (("order id", memory.ids), ("reservation id", memory.ids),
                                 ("payment method", memory.payments)):
                store.update(_read_listing(reply, label))
        elif choice == "answer":
            _read_tool(memory, content, reply)
    if "user_id" in memory.identity:
        memory.user_id = memory.user_id or memory.identity["user_id"]
    return memory


def _identity(reply: str) -> dict[str, str]:
    found = {}
    if (m := _NAME.search(reply)):
        found.update(first_name=m.group(1), last_name=m.group(2), **({"zip": m.group(3)} if m.group(3) else {}))
    if (m := _EMAIL.search(reply)):
        found["email"] = m.group(1)
    if (m := _USER_ID.search(reply)):
        found["user_id"] = m.group(1)
    return found


def _read_tool(memory: Memory, content: str, reply: str) -> None:
    try:
        call = json.loads(content)
    except json.JSONDecodeError:
        return
    name = call.get("name", "")
    if name.startswith("find_user_id"):
        if reply.startswith("Error"):
            memory.lookup_failed = True
        else:
            memory.user_id = reply.strip()
    elif name.startswith("get_") and not reply.startswith("Error"):
        key = next(iter(call["arguments"].values()))
        memory.records[key] = json.loads(reply)
    elif is_write(name):
        memory.calls_made += 1


def _value(store: dict[int, str], k: int) -> str | None:
    return store.get(k, store.get(-1))


def _address(text: str) -> dict[str, str]:
    parts = [p.strip() for p in text.split(", ")]
    line2 = ", ".join(parts[1:-4]) if len(parts) > 5 else ""
    return {"address1": parts[0], "address2": line2, "city": parts[-4], "state": parts[-3], "country": parts[-2],
            "zip": parts[-1]}


def _people(text: str) -> list[dict[str, str]]:
    return [{"first_name": a, "last_name": b, "dob": c} for a, b, c in _PERSON.findall(text)]


def _legs(text: str) -> list[dict[str, str]]:
    return [{"flight_number": n, "date": d} for n, d in _LEG.findall(text)]


class Planner:
    """Turns the request parts into tool calls, saying which record it must read first when one is missing."""

    def __init__(self, memory: Memory) -> None:
        self.m = memory

    def calls(self) -> list[dict] | dict:
        """The write calls of every part, or the read call still needed (a dict)."""
        calls = []
        for k, part in enumerate(self.m.parts):
            call = self._call(k, part)
            if call is None:
                continue
            if call.get("read"):
                return call
            calls.append(call)
        return calls

    def _call(self, k: int, part: str) -> dict | None:
        target, pay = _value(self.m.ids, k), _value(self.m.payments, k)
        if part.startswith("cancel one of my pending orders"):
            reason = re.search(r"reason: ([^)]*)", part)
            return _make("cancel_pending_order", order_id=target, reason=reason.group(1) if reason else "")
        if part.startswith("change the shipping address"):
            return _make("modify_pending_order_address", order_id=target, **_address(part.split(" to ", 1)[1]))
        if part.startswith("pay for my pending order"):
            return _make("modify_pending_order_payment", order_id=target, payment_method_id=pay)
        if part.startswith("update my default address"):
            return _make("modify_user_address", user_id=self.m.user_id, **_address(part.split(" to ", 1)[1]))
        if part.startswith(("return ", "exchange ")) or part.endswith(" in my pending order"):
            return self._items(k, part, target, pay)
        return self._airline(part, target, pay)

    def _items(self, k: int, part: str, order_id: str | None, pay: str | None) -> dict | None:
        if order_id is None:
            return None
        order = self.m.records.get(order_id)
        if order is None:
            return {"read": True, "name": "get_order_details", "arguments": {"order_id": order_id}}
        olds, news = [], []
        free = list(order["items"])
        said = _ITEMS_SAID.match(part)
        for name, options, change in _ITEM.findall(said.group(1) if said else ""):
            line = next((i for i in free if i["name"] == name and i["options"] == _options(options)), None)
            if line is None:
                return None
            free.remove(line)
            olds.append(line["item_id"])
            if part.startswith("return"):
                continue
            product = self.m.records.get(line["product_id"])
            if product is None:
                return {"read": True, "name": "get_product_details", "arguments": {"product_id": line["product_id"]}}
            wanted = {**line["options"], **_options(change)}
            variant = next((v for v in product["variants"].values() if v["options"] == wanted and v["available"]),
                           None)
            if variant is None:
                return None
            news.append(variant["item_id"])
        if part.startswith("return"):
            return _make("return_delivered_order_items", order_id=order_id, item_ids=olds, payment_method_id=pay)
        name = "exchange_delivered_order_items" if part.startswith("exchange") else "modify_pending_order_items"
        return _make(name, order_id=order_id, item_ids=olds, new_item_ids=news, payment_method_id=pay)

    def _airline(self, part: str, rid: str | None, pay: str | None) -> dict | None:
        if part.startswith("cancel my reservation"):
            return _make("cancel_reservation", reservation_id=rid)
        if part.startswith("have my reservation on flights"):
            cabin = part.rsplit(" in ", 1)[1]
            return _make("update_reservation_flights", reservation_id=rid, cabin=cabin, flights=_legs(part),
                         payment_id=pay)
        if (bags := re.match(r"have (\d+) checked bags \((\d+) paid\)", part)):
            return _make("update_reservation_baggages", reservation_id=rid, total_baggages=int(bags.group(1)),
                         nonfree_baggages=int(bags.group(2)), payment_id=pay)
        if part.startswith("change the passengers"):
            return _make("update_reservation_passengers", reservation_id=rid, passengers=_people(part))
        if (cert := re.match(r"receive a ([\d.]+) dollar certificate", part)):
            amount = float(cert.group(1))
            return _make("send_certificate", user_id=self.m.user_id, amount=int(amount) if amount.is_integer()
                         else amount)
        if (book := re.match(r"book a (one way|round trip) (\S+) trip from (\S+) to (\S+) on flights (.*?) for (.*)"
                             r", with (\d+) checked bags \((\d+) paid\) and insurance: (\w+)", part)):
            paid = [{"payment_id": p, "amount": float(a) if "." in a else int(a)} for p, a in _PAID.findall(pay or "")]
            return _make("book_reservation", user_id=self.m.user_id, origin=book.group(3),
                         destination=book.group(4), flight_type=book.group(1).replace(" ", "_"),
                         cabin=book.group(2), flights=_legs(book.group(5)), passengers=_people(book.group(6)),
                         payment_methods=paid, total_baggages=int(book.group(7)),
                         nonfree_baggages=int(book.group(8)), insurance=book.group(9))
        return None


def _make(name: str, **arguments: Any) -> dict | None:
    """A write call, or None when an argument is still unknown."""
    if any(v is None or v == [] for v in arguments.values()):
        return None
    return {"name": name, "arguments": arguments}


def proposal_of(calls: list[dict]) -> str:
    """One message proposing every write: the tool in words, its target and its arguments."""
    lines = [f"({k + 1}) {c['name'].replace('_', ' ')}: {json.dumps(c['arguments'])}" for k, c in enumerate(calls)]
    return PROPOSAL + " " + "; ".join(lines) + ". Shall I proceed? (yes/no)"


def tool_call(call: dict, why: str = "") -> str:
    return render_tool_call("answer", json.dumps({"name": call["name"], "arguments": call["arguments"]}), why)


class HeuristicAgent(Policy):
    name = "heuristic"

    def act(self, ctx: Context) -> str:
        m = remember(ctx)
        if not m.opened:
            return render_tool_call("action", OPENER, "Learn the request and the identity in one message.")
        if m.user_id is None and not m.lookup_failed and m.identity:
            return tool_call(_lookup(m.identity), "Authenticate the customer.")
        if not m.asked_ids and m.parts:
            return render_tool_call("action", IDS, "I need the ids and payment methods to act.")
        planned = Planner(m).calls()
        if isinstance(planned, dict):
            return tool_call(planned, "Read the record the request refers to.")
        if planned and not m.accepted and m.proposal is None:
            return render_tool_call("action", proposal_of(planned), "Confirm the changes before making them.")
        if planned and m.accepted and m.calls_made < len(planned):
            return tool_call(planned[m.calls_made], "The customer confirmed this change.")
        if not m.closed:
            return render_tool_call("action", CLOSING, "Check whether the customer needs anything else.")
        return render_tool_call("finish", "", "Nothing more I can do.")


def _lookup(identity: dict[str, str]) -> dict:
    if "email" in identity:
        return {"name": "find_user_id_by_email", "arguments": {"email": identity["email"]}}
    return {"name": "find_user_id_by_name_zip", "arguments": {
        "first_name": identity.get("first_name", ""), "last_name": identity.get("last_name", ""),
        "zip": identity.get("zip", "")}}


class OracleAgent(Policy):
    name = "oracle"

    def act(self, ctx: Context) -> str:
        steps = self.plan(ctx)
        return steps[min(ctx.turn, len(steps) - 1)]

    @staticmethod
    def plan(ctx: Context) -> list[str]:
        hidden = ctx.task.hidden
        goals = [{"name": a["name"], "arguments": a["kwargs"]} for a in hidden["actions"] if is_write(a["name"])]
        outputs = hidden["outputs"]
        told = f" For your information: {', '.join(outputs)}." if outputs else ""
        steps = [render_tool_call("action", IDENTITY, "Authenticate the customer first.")]
        if goals:
            steps.append(render_tool_call("action", proposal_of(goals) + told, "Confirm every change at once."))
        elif outputs:
            steps.append(render_tool_call("action", "Here is what you asked." + told, "Tell the required facts."))
        steps += [tool_call(g, "A goal write.") for g in goals]
        steps.append(render_tool_call("finish", "", "Every goal write is done."))
        return steps


class AnswerNowAgent(Policy):
    name = "answer-now"

    def act(self, ctx: Context) -> str:
        return render_tool_call("finish", "", "Never asks: nothing to do without the customer.")


class RandomAgent(Policy):
    name = "random"

    def act(self, ctx: Context) -> str:
        choice = ctx.rng.choice(("search", "action", "answer"))
        if choice == "search":
            return render_tool_call("search", ctx.rng.choice(("tools", "help")))
        if choice == "action":
            return render_tool_call("action", ctx.rng.choice((OPENER, IDS, CLOSING, "Can I proceed? (yes/no)")))
        name = ctx.rng.choice(tool_catalogue()["domains"][ctx.task.hidden["domain"]])
        return tool_call({"name": name, "arguments": {}})


AGENTS: dict[str, type[Policy]] = {
    "random": RandomAgent,
    "answer-now": AnswerNowAgent,
    "heuristic": HeuristicAgent,
    "oracle": OracleAgent,
}
