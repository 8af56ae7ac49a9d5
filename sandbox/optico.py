"""The Optico platform behind the Call Tracking API: visits, views, and number assignment.

`OpticoPlatform` takes typed requests (see params.py) and returns the JSON body
to send; it knows nothing of HTTP. Its rules, where the document is silent:

- A visit is found by visitId on its own domain while it has had a view within
  the last 30 minutes; otherwise the view opens a new visit.
- A visit holds at most one live number per (phone, type). A later view or click
  for that phone gets the same number and pushes its expiry.
- A number (a number and code, in a shared pool) is live for one visit at a time:
  the allocator hands out only slots nobody holds.
- Expiration -1 is the domain default, 0 releases at once, N is N seconds from now.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from sandbox import errors, sources
from sandbox.allocator import Allocator
from sandbox.clock import Clock, format_time
from sandbox.errors import OK, WARNING, OspError, envelope
from sandbox.numbers import Pool, format_dotted, normalize
from sandbox.params import ClickParams, ClientData, ExpirationParams, PhoneRequest, ViewParams
from sandbox.settings import DomainSettings, SandboxSettings
from sandbox.store import TABLES, Store

PoolKey = tuple[str, int]


class Holder(NamedTuple):
    """Who a number is assigned to, and where it was shown."""

    visit_id: int
    view_id: int | None
    url: str | None
    client_data: str | None
    fresh: bool
    """A visit opened by this request, which holds no number yet."""


class Held(NamedTuple):
    assignment_id: int
    number: str
    code: str | None

    def shown(self) -> dict[str, str | None]:
        return {"surtaxPhoneNumber": format_dotted(self.number), "surtaxPhoneCode": self.code}


class OpticoPlatform:
    def __init__(self, settings: SandboxSettings, store: Store, clock: Clock) -> None:
        self._settings = settings
        self._store = store
        self._clock = clock
        self.pools = _build_pools(settings)
        self._allocators = {key: Allocator(pool.slots) for key, pool in self.pools.items()}
        self.restore()

    def restore(self) -> None:
        """Rebuild which numbers are held from the store, as of the clock's now."""
        now = self._clock()
        for (domain, type_id), allocator in self._allocators.items():
            where = {"domain": domain, "type_id": type_id}
            allocator.restore(*self._store.pool_state("assignments", where, now))

    def authenticate(self, api_key: str) -> DomainSettings:
        if not api_key.strip():
            raise errors.missing("api_key")
        domain = self._settings.domain_for_key(api_key)
        if domain is None:
            raise OspError(errors.AUTHENTICATION_ERROR, errors.MSG_API_KEY)
        return domain

    # --- the three endpoints ---------------------------------------------------

    def view(self, domain: DomainSettings, p: ViewParams, *, exhausted: bool) -> dict[str, Any]:
        now = self._clock()
        origin = sources.origin(p.url, p.referer_url)
        visit_id, fresh = self._visit(domain, p, origin, now)
        view_id = self._store.insert("views", _view_row(domain, p, visit_id, origin, now))
        holder = Holder(visit_id, view_id, p.url, None, fresh)
        until = _until(domain, p.expiration, now)
        numbers, short = self._assign_phones(domain, p, holder, until, exhausted)
        body: dict[str, Any] = {"visitId": visit_id, "viewId": view_id}
        if p.direct_display:
            body["surtaxPhones"] = numbers
        return _answer(body, p.client_data, short)

    def click(self, domain: DomainSettings, p: ClickParams, *, exhausted: bool) -> dict[str, Any]:
        now = self._clock()
        visit_id, url = self._click_visit(domain, p.view_id, now)
        until = _until(domain, p.expiration, now)
        fresh = p.view_id is None
        holder = Holder(visit_id, p.view_id, url, _entry(p.client_data, p.phone), fresh)
        held = self._assign(domain, p.phone, holder, until, exhausted, origin="click")
        self._store.insert("clicks", _click_row(domain, p, visit_id, held, now))
        body: dict[str, Any] = {"visitId": visit_id, "viewId": p.view_id}
        if held is not None:
            body["surtaxPhone"] = held.shown()
        return _answer(body, p.client_data, [] if held else [p.phone.type_id])

    def expiration(self, domain: DomainSettings, p: ExpirationParams) -> dict[str, Any]:
        now = self._clock()
        held = self._store.held(p.number, now, domain.name)
        if not held:
            message = errors.MSG_NOT_ASSIGNED.format(number=p.surtax_phone)
            return envelope(WARNING, message, surtaxPhone=p.surtax_phone)
        until = _until(domain, p.expiration, now)
        self._store.set_expiry("assignments", [row["id"] for row in held], until)
        for row in held:
            self._allocators[(domain.name, row["type_id"])].hold(row["slot"], until)
        return {"status": OK, "surtaxPhone": p.surtax_phone, "expiresAt": format_time(until)}

    # --- visits and numbers --------------------------------------------------------

    def _visit(
        self, domain: DomainSettings, p: ViewParams, origin: sources.Origin, now: float
    ) -> tuple[int, bool]:
        """The visit the view joins, and whether it is new."""
        since = now - self._settings.visit_timeout
        if p.visit_id and self._store.live_visit(domain.name, p.visit_id, since):
            self._store.touch_visit(p.visit_id, now)
            return p.visit_id, False
        row = {
            "domain": domain.name, "started_at": now, "last_view_at": now, "ip": p.ip,
            "user_agent": p.user_agent, "is_mobile": p.is_mobile,
            "unique_visitor_id": p.unique_visitor_id or None, "landing_url": p.url,
            "referer_url": p.referer_url, "referer": origin.referer, "source": origin.source,
            "keyword": origin.keyword,
        }  # fmt: skip
        return self._store.insert("visits", row), True

    def _click_visit(
        self, domain: DomainSettings, view_id: int | None, now: float
    ) -> tuple[int, str | None]:
        """The visit of the clicked view; a click without a view opens a visit of its own."""
        if view_id is None:
            row = dict.fromkeys(TABLES["visits"])
            row.update(domain=domain.name, started_at=now, last_view_at=now, source=sources.DIRECT)
            return self._store.insert("visits", row), None
        view = self._store.view(domain.name, view_id)
        if view is None:
            raise errors.invalid(errors.MSG_UNKNOWN_VIEW, view_id=view_id)
        return view["visit_id"], view["url"]

    def _assign_phones(
        self, domain: DomainSettings, p: ViewParams, holder: Holder, until: float, exhausted: bool
    ) -> tuple[dict[str, dict[str, str | None]], list[int]]:
        """surtaxPhones for the view's phones, and the types that had no number left."""
        numbers: dict[str, dict[str, str | None]] = {}
        short: list[int] = []
        # Two spellings of one phone in one request are one phone: one number.
        done: dict[tuple[str, int], Held | None] = {}
        for phone in p.phones:
            if (phone.key, phone.type_id) not in done:
                data = holder._replace(client_data=_entry(p.client_data, phone))
                done[phone.key, phone.type_id] = self._assign(domain, phone, data, until, exhausted)
            held = done[phone.key, phone.type_id]
            if held is None:
                short.append(phone.type_id)
            else:
                numbers[phone.phone] = held.shown()
        return numbers, short

    def _assign(
        self,
        domain: DomainSettings,
        phone: PhoneRequest,
        holder: Holder,
        until: float,
        exhausted: bool,
        origin: str = "view",
    ) -> Held | None:
        """The number the visit holds for this phone, extended, or a new one; None if none left."""
        now = self._clock()
        key = (domain.name, phone.type_id)
        row = None
        if not holder.fresh:
            row = self._store.live_assignment(holder.visit_id, phone.key, phone.type_id, now)
        if row is not None:
            self._store.set_expiry("assignments", [row["id"]], until)
            self._allocators[key].hold(row["slot"], until)
            return Held(row["id"], row["number"], row["code"])
        slot = None if exhausted else self._allocators[key].take(now)
        if slot is None:
            return None
        self._allocators[key].hold(slot, until)
        pool = self.pools[key]
        number, code = pool.number(slot), pool.code(slot)
        assignment_id = self._store.insert("assignments", {
            "domain": domain.name, "type_id": phone.type_id, "slot": slot, "number": number,
            "code": code, "visit_id": holder.visit_id, "view_id": holder.view_id,
            "origin": origin, "phone": phone.phone, "phone_key": phone.key, "url": holder.url,
            "client_data": holder.client_data, "assigned_at": now, "expires_at": until,
        })  # fmt: skip
        return Held(assignment_id, number, code)


