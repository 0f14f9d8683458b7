"""The tools of bao's TauGym proxy, run on the per-task database (`tau_db`).

Each tool is a function `(db, **arguments) -> str`. Reads return JSON records; writes check their arguments
against the database and change it in place, or return a message starting with "Error:" and change nothing
(τ-bench's convention). The rules are bao's own reading of τ-bench's policy, kept to what the database can check:
- retail: cancel and modify only `pending` orders; an order's items are modified once (its status becomes
  `pending (item modified)`, after which no other modification is allowed, so a task that changes an order's
  address or payment and its items must do them in that order, as in τ-bench); return and exchange only
  `delivered` orders, once each; replaced items must be available variants of the same product; refunds of a
  return go to the original method or a gift card; payment methods must be the customer's;
- airline: updates and cancellation need an active reservation; flights must exist; the passenger count of
  a reservation cannot change; booked reservations get ids `NEW001`, `NEW002`... in booking order;
- `transfer_to_human_agents` ends the episode (the env does that); `calculate` evaluates arithmetic safely.
Writes that commute in τ-bench commute here: each touches only its own order or reservation, and lists
that record a request (returned or exchanged items) are stored sorted.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import Any

from bao.envs.arithmetic import RuleError, parse_rule
from bao.envs.tau_db import CABINS, flight_key
from bao.envs.tau_tasks import tool_catalogue

_TYPES = {"string": str, "array": list, "object": dict, "integer": int, "number": (int, float)}
ADDRESS_FIELDS = ("address1", "address2", "city", "state", "country", "zip")


class ToolError(Exception):
    """A call the database refuses; its message is what the agent reads (after "Error: ")."""


def tools_of(domain: str) -> list[dict]:
    """The schemas of a domain's tools, in catalogue order."""
    catalogue = tool_catalogue()
    return [catalogue["schemas"][name] for name in catalogue["domains"][domain]]


def run_tool(db: dict, name: str, arguments: Any) -> str:
    """Run one tool call; unknown tools, bad arguments and refused writes give an "Error: ..." reply."""
    if name not in tool_catalogue()["domains"][db["domain"]]:
        return f"Error: unknown tool '{name}'. Search 'tools' for the available tools."
    if not isinstance(arguments, dict):
        return "Error: the arguments must be a JSON object."
    try:
        _check(tool_catalogue()["schemas"][name], arguments)
        return _TOOLS[name](db, **arguments)
    except ToolError as exc:
        return f"Error: {exc}"


def _check(schema: dict, arguments: dict) -> None:
    params = schema["parameters"]
    missing = [p for p in params["required"] if p not in arguments]
    unknown = [p for p in arguments if p not in params["properties"]]
    if missing or unknown:
        raise ToolError(f"{schema['name']} takes {', '.join(params['properties']) or 'no arguments'}"
                        + (f"; missing {', '.join(missing)}" if missing else "")
                        + (f"; unknown {', '.join(unknown)}" if unknown else ""))
    for key, value in arguments.items():
        wanted = _TYPES[params["properties"][key]["type"]]
        if not isinstance(value, wanted) or (wanted is int and isinstance(value, bool)):
            raise ToolError(f"argument '{key}' must be of type {params['properties'][key]['type']}")
        choices = params["properties"][key].get("enum")
        if choices and value not in choices:
            raise ToolError(f"argument '{key}' must be one of {', '.join(choices)}")


def _show(record: Any) -> str:
    return json.dumps(record, ensure_ascii=False)


def _user(db: dict, user_id: str) -> dict:
    if user_id not in db["users"]:
        raise ToolError("user not found")
    return db["users"][user_id]


def _method(db: dict, user_id: str, payment_id: str) -> None:
    if payment_id not in _user(db, user_id)["payment_methods"]:
        raise ToolError(f"payment method {payment_id} not found")


# ---- shared reads ----
def find_user_id_by_email(db: dict, email: str) -> str:
    for uid, user in db["users"].items():
        if user["email"].lower() == email.strip().lower():
            return uid
    raise ToolError("user not found")


