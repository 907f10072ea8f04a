"""Billing services with no routes: the Lago connection, the plan catalogue, customer sync."""
