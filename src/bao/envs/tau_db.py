"""The per-task proxy database of TauGym: τ-bench's retail/airline databases are not public, so bao derives,
for each task, the smallest database its ground-truth actions can run on.

Deterministic from the task alone (every synthetic id, name and price is a hash of task facts):
- the customer: user id, name, zip and email from the instruction (`tau_tasks.Profile`; email and street
  address made up when absent), payment methods = every payment id the actions or the instruction name;
- retail: every order an action or the instruction names, `pending` when a write expects a pending order
  (cancel, modify) and `delivered` otherwise; its items are the items the actions name (product names and
  options from the templated train instructions, else names drawn from `PRODUCT_NAMES`, preferring those the
  instruction mentions), plus one decoy item, so that "return everything" is wrong; each product lists the
  variants the actions use; an order's original payment method is the one its return refunds to (τ-bench
  refunds returns to the original method or a gift card), else another method of the customer;
- airline: every reservation an action or the instruction names; flights from the actions' flight lists
  (airports from the trip or the `search_direct_flight` of the same date); a reservation the actions update
  starts in another cabin, with other passengers and no bags, so that every update changes it.
Prices are hashes of the ids (items 10-1000 dollars). Gift card and certificate balances are not tracked.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from typing import Any

from bao.core.types import Task
from bao.envs.tau_tasks import Profile, profile_of, tool_catalogue

PRODUCT_NAMES = (
    "T-Shirt", "Water Bottle", "Desk Lamp", "Backpack", "Wall Clock", "Tea Kettle", "Office Chair", "Bookshelf",
    "Hiking Boots", "Yoga Mat", "Bluetooth Speaker", "Wireless Earbuds", "Smart Watch", "Laptop", "Tablet",
    "Mechanical Keyboard", "Smart Thermostat", "Air Purifier", "Robotic Vacuum", "Coffee Maker", "Skateboard",
    "Garden Hose", "Electric Kettle", "Cycling Helmet", "Pet Bed", "Jigsaw Puzzle", "Digital Camera", "Grill",
)
_PAYMENT = re.compile(r"\b(?:credit_card|gift_card|paypal|certificate)_\d+\b")
_ORDER = re.compile(r"#W\d{7}\b")
_RESERVATION = re.compile(r"\b(?=[A-Z0-9]*\d)(?=[A-Z0-9]*[A-Z])(?!HAT\d{3}\b)[A-Z0-9]{6}\b")
PENDING_WRITES = ("cancel_pending_order", "modify_pending_order_address", "modify_pending_order_items",
                  "modify_pending_order_payment")
CABINS = ("basic_economy", "economy", "business")
WRITES = frozenset(tool_catalogue()["writes"])


def digits(key: str, n: int) -> str:
    """n decimal digits that only depend on `key` (synthetic ids)."""
    return str(int(hashlib.sha256(key.encode()).hexdigest(), 16))[-n:].zfill(n)


def price(key: str, low: float = 10.0, high: float = 1000.0) -> float:
    return round(low + int(digits(key, 8)) / 1e8 * (high - low), 2)


def state_hash(db: dict) -> str:
    """Canonical hash of a database: key order never matters, list order does (as in τ-bench)."""
    return hashlib.sha256(json.dumps(db, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def build_db(task: Task) -> dict[str, Any]:
    """A fresh proxy database for `task` (callers may mutate it)."""
    return copy.deepcopy(_build(task))


_CACHE: dict[str, dict] = {}


def _build(task: Task) -> dict:
    key = f"{task.split}/{task.id}"
    if key not in _CACHE:
        profile, actions = profile_of(task), task.hidden["actions"]
        user = _user(profile, task, actions)
        db = {"domain": task.hidden["domain"], "users": {profile.user_id: user}}
        if task.hidden["domain"] == "airline":
            _airline(db, user, actions, task.hidden["instruction"])
        else:
            _retail(db, user, profile, actions, task.hidden["instruction"])
        _CACHE[key] = db
    return _CACHE[key]


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _user(profile: Profile, task: Task, actions: list[dict]) -> dict:
    uid = profile.user_id
    email = f"{profile.first_name.lower()}.{profile.last_name.lower()}{digits(uid, 4)}@example.com"
    found = [s for a in actions for s in _strings(a["kwargs"]) if _PAYMENT.fullmatch(s)]
    found += _PAYMENT.findall(task.hidden["instruction"])
    methods = {pid: _method(pid) for pid in sorted(set(found))}
    return {
        "user_id": uid,
        "name": {"first_name": profile.first_name, "last_name": profile.last_name},
        "email": profile.email or email,
        "address": {"address1": f"{int(digits(uid + ':street', 3)) + 1} Maple Avenue", "address2": "",
                    "city": "Springfield", "state": "IL", "country": "USA",
                    "zip": profile.zip or digits(uid + ":zip", 5)},
        "payment_methods": methods,
    }


def _method(pid: str) -> dict:
    return {"id": pid, "source": pid.rsplit("_", 1)[0]}


def _retail(db: dict, user: dict, profile: Profile, actions: list[dict], instruction: str) -> None:
    uid = user["user_id"]
    order_ids = list(dict.fromkeys([a["kwargs"]["order_id"] for a in actions if "order_id" in a["kwargs"]]
                                   + _ORDER.findall(instruction)))
    # The status the order's last write expects: when a task both exchanges and modifies one order, only
    # one of the two could succeed in τ-bench, and the agent's later attempt is the one that did.
    status = {a["kwargs"]["order_id"]: "pending" if a["name"] in PENDING_WRITES else "delivered"
              for a in actions if "order_id" in a["kwargs"] and a["name"] in WRITES}
    names = _item_names(profile, actions, instruction)
    products: dict[str, dict] = {}
    ids = _product_ids(names, actions)
    orders = {}
    for oid in order_ids:
        items: list[dict] = []
        for action in actions:
            kw = action["kwargs"]
            if kw.get("order_id") != oid or "item_ids" not in kw:
                continue
            for old, new in zip(kw["item_ids"], kw.get("new_item_ids") or [None] * len(kw["item_ids"])):
                facts = profile.items.get((oid, old))
                name = names[(oid, old)]
                options = dict(facts.options) if facts and facts.options else {"variant": old}
                item = _variant(products, ids.get(name), name, old, options)
                if sum(i["item_id"] == old for i in items) < kw["item_ids"].count(old):
                    items.append(item)
                if new is not None:
                    wanted = {**options, **facts.change} if facts and facts.options else {"variant": new}
                    _variant(products, ids.get(name), name, new, wanted if new != old else options)
        taken = {i["name"] for i in items}
        decoy = next(n for n in _rotated(oid) if n not in taken)
        decoy_id = digits(f"{oid}:decoy", 10)
        items.append(_variant(products, None, decoy, decoy_id, {"variant": decoy_id}))
        orders[oid] = {
            "order_id": oid, "user_id": uid, "status": status.get(oid, "delivered"),
            "address": dict(user["address"]), "items": items,
            "payment_history": [{"transaction_type": "payment", "amount": round(sum(i["price"] for i in items), 2),
                                 "payment_method_id": _original_method(user, oid, actions)}],
        }
    user["orders"] = order_ids
    db["orders"], db["products"] = orders, products


def _rotated(key: str) -> list[str]:
    start = int(digits(key, 6)) % len(PRODUCT_NAMES)
    return list(PRODUCT_NAMES[start:] + PRODUCT_NAMES[:start])


def _item_names(profile: Profile, actions: list[dict], instruction: str) -> dict[tuple[str, str], str]:
    """A product name for every (order, item) the actions touch: the instruction's, else the catalogue
    names the instruction mentions (in the order it mentions them), else a hashed pick."""
    low = instruction.lower().replace("-", "")
    mentioned = sorted((low.find(n.lower().replace("-", "")), n) for n in PRODUCT_NAMES
                       if n.lower().replace("-", "") in low)
    spare = [n for _, n in mentioned]
    names = {}
    for action in actions:
        oid = action["kwargs"].get("order_id")
        for item in action["kwargs"].get("item_ids", []):
            if (oid, item) in names:
                continue
            facts = profile.items.get((oid, item))
            names[(oid, item)] = facts.name if facts else (spare.pop(0) if spare else _rotated(item)[0])
    return names


def _product_ids(names: dict[tuple[str, str], str], actions: list[dict]) -> dict[str, str]:
    """The product ids the ground truth looks up (`get_product_details`), given in order to the products whose
    items it replaces; other products get hashed ids."""
    looked_up = list(dict.fromkeys(a["kwargs"]["product_id"] for a in actions if a["name"] == "get_product_details"))
    changed = list(dict.fromkeys(names[(a["kwargs"]["order_id"], item)] for a in actions
                                 if "new_item_ids" in a["kwargs"] for item in a["kwargs"]["item_ids"]))
    return dict(zip(changed, looked_up))


def _variant(products: dict, pid: str | None, name: str, item_id: str, options: dict) -> dict:
    """Add a variant to product `pid` (hashed from `name` when None; created on first use); returns the order
    line."""
    pid = pid or digits(f"product:{name}", 10)
    product = products.setdefault(pid, {"product_id": pid, "name": name, "variants": {}})
    variant = product["variants"].setdefault(item_id, {"item_id": item_id, "options": options, "available": True,
                                                       "price": price(item_id)})
    return {"name": name, "product_id": pid, "item_id": item_id, "options": variant["options"],
            "price": variant["price"]}


def _original_method(user: dict, oid: str, actions: list[dict]) -> str:
    """The method the order was paid with: its return's refund method (unless a gift card), else a method
    no write moves the order to."""
    for action in actions:
        kw = action["kwargs"]
        if action["name"] == "return_delivered_order_items" and kw["order_id"] == oid \
                and not kw["payment_method_id"].startswith("gift_card"):
            return kw["payment_method_id"]
    targets = {a["kwargs"]["payment_method_id"] for a in actions
               if a["name"] == "modify_pending_order_payment" and a["kwargs"]["order_id"] == oid}
    methods = user["payment_methods"]
    choice = next((m for m in methods if m not in targets and not m.startswith("gift_card")), None)
    if choice is None:
        choice = f"credit_card_{digits(user['user_id'] + ':card', 7)}"
        methods[choice] = _method(choice)
    return choice


def _airline(db: dict, user: dict, actions: list[dict], instruction: str) -> None:
    uid = user["user_id"]
    searched = {a["kwargs"]["date"]: (a["kwargs"]["origin"], a["kwargs"]["destination"])
                for a in actions if a["name"] == "search_direct_flight"}
    flights: dict[str, dict] = {}
    for action in actions:
        kw = action["kwargs"]
        trip = (kw.get("origin", "ORD"), kw.get("destination", "ATL"))
        for leg in kw.get("flights", []):
            origin, destination = searched.get(leg["date"], trip)
            flights.setdefault(flight_key(leg), _flight(leg, origin, destination))
    for date, (origin, destination) in searched.items():
        leg = {"flight_number": f"HAT{digits(f'{origin}{destination}{date}', 3)}", "date": date}
        flights.setdefault(flight_key(leg), _flight(leg, origin, destination))
    reservation_ids = list(dict.fromkeys([a["kwargs"]["reservation_id"] for a in actions
                                          if "reservation_id" in a["kwargs"]] + _RESERVATION.findall(instruction)))
    reservations = {}
    for rid in reservation_ids:
        updates = {a["name"]: a["kwargs"] for a in actions if a["kwargs"].get("reservation_id") == rid}
        legs = updates.get("update_reservation_flights", {}).get("flights") or [
            {"flight_number": f"HAT{digits(rid + ':leg', 3)}", "date": "2024-05-20"}]
        for leg in legs:
            flights.setdefault(flight_key(leg), _flight(leg, "ORD", "ATL"))
        wanted_cabin = updates.get("update_reservation_flights", {}).get("cabin")
        cabin = "business" if wanted_cabin in (None, "economy", "basic_economy") else "economy"
        size = len(updates.get("update_reservation_passengers", {}).get("passengers", [])) or 1
        passengers = [{"first_name": f"Guest{i + 1}", "last_name": user["name"]["last_name"], "dob": "1980-01-01"}
                      for i in range(size)]
        if "update_reservation_passengers" not in updates:
            passengers[0] = {**user["name"], "dob": "1980-01-01"}
        first = flights[flight_key(legs[0])]
        reservations[rid] = {
            "reservation_id": rid, "user_id": uid, "origin": first["origin"],
            "destination": flights[flight_key(legs[-1])]["destination"], "flight_type": "one_way",
            "cabin": cabin, "flights": [{**leg, "price": flights[flight_key(leg)]["prices"][cabin]} for leg in legs],
            "passengers": passengers, "total_baggages": 0, "nonfree_baggages": 0, "insurance": "no",
            "status": "active",
            "payment_history": [{"payment_id": _first_method(user), "amount": round(
                len(passengers) * sum(flights[flight_key(leg)]["prices"][cabin] for leg in legs), 2)}],
        }
    user["membership"] = "regular"
    user["reservations"] = reservation_ids
    db["reservations"], db["flights"] = reservations, flights


def flight_key(leg: dict) -> str:
    return f"{leg.get('flight_number')}/{leg.get('date')}"


def _flight(leg: dict, origin: str, destination: str) -> dict:
    key = flight_key(leg)
    prices = {"basic_economy": price(key + ":be", 50, 250), "economy": price(key + ":e", 100, 500),
              "business": price(key + ":b", 300, 1500)}
    return {"flight_number": leg["flight_number"], "date": leg["date"], "origin": origin,
            "destination": destination, "status": "available", "prices": prices}


def _first_method(user: dict) -> str:
    methods = user["payment_methods"]
    if not methods:
        pid = f"credit_card_{digits(user['user_id'] + ':card', 7)}"
        methods[pid] = _method(pid)
    return next(iter(methods))
