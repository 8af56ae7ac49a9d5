"""The sandbox's state: settings, store, clock, both platforms and the faults, in one object.

Opening it validates the settings and checks that a database file was made
with the same pools, since stored assignments name pool slots.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import dataclass, field

from aiohttp import web

from sandbox.clock import Clock
from sandbox.faults import FaultInjector
from sandbox.freespee import FreespeePlatform
from sandbox.optico import OpticoPlatform
from sandbox.settings import SandboxConfigError, SandboxSettings, validate
from sandbox.store import Store

POOLS_META = "pools"
# Requests write in one transaction committed this long after the first write:
# one WAL append per batch instead of one per request (a commit costs more than
# the whole page view), and at most this much is lost if the process is killed.
COMMIT_DELAY = 0.02


@dataclass
class Sandbox:
    settings: SandboxSettings
    store: Store
    clock: Clock
    optico: OpticoPlatform
    freespee: FreespeePlatform
    injector: FaultInjector
    _commit_timer: asyncio.TimerHandle | None = field(default=None, repr=False)
    _closed: bool = field(default=False, repr=False)

    @classmethod
    def open(cls, settings: SandboxSettings, db: str, clock: Clock) -> Sandbox:
        validate(settings)
        store = Store(db)
        try:
            _check_pools(store, settings)
            optico = OpticoPlatform(settings, store, clock)
            freespee = FreespeePlatform(settings, store, clock)
        except BaseException:
            store.close()
            raise
        return cls(settings, store, clock, optico, freespee, FaultInjector(settings.seed))

    def written(self) -> None:
        """Note that a request wrote; its transaction is committed within COMMIT_DELAY."""
        if self._commit_timer is None and not self._closed:
            loop = asyncio.get_running_loop()
            self._commit_timer = loop.call_later(COMMIT_DELAY, self.commit)

    def commit(self) -> None:
        if self._commit_timer is not None:
            self._commit_timer.cancel()
            self._commit_timer = None
        self.store.commit()

    def close(self) -> None:
        self.commit()
        self._closed = True
        self.store.close()

    def restore(self) -> None:
        """Re-read which numbers are held, after the clock moved back or the state was cleared."""
        self.optico.restore()
        self.freespee.restore()

    def reset(self, *, state: bool) -> None:
        self.injector.reset()
        if state:
            self.store.clear()
            self.restore()


SANDBOX = web.AppKey("sandbox", Sandbox)


def _check_pools(store: Store, settings: SandboxSettings) -> None:
    """A database remembers slots of the pools it was made with; other pools would misread them."""
    fingerprint = _pools_fingerprint(settings)
    known = store.meta(POOLS_META)
    if known is None:
        store.set_meta(POOLS_META, fingerprint)
    elif known != fingerprint:
        raise SandboxConfigError(
            f"{store.path}: this database was made with other pool settings (seed, domains, "
            "pools or advertisers); start with another --db or delete the file"
        )


def _pools_fingerprint(settings: SandboxSettings) -> str:
    shape = {
        "seed": settings.seed,
        "domains": [
            [d.name, [[p.type_id, p.size, p.shared_code] for p in d.pools]]
            for d in settings.domains
        ],
        "advertisers": [[a.adv_id, a.prefix, a.digits, a.size] for a in settings.advertisers],
    }
    return hashlib.sha256(json.dumps(shape, sort_keys=True).encode()).hexdigest()[:16]
