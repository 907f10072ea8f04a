"""A bench worker: the real dispatcher and processing shell, with a counting registry.

It runs like `python -m jobs.worker` on the webhooks queue (the dispatcher in a child process,
a worker beside it) until stopped, but the registry only counts each dispatch per (source,
unique key) in Redis, so the run measures the inbox, the dispatcher and RQ, and duplicates
processed can be counted.
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
    from jobs.worker import start_dispatcher
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
    dispatcher = start_dispatcher()
    try:
        SimpleWorker([webhooks], connection=connection).work(logging_level="WARNING")
    finally:
        dispatcher.terminate()
        dispatcher.join(5)


if __name__ == "__main__":
    main()
