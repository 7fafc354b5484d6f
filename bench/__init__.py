"""Benchmarks, run as ``python -m bench NAME`` (results in bench/results/NAME.json, git-ignored)."""
