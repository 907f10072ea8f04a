"""SQLite-backed state: JSON documents grouped by kind, plus a few named settings."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from ..common.store import Doc, SQLiteStore
from ..common.store import dump_json as _dump
from .clock import Clock

SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    key TEXT,
    seq INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS records_kind_key ON records (kind, key);
CREATE INDEX IF NOT EXISTS records_kind_seq ON records (kind, seq);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, data TEXT NOT NULL);
"""

_LIVE = " AND deleted_at IS NULL"
_LIST = "SELECT data FROM records WHERE kind = ?{where} ORDER BY created_at {o}, seq {o}"
# (include_deleted, newest_first) -> query
LIST_QUERIES = {
    (False, True): _LIST.format(where=_LIVE, o="DESC"),
    (False, False): _LIST.format(where=_LIVE, o="ASC"),
    (True, True): _LIST.format(where="", o="DESC"),
    (True, False): _LIST.format(where="", o="ASC"),
}


def new_id() -> str:
    """A new UUID string, like Lago's primary keys."""
    return str(uuid.uuid4())


class Store(SQLiteStore):
    """Thread-safe document store; every resource kind (customer, plan, ...) shares one table."""

    SCHEMA = SCHEMA
    # A stand-in: losing the last commits on power loss is fine, an fsync per write is not.
    PRAGMAS = ("journal_mode=WAL", "synchronous=NORMAL")

    def __init__(self, path: str = ":memory:", clock: Clock | None = None) -> None:
        self.clock = clock or Clock()
        super().__init__(path)

    def next_value(self, name: str) -> int:
        """Increment and return the named counter (sequential ids start at 1)."""
        with self.transaction():
            row = self._one("SELECT value FROM counters WHERE name = ?", (name,))
            value = (row["value"] if row else 0) + 1
            self._execute(
                "INSERT INTO counters (name, value) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                (name, value),
            )
            return value

    def insert(self, kind: str, doc: Doc, *, key: str | None = None) -> Doc:
        """Store a new document (id, created_at and updated_at are filled in when absent)."""
        now = self.clock.now_iso()
        doc = dict(doc)
        doc.setdefault("id", new_id())
        doc.setdefault("created_at", now)
        doc.setdefault("updated_at", doc["created_at"])
        with self.transaction():
            seq = self.next_value("_seq")
            self._execute(
                "INSERT INTO records (id, kind, key, seq, created_at, updated_at, data) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (doc["id"], kind, key, seq, doc["created_at"], doc["updated_at"], _dump(doc)),
            )
        return doc

    def save(self, kind: str, doc: Doc, *, key: str | None = None, touch: bool = True) -> Doc:
        """Replace a stored document (updated_at is refreshed unless `touch` is false)."""
        doc = dict(doc)
        if touch:
            doc["updated_at"] = self.clock.now_iso()
        with self.transaction():
            cursor = self._execute(
                "UPDATE records SET key = ?, updated_at = ?, data = ? WHERE id = ? AND kind = ?",
                (key, doc["updated_at"], _dump(doc), doc["id"], kind),
            )
            if cursor.rowcount != 1:
                raise KeyError(f"{kind} {doc['id']} does not exist")
        return doc

    def get(self, kind: str, record_id: str, *, include_deleted: bool = False) -> Doc | None:
        """The document with this id, or None."""
        row = self._one(
            "SELECT data, deleted_at FROM records WHERE id = ? AND kind = ?", (record_id, kind)
        )
        if row is None or (row["deleted_at"] and not include_deleted):
            return None
        return json.loads(row["data"])

    def find(self, kind: str, key: str) -> Doc | None:
        """The live document of this kind with this key (external id, code, ...), or None."""
        row = self._one(
            "SELECT data FROM records WHERE kind = ? AND key = ? AND deleted_at IS NULL "
            "ORDER BY seq DESC LIMIT 1",
            (kind, key),
        )
        return json.loads(row["data"]) if row else None

    def all(
        self,
        kind: str,
        *,
        include_deleted: bool = False,
        where: Callable[[Doc], bool] | None = None,
        newest_first: bool = True,
    ) -> list[Doc]:
        """Documents of a kind, newest first by default (Lago lists order by created_at desc)."""
        sql = LIST_QUERIES[(include_deleted, newest_first)]
        docs = [json.loads(row["data"]) for row in self._rows(sql, (kind,))]
        return [d for d in docs if where(d)] if where else docs

    def count(self, kind: str) -> int:
        """How many live documents of a kind exist."""
        row = self._one(
            "SELECT COUNT(*) AS n FROM records WHERE kind = ? AND deleted_at IS NULL", (kind,)
        )
        return int(row["n"])

    def soft_delete(self, kind: str, doc: Doc) -> Doc:
        """Mark a document deleted (Lago discards most records rather than removing them)."""
        doc = dict(doc)
        doc["deleted_at"] = self.clock.now_iso()
        with self.transaction():
            self._execute(
                "UPDATE records SET deleted_at = ?, data = ? WHERE id = ? AND kind = ?",
                (doc["deleted_at"], _dump(doc), doc["id"], kind),
            )
        return doc

    def delete(self, kind: str, record_id: str) -> None:
        """Remove a document for good."""
        self._execute("DELETE FROM records WHERE id = ? AND kind = ?", (record_id, kind))

    def delete_where(self, kind: str, where: Callable[[Doc], bool]) -> int:
        """Remove every document of a kind matching `where`; returns how many."""
        doomed = [d["id"] for d in self.all(kind, include_deleted=True) if where(d)]
        with self.transaction():
            for record_id in doomed:
                self.delete(kind, record_id)
        return len(doomed)

    def setting(self, name: str) -> Any:
        """A named setting (JSON value), or None."""
        row = self._one("SELECT data FROM settings WHERE name = ?", (name,))
        return json.loads(row["data"]) if row else None

    def put_setting(self, name: str, value: Any) -> None:
        """Store a named setting."""
        self._execute(
            "INSERT INTO settings (name, data) VALUES (?, ?) "
            "ON CONFLICT(name) DO UPDATE SET data = excluded.data",
            (name, _dump(value)),
        )

    def reset(self) -> None:
        """Forget every record and counter (settings such as the organization stay)."""
        with self.transaction():
            self._execute("DELETE FROM records")
            self._execute("DELETE FROM counters")
