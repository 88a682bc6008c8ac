"""Repeatable performance measurements of btcfolio against same-run baselines.

``python -m benchmarks [--quick]`` prints a table and writes ``benchmarks/results.json``.
One module per figure; ``dataset`` builds the stores they share. See docs/benchmarks.md.
"""
