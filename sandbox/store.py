"""The sandbox's memory: one SQLite database behind one small class.

Tables hold what Optico would know: visits, their views, the tracking numbers
assigned to them, clicks and calls, and on the Freespee side sessions, their
numbers and views. Times are UTC epoch seconds. An assignment is live at `t`
when `assigned_at <= t < expires_at`; releasing one sets `expires_at` to now, so
every question about who held a number at some time is one range query.

File databases run in WAL mode with `synchronous=NORMAL`: a commit writes the
log without waiting for the disk, which keeps a page view to a few tens of
microseconds; a crash may lose the last transactions, never the file.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any

# table -> columns besides the integer `id`; the control endpoints can filter on any of them.
TABLES: dict[str, tuple[str, ...]] = {
    "visits": (
        "domain", "started_at", "last_view_at", "ip", "user_agent", "is_mobile",
        "unique_visitor_id", "landing_url", "referer_url", "referer", "source", "keyword",
    ),
    "views": (
        "visit_id", "domain", "at", "url", "page_title", "referer_url", "ip", "user_agent",
        "is_mobile", "unique_visitor_id", "unique_view_id", "direct_display", "nr_phones",
        "phones", "source", "keyword",
    ),
    "assignments": (
        "domain", "type_id", "slot", "number", "code", "visit_id", "view_id", "origin",
        "phone", "phone_key", "url", "client_data", "assigned_at", "expires_at",
    ),
    "clicks": (
        "domain", "at", "view_id", "visit_id", "phone", "type_id", "assignment_id", "number",
        "code", "user_agent", "client_data",
    ),
    "calls": (
        "domain", "at", "caller", "tracking_number", "code", "phone", "visit_id",
        "assignment_id", "url", "referer", "source", "keyword", "call_path",
        "expired_redirect", "client_data", "trigger_type", "status", "duration", "revenue",
    ),
    "fs_sessions": ("session_id", "adv_id", "tracking_id", "created_at", "last_seen_at"),
    "fs_assignments": (
        "adv_id", "session_id", "number_on_page", "slot", "e164", "assigned_at", "expires_at",
    ),
    "fs_views": (
        "adv_id", "session_id", "at", "tracking_id", "type", "full_url", "full_referrer",
        "user_agent", "ip", "parameters", "numbers",
    ),
}  # fmt: skip

# Only what the request path looks up; every index slows each insert.
INDEXES = (
    "CREATE INDEX IF NOT EXISTS views_visit ON views(visit_id)",
    "CREATE INDEX IF NOT EXISTS assignments_visit ON assignments(visit_id)",
    "CREATE INDEX IF NOT EXISTS assignments_number ON assignments(number)",
    "CREATE UNIQUE INDEX IF NOT EXISTS fs_sessions_id ON fs_sessions(session_id)",
    "CREATE INDEX IF NOT EXISTS fs_assignments_session ON fs_assignments(session_id)",
)

_INSERTS = {
    table: f"INSERT INTO {table}({', '.join(cols)}) VALUES ({', '.join(':' + c for c in cols)})"
    for table, cols in TABLES.items()
}

Row = sqlite3.Row


class Store:
    def __init__(self, path: str = ":memory:") -> None:
        self.path = path
        self._db = sqlite3.connect(path)
        self._db.row_factory = sqlite3.Row
        if path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._create()

    def _create(self) -> None:
        for table, cols in TABLES.items():
            self._db.execute(
                f"CREATE TABLE IF NOT EXISTS {table}(id INTEGER PRIMARY KEY, {', '.join(cols)})"
            )
        for statement in INDEXES:
            self._db.execute(statement)
        self._db.execute("CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT)")
        self._db.commit()

    def commit(self) -> None:
        self._db.commit()

    def close(self) -> None:
        self._db.commit()
        self._db.close()

    def clear(self) -> None:
        """Forget every visit, view, number and call; ids start again from 1."""
        for table in TABLES:
            self._db.execute(f"DELETE FROM {table}")
        self._db.commit()

    # --- generic ---------------------------------------------------------------

    def insert(self, table: str, row: Mapping[str, Any]) -> int:
        cursor = self._db.execute(_INSERTS[table], row)
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def get(self, table: str, row_id: int) -> Row | None:
        row: Row | None = self._db.execute(
            f"SELECT * FROM {table} WHERE id = ?", (row_id,)
        ).fetchone()
        return row

    def rows(self, table: str, where: Mapping[str, Any], limit: int | None = None) -> list[Row]:
        """Rows of a table, oldest first, with column = value filters (columns of TABLES only)."""
        columns = [c for c in where if c in TABLES[table] or c == "id"]
        sql = f"SELECT * FROM {table}"
        if columns:
            sql += " WHERE " + " AND ".join(f"{c} = ?" for c in columns)
        sql += " ORDER BY id"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return self._db.execute(sql, [where[c] for c in columns]).fetchall()

    def last_id(self, table: str) -> int:
        row = self._db.execute(f"SELECT MAX(id) FROM {table}").fetchone()
        return int(row[0] or 0)

    def meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))
        self._db.commit()

    # --- visits and views ------------------------------------------------------

    def live_visit(self, domain: str, visit_id: int, since: float) -> bool:
        """Whether the visit exists for this domain and had a view after `since`."""
        row = self._db.execute(
            "SELECT 1 FROM visits WHERE id = ? AND domain = ? AND last_view_at > ?",
            (visit_id, domain, since),
        ).fetchone()
        return row is not None

    def touch_visit(self, visit_id: int, at: float) -> None:
        self._db.execute("UPDATE visits SET last_view_at = ? WHERE id = ?", (at, visit_id))

    def view(self, domain: str, view_id: int) -> Row | None:
        row: Row | None = self._db.execute(
            "SELECT * FROM views WHERE id = ? AND domain = ?", (view_id, domain)
        ).fetchone()
        return row

    def visit_path(self, visit_id: int, until: float) -> list[Row]:
        """The views of a visit up to a time, in the order they were made."""
        return self._db.execute(
            "SELECT * FROM views WHERE visit_id = ? AND at <= ? ORDER BY id", (visit_id, until)
        ).fetchall()

    # --- assignments -------------------------------------------------------------

    def live_assignment(
        self, visit_id: int, phone_key: str, type_id: int, now: float
    ) -> Row | None:
        row: Row | None = self._db.execute(
            "SELECT * FROM assignments WHERE visit_id = ? AND phone_key = ? AND type_id = ?"
            " AND assigned_at <= ? AND expires_at > ? ORDER BY id DESC LIMIT 1",
            (visit_id, phone_key, type_id, now, now),
        ).fetchone()
        return row

    def held(self, number: str, at: float, domain: str | None = None) -> list[Row]:
        """Assignments of a number live at `at`, newest first."""
        sql = "SELECT * FROM assignments WHERE number = ? AND assigned_at <= ? AND expires_at > ?"
        args: list[Any] = [number, at, at]
        if domain is not None:
            sql += " AND domain = ?"
            args.append(domain)
        return self._db.execute(sql + " ORDER BY id DESC", args).fetchall()

    def last_held(self, number: str, at: float) -> Row | None:
        """The latest assignment of a number made at or before `at`, live or not."""
        row: Row | None = self._db.execute(
            "SELECT * FROM assignments WHERE number = ? AND assigned_at <= ?"
            " ORDER BY id DESC LIMIT 1",
            (number, at),
        ).fetchone()
        return row

    def set_expiry(self, table: str, ids: Iterable[int], until: float) -> None:
        self._db.executemany(
            f"UPDATE {table} SET expires_at = ? WHERE id = ?", [(until, i) for i in ids]
        )

    def pool_state(
        self, table: str, where: Mapping[str, Any], now: float
    ) -> tuple[int, list[tuple[int, float]]]:
        """Slots used so far (highest + 1) and the live (slot, expires_at) of one pool."""
        condition = " AND ".join(f"{c} = ?" for c in where if c in TABLES[table])
        args = [where[c] for c in where if c in TABLES[table]]
        used = self._db.execute(f"SELECT MAX(slot) FROM {table} WHERE {condition}", args)
        live = self._db.execute(
            f"SELECT slot, expires_at FROM {table} WHERE {condition}"
            " AND assigned_at <= ? AND expires_at > ?",
            [*args, now, now],
        )
        highest = used.fetchone()[0]
        return (-1 if highest is None else highest) + 1, [(r[0], r[1]) for r in live]

    # --- Freespee sessions ------------------------------------------------------

    def fs_session(self, adv_id: str, session_id: str, since: float) -> Row | None:
        row: Row | None = self._db.execute(
            "SELECT * FROM fs_sessions WHERE session_id = ? AND adv_id = ? AND last_seen_at > ?",
            (session_id, adv_id, since),
        ).fetchone()
        return row

    def touch_fs_session(self, session_id: str, at: float, until: float) -> None:
        """Note a request of the session and keep its numbers until `until`."""
        self._db.execute(
            "UPDATE fs_sessions SET last_seen_at = ? WHERE session_id = ?", (at, session_id)
        )
        self._db.execute(
            "UPDATE fs_assignments SET expires_at = ? WHERE session_id = ? AND expires_at > ?",
            (until, session_id, at),
        )

    def fs_numbers(self, session_id: str, now: float) -> list[Row]:
        return self._db.execute(
            "SELECT * FROM fs_assignments WHERE session_id = ? AND expires_at > ? ORDER BY id",
            (session_id, now),
        ).fetchall()
