"""Reconcile: the hub's view and the engine's, and every feature's records and the hub's users,
brought back into step, after every stop and at every start (see feature.py)."""