def find_user_id_by_name_zip(db: dict, first_name: str, last_name: str, zip: str) -> str:  # noqa: A002
    for uid, user in db["users"].items():
        name = user["name"]
        if (name["first_name"].lower(), name["last_name"].lower(), user["address"]["zip"]) == (
                first_name.strip().lower(), last_name.strip().lower(), zip.strip()):
            return uid
    raise ToolError("user not found")


def get_user_details(db: dict, user_id: str) -> str:
    return _show(_user(db, user_id))


def calculate(db: dict, expression: str) -> str:
    try:
        value = parse_rule(expression)(0, 0, 0, 0)
        if isinstance(value, complex):
            raise ValueError
        return str(round(float(value), 2))
    except (RuleError, ArithmeticError, ValueError, TypeError):
        raise ToolError("invalid expression: use numbers, + - * / and parentheses") from None


def transfer_to_human_agents(db: dict, summary: str) -> str:
    return "Transfer successful"


# ---- retail ----
def _order(db: dict, order_id: str, status: str | None = None) -> dict:
    if order_id not in db["orders"]:
        raise ToolError("order not found")
    order = db["orders"][order_id]
    if status and order["status"] != status:
        raise ToolError(f"the order is {order['status']}, not {status}")
    return order


def _payment(order: dict) -> str:
    return order["payment_history"][-1]["payment_method_id"]


def _items_in(order: dict, item_ids: list[str]) -> None:
    have = Counter(i["item_id"] for i in order["items"])
    if not item_ids:
        raise ToolError("no item ids given")
    if Counter(item_ids) - have:
        raise ToolError("some item ids are not items of the order (or are given too often)")


def _new_variants(db: dict, order: dict, item_ids: list[str], new_item_ids: list[str]) -> list[dict]:
    """The variants the items become; each must be an available variant of the same product."""
    if len(item_ids) != len(new_item_ids):
        raise ToolError("item_ids and new_item_ids must have the same length")
    product_of = {i["item_id"]: i["product_id"] for i in order["items"]}
    found = []
    for old, new in zip(item_ids, new_item_ids):
        variant = db["products"][product_of[old]]["variants"].get(new)
        if variant is None or not variant["available"]:
            raise ToolError(f"new item {new} is not an available variant of the product of item {old}")
        found.append(variant)
    return found


def _swap(db: dict, order_id: str, status: str, item_ids: list, new_item_ids: list,
          payment_method_id: str) -> tuple[dict, list[dict]]:
    """The checks of a modification or an exchange: the order, its items, the new variants, the payer."""
    order = _order(db, order_id, status)
    _items_in(order, item_ids)
    variants = _new_variants(db, order, item_ids, new_item_ids)
    _method(db, order["user_id"], payment_method_id)
    return order, variants


def get_order_details(db: dict, order_id: str) -> str:
    return _show(_order(db, order_id))


def get_product_details(db: dict, product_id: str) -> str:
    if product_id not in db["products"]:
        raise ToolError("product not found")
    return _show(db["products"][product_id])


def list_all_product_types(db: dict) -> str:
    return _show(dict(sorted((p["name"], pid) for pid, p in db["products"].items())))


def cancel_pending_order(db: dict, order_id: str, reason: str) -> str:
    order = _order(db, order_id, "pending")
    paid = sum(p["amount"] for p in order["payment_history"] if p["transaction_type"] == "payment")
    order["payment_history"].append({"transaction_type": "refund", "amount": round(paid, 2),
                                     "payment_method_id": _payment(order)})
    order["status"], order["cancel_reason"] = "cancelled", reason
    return _show(order)


def modify_pending_order_address(db: dict, order_id: str, **address: str) -> str:
    order = _order(db, order_id, "pending")
    order["address"] = {k: address[k] for k in ADDRESS_FIELDS}
    return _show(order)


