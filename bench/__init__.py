"""Benchmarks: each compares fcot against a baseline in the same run and reports ratios (not tests)."""
