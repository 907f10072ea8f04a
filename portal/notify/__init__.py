"""Telling people about billing facts: in-app notices, and emails sent once each."""
