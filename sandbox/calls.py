"""Simulated inbound calls: who held the tracking number when it rang.

A call to a number live for a visit at that time is attributed to the visit: its
views up to the call are the call path, its first view gives source, keyword and
referer. A call to a pool number no visit held then is an expired redirect: it
goes to the phone the number last stood for (null if it never served).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sandbox.numbers import Pool
from sandbox.store import Row, Store

# Data API trigger_type "1": a normal call.
TRIGGER_NORMAL = "1"


def record_call(
    store: Store,
    pools: Iterable[Pool],
    number: str,
    at: float,
    *,
    code: str | None = None,
    caller: str | None = None,
) -> Row | None:
    """Record a call to `number` (digits) at `at`; None when no pool has that number."""
    pool = next((p for p in pools if p.owns(number)), None)
    if pool is None:
        return None
    held = [r for r in store.held(number, at, pool.domain) if code is None or r["code"] == code]
    row = _attributed(store, held[0], at) if held else _redirect(store, number, at)
    row.update(domain=pool.domain, at=at, caller=caller, tracking_number=number)
    call_id = store.insert("calls", row)
    store.commit()
    return store.get("calls", call_id)


def _attributed(store: Store, assignment: Row, at: float) -> dict[str, Any]:
    visit = store.get("visits", assignment["visit_id"])
    path = store.visit_path(assignment["visit_id"], at)
    return _call(
        code=assignment["code"],
        phone=assignment["phone"],
        visit_id=assignment["visit_id"],
        assignment_id=assignment["id"],
        url=assignment["url"] or (path[-1]["url"] if path else None),
        referer=visit["referer"] if visit else None,
        source=visit["source"] if visit else None,
        keyword=visit["keyword"] if visit else None,
        call_path="\n".join(view["url"] for view in path),
        expired_redirect=False,
        client_data=assignment["client_data"],
    )


def _redirect(store: Store, number: str, at: float) -> dict[str, Any]:
    last = store.last_held(number, at)
    return _call(phone=last["phone"] if last else None, expired_redirect=True)


def _call(**fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "code": None, "phone": None, "visit_id": None, "assignment_id": None, "url": None,
        "referer": None, "source": None, "keyword": None, "call_path": "",
        "client_data": None, "trigger_type": TRIGGER_NORMAL, "status": "success",
        "duration": 0, "revenue": 0,
    }  # fmt: skip
    row.update(fields)
    return row