def modify_pending_order_payment(db: dict, order_id: str, payment_method_id: str) -> str:
    order = _order(db, order_id, "pending")
    _method(db, order["user_id"], payment_method_id)
    old = _payment(order)
    if payment_method_id == old:
        raise ToolError("the new payment method must differ from the current one")
    total = round(sum(i["price"] for i in order["items"]), 2)
    order["payment_history"] += [{"transaction_type": "payment", "amount": total,
                                  "payment_method_id": payment_method_id},
                                 {"transaction_type": "refund", "amount": total, "payment_method_id": old}]
    return _show(order)


def modify_pending_order_items(db: dict, order_id: str, item_ids: list, new_item_ids: list,
                               payment_method_id: str) -> str:
    order, variants = _swap(db, order_id, "pending", item_ids, new_item_ids, payment_method_id)
    difference = 0.0
    for old, variant in zip(item_ids, variants):
        line = next(i for i in order["items"] if i["item_id"] == old)
        difference += variant["price"] - line["price"]
        line.update(item_id=variant["item_id"], options=variant["options"], price=variant["price"])
    order["payment_history"].append({"transaction_type": "payment" if difference >= 0 else "refund",
                                     "amount": round(abs(difference), 2), "payment_method_id": payment_method_id})
    order["status"] = "pending (item modified)"
    return _show(order)


def return_delivered_order_items(db: dict, order_id: str, item_ids: list, payment_method_id: str) -> str:
    order = _order(db, order_id, "delivered")
    _items_in(order, item_ids)
    _method(db, order["user_id"], payment_method_id)
    if payment_method_id != order["payment_history"][0]["payment_method_id"] \
            and not payment_method_id.startswith("gift_card"):
        raise ToolError("refunds go to the original payment method or a gift card")
    order.update(status="return requested", return_items=sorted(item_ids),
                 return_payment_method_id=payment_method_id)
    return _show(order)


def exchange_delivered_order_items(db: dict, order_id: str, item_ids: list, new_item_ids: list,
                                   payment_method_id: str) -> str:
    order, variants = _swap(db, order_id, "delivered", item_ids, new_item_ids, payment_method_id)
    pairs = sorted(zip(item_ids, (v["item_id"] for v in variants)))
    order.update(status="exchange requested", exchange_items=[old for old, _ in pairs],
                 exchange_new_items=[new for _, new in pairs], exchange_payment_method_id=payment_method_id)
    return _show(order)


def modify_user_address(db: dict, user_id: str, **address: str) -> str:
    user = _user(db, user_id)
    user["address"] = {k: address[k] for k in ADDRESS_FIELDS}
    return _show(user)


# ---- airline ----
def _reservation(db: dict, reservation_id: str) -> dict:
    if reservation_id not in db["reservations"]:
        raise ToolError("reservation not found")
    reservation = db["reservations"][reservation_id]
    if reservation["status"] != "active":
        raise ToolError(f"the reservation is {reservation['status']}")
    return reservation


def _legs(db: dict, flights: list, cabin: str) -> list[dict]:
    if not flights:
        raise ToolError("no flights given")
    legs = []
    for leg in flights:
        if not isinstance(leg, dict) or flight_key(leg) not in db["flights"]:
            raise ToolError(f"flight {leg} not found")
        legs.append({"flight_number": leg["flight_number"], "date": leg["date"],
                     "price": db["flights"][flight_key(leg)]["prices"][cabin]})
    return legs


def _passengers(passengers: list) -> list[dict]:
    wanted = ("first_name", "last_name", "dob")
    if not passengers or not all(isinstance(p, dict) and set(p) >= set(wanted) for p in passengers):
        raise ToolError("each passenger needs first_name, last_name and dob")
    return [{k: p[k] for k in wanted} for p in passengers]


def get_reservation_details(db: dict, reservation_id: str) -> str:
    if reservation_id not in db["reservations"]:
        raise ToolError("reservation not found")
    return _show(db["reservations"][reservation_id])


