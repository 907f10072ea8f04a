"""A draining RQ worker for the benchmark: the real processing shell, a counting registry.

The registry only counts each dispatch per (source, unique key) in Redis, so the drain
measures the inbox's claim/record work and RQ, and duplicates processed can be counted.
"""

from __future__ import annotations

import sys
import types

from rq import SimpleWorker

DISPATCHED = "pier:bench:dispatched"


def counting_registry(connection) -> types.ModuleType:
    """A stand-in for portal.webhooks.registry that counts dispatches."""
    module = types.ModuleType("portal.webhooks.registry")

    def dispatch(event) -> str:
        connection.hincrby(DISPATCHED, f"{event.source.value}:{event.unique_key}", 1)
        return "processed"

    module.dispatch = dispatch
    module.handled_types = lambda source: {"customer.updated"}
    return module


def main() -> None:
    import portal.webhooks
    from jobs import runtime
    from portal import create_app
    from portal.extensions import redis_connection
    from portal.queues import queue

    app = create_app()
    runtime.use_app(app)
    with app.app_context():
        connection = redis_connection()
        webhooks = queue("webhooks")
    registry = counting_registry(connection)
    sys.modules["portal.webhooks.registry"] = registry
    portal.webhooks.registry = registry
    worker = SimpleWorker([webhooks], connection=connection)
    worker.work(burst=True, logging_level="WARNING")


if __name__ == "__main__":
    main()
