"""Parley benchmarks: `make bench` (= `python -m bench`), or one of them by name
(`python -m bench chat`, `python -m bench sizes`). See docs/benchmarks.md."""
