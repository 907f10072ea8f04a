"""One small handler per webhook type; importing this package registers them all."""

from portal.webhooks.handlers import (  # noqa: F401
    customers,
    invoices,
    payments,
    stripe_cards,
    subscriptions,
    usage_alerts,
    usage_events,
    wallets,
)
