"""Moves experiments through their steps (Waiting → Cloning → Building → Submitting → Running).

Handed the database and the engines; claims due experiments with guarded updates, runs a step
outside any session, then applies the result. May import: aichor.engines, aichor.db and below.
"""
