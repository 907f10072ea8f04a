"""SQLite-backed state: one JSON document per Stripe object, plus idempotent replies."""

from __future__ import annotations

import json
from collections.abc import Callable

from ..common.store import Doc, SQLiteStore
from ..common.store import dump_json as _dump

SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    seq INTEGER NOT NULL,
    created INTEGER NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS objects_kind_order ON objects (kind, created, seq);
CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT PRIMARY KEY,
    created INTEGER NOT NULL,
    data TEXT NOT NULL
);
"""

SEQ = "_seq"


class Store(SQLiteStore):
    """Thread-safe document store; documents carry `id`, `created` and private `_` fields."""

    SCHEMA = SCHEMA

    def __init__(self, path: str = ":memory:") -> None:
        super().__init__(path)
        self._seq = self._max_seq()

    def _max_seq(self) -> int:
        row = self._conn.execute("SELECT MAX(seq) FROM objects").fetchone()
        return int(row[0] or 0)

    def insert(self, kind: str, doc: Doc) -> Doc:
        """Store a new document (it must have `id` and `created`)."""
        with self._lock:
            self._seq += 1
            doc = dict(doc, **{SEQ: self._seq})
            self._conn.execute(
                "INSERT INTO objects (id, kind, seq, created, data) VALUES (?, ?, ?, ?, ?)",
                (doc["id"], kind, self._seq, int(doc["created"]), _dump(doc)),
            )
        return doc

    def save(self, doc: Doc) -> Doc:
        """Replace a stored document."""
        with self._lock:
            cursor = self._conn.execute(
                "UPDATE objects SET data = ? WHERE id = ?", (_dump(doc), doc["id"])
            )
        if cursor.rowcount != 1:
            raise KeyError(f"{doc['id']} does not exist")
        return doc

    def get(self, object_id: str, kind: str | None = None) -> Doc | None:
        """The document with this id (of this kind, when given), or None."""
        with self._lock:
            row = self._conn.execute(
                "SELECT kind, data FROM objects WHERE id = ?", (object_id,)
            ).fetchone()
        if row is None or (kind is not None and row[0] != kind):
            return None
        return json.loads(row[1])

    def all(self, kind: str, where: Callable[[Doc], bool] | None = None) -> list[Doc]:
        """Documents of a kind, newest first (Stripe's list order)."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT data FROM objects WHERE kind = ? ORDER BY created DESC, seq DESC", (kind,)
            ).fetchall()
        docs = [json.loads(row[0]) for row in rows]
        return [d for d in docs if where(d)] if where else docs

    def count(self, kind: str) -> int:
        """How many documents of a kind exist."""
        with self._lock:
            row = self._conn.execute("SELECT COUNT(*) FROM objects WHERE kind = ?", (kind,))
            return int(row.fetchone()[0])

    def delete(self, object_id: str) -> None:
        """Remove a document for good."""
        with self._lock:
            self._conn.execute("DELETE FROM objects WHERE id = ?", (object_id,))

    def idempotent(self, key: str) -> Doc | None:
        """The saved reply for an idempotency key, or None."""
        with self._lock:
            row = self._conn.execute(
                "SELECT data FROM idempotency WHERE key = ?", (key,)
            ).fetchone()
        return json.loads(row[0]) if row else None

    def save_idempotent(self, key: str, created: int, reply: Doc) -> None:
        """Remember the reply to an idempotent request."""
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO idempotency (key, created, data) VALUES (?, ?, ?)",
                (key, created, _dump(reply)),
            )

    def forget_idempotent_before(self, created: int) -> None:
        """Drop saved replies older than a Unix time."""
        with self._lock:
            self._conn.execute("DELETE FROM idempotency WHERE created < ?", (created,))

    def reset(self) -> None:
        """Forget every object and saved reply."""
        with self.transaction():
            self._conn.execute("DELETE FROM objects")
            self._conn.execute("DELETE FROM idempotency")


def order_key(doc: Doc) -> tuple[int, int]:
    """Where a document sits in list order (larger = newer)."""
    return int(doc["created"]), int(doc.get(SEQ, 0))
