"""Benchmarks: how much the server adds on top of the agent's own time.

Run with `python -m benchmarks.run`; see benchmarks/README.md.
"""