def search_direct_flight(db: dict, origin: str, destination: str, date: str) -> str:
    return _show([f for f in db["flights"].values()
                  if (f["origin"], f["destination"], f["date"]) == (origin, destination, date)])


def book_reservation(db: dict, user_id: str, origin: str, destination: str, flight_type: str, cabin: str,
                     flights: list, passengers: list, payment_methods: list, total_baggages: int,
                     nonfree_baggages: int, insurance: str) -> str:
    user = _user(db, user_id)
    legs = _legs(db, flights, cabin)
    for payment in payment_methods:
        if not isinstance(payment, dict) or "payment_id" not in payment or "amount" not in payment:
            raise ToolError("each payment needs payment_id and amount")
        _method(db, user_id, payment["payment_id"])
    rid = f"NEW{len([r for r in db['reservations'] if r.startswith('NEW')]) + 1:03d}"
    db["reservations"][rid] = {
        "reservation_id": rid, "user_id": user_id, "origin": origin, "destination": destination,
        "flight_type": flight_type, "cabin": cabin, "flights": legs, "passengers": _passengers(passengers),
        "total_baggages": total_baggages, "nonfree_baggages": nonfree_baggages, "insurance": insurance,
        "status": "active", "payment_history": [{"payment_id": p["payment_id"], "amount": p["amount"]}
                                                for p in payment_methods]}
    user["reservations"].append(rid)
    return _show(db["reservations"][rid])


def cancel_reservation(db: dict, reservation_id: str) -> str:
    reservation = _reservation(db, reservation_id)
    reservation["payment_history"] += [{"payment_id": p["payment_id"], "amount": -p["amount"]}
                                       for p in list(reservation["payment_history"])]
    reservation["status"] = "cancelled"
    return _show(reservation)


def update_reservation_flights(db: dict, reservation_id: str, cabin: str, flights: list, payment_id: str) -> str:
    reservation = _reservation(db, reservation_id)
    _method(db, reservation["user_id"], payment_id)
    if cabin not in CABINS:
        raise ToolError(f"cabin must be one of {', '.join(CABINS)}")
    legs = _legs(db, flights, cabin)
    difference = len(reservation["passengers"]) * (sum(leg["price"] for leg in legs)
                                                    - sum(leg["price"] for leg in reservation["flights"]))
    reservation.update(cabin=cabin, flights=legs)
    reservation["payment_history"].append({"payment_id": payment_id, "amount": round(difference, 2)})
    return _show(reservation)


def update_reservation_baggages(db: dict, reservation_id: str, total_baggages: int, nonfree_baggages: int,
                                payment_id: str) -> str:
    reservation = _reservation(db, reservation_id)
    _method(db, reservation["user_id"], payment_id)
    if not 0 <= nonfree_baggages <= total_baggages:
        raise ToolError("need 0 <= nonfree_baggages <= total_baggages")
    extra = 50 * (nonfree_baggages - reservation["nonfree_baggages"])
    reservation.update(total_baggages=total_baggages, nonfree_baggages=nonfree_baggages)
    if extra:
        reservation["payment_history"].append({"payment_id": payment_id, "amount": extra})
    return _show(reservation)


def update_reservation_passengers(db: dict, reservation_id: str, passengers: list) -> str:
    reservation = _reservation(db, reservation_id)
    new = _passengers(passengers)
    if len(new) != len(reservation["passengers"]):
        raise ToolError("the number of passengers cannot change")
    reservation["passengers"] = new
    return _show(reservation)


def send_certificate(db: dict, user_id: str, amount: int | float) -> str:
    user = _user(db, user_id)
    if amount <= 0:
        raise ToolError("the amount must be positive")
    pid = f"certificate_sent_{sum(m.startswith('certificate_sent') for m in user['payment_methods']) + 1}"
    user["payment_methods"][pid] = {"id": pid, "source": "certificate", "amount": amount}
    return f"Certificate {pid} of {amount} dollars added to user {user_id}."


_TOOLS: dict[str, Callable[..., str]] = {name: globals()[name] for name in tool_catalogue()["schemas"]}