def _build_pools(settings: SandboxSettings) -> dict[PoolKey, Pool]:
    """Every domain's pools; domains sharing a type take consecutive index ranges."""
    pools: dict[PoolKey, Pool] = {}
    offsets: dict[int, int] = {}
    for domain in settings.domains:
        for p in domain.pools:
            offset = offsets.get(p.type_id, 0)
            pools[(domain.name, p.type_id)] = Pool.build(
                domain.name, p.type_id, p.size, shared=p.shared_code, offset=offset,
                seed=settings.seed,
            )  # fmt: skip
            offsets[p.type_id] = offset + p.size
    return pools


def _until(domain: DomainSettings, expiration: int, now: float) -> float:
    return now + (domain.default_expiration if expiration == -1 else expiration)


def _answer(body: dict[str, Any], client_data: ClientData, short: list[int]) -> dict[str, Any]:
    if client_data is not None:
        body["clientData"] = client_data
    if short:
        return envelope(WARNING, errors.MSG_EXHAUSTED.format(type_id=short[0]), **body)
    return {"status": OK, **body}


def _entry(client_data: ClientData, phone: PhoneRequest) -> str | None:
    """The client_data that goes with one phone, as stored JSON."""
    if isinstance(client_data, dict):
        value = next((v for k, v in client_data.items() if normalize(k) == phone.key), None)
        return None if value is None else json.dumps(value)
    return None if client_data is None else json.dumps(client_data)


def _view_row(
    domain: DomainSettings, p: ViewParams, visit_id: int, origin: sources.Origin, now: float
) -> dict[str, Any]:
    return {
        "visit_id": visit_id, "domain": domain.name, "at": now, "url": p.url,
        "page_title": p.page_title, "referer_url": p.referer_url, "ip": p.ip,
        "user_agent": p.user_agent, "is_mobile": p.is_mobile,
        "unique_visitor_id": p.unique_visitor_id or None,
        "unique_view_id": p.unique_view_id or None, "direct_display": p.direct_display,
        "nr_phones": p.nr_phones, "phones": ",".join(f"{x.phone}:{x.type_id}" for x in p.phones),
        "source": origin.source, "keyword": origin.keyword,
    }  # fmt: skip


def _click_row(
    domain: DomainSettings, p: ClickParams, visit_id: int, held: Held | None, now: float
) -> dict[str, Any]:
    return {
        "domain": domain.name, "at": now, "view_id": p.view_id, "visit_id": visit_id,
        "phone": p.phone.phone, "type_id": p.phone.type_id,
        "assignment_id": held.assignment_id if held else None,
        "number": held.number if held else None, "code": held.code if held else None,
        "user_agent": p.user_agent or None,
        "client_data": None if p.client_data is None else json.dumps(p.client_data),
    }  # fmt: skip
