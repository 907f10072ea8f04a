"""The Stripe stand-in fixtures come from tests/fixtures/stripe_standin.py (a root plugin)."""
