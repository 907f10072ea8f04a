"""Plumbing shared by the Lago and Stripe stand-ins: faults, store, delivery, control, CLI."""
