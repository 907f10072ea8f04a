"""RQ entry points: thin functions that take ids, run in the app context, safe to rerun."""
