"""Benchmarks: each stage of aop-map's real code path beside the naive way, in the same run.

`python -m bench` (or `make bench`) writes bench/results/latest.json and latest.md; `--quick`
runs N = 1,000 and 10,000 only. See bench/README.md for what each figure means.
"""
