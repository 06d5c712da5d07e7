"""`python -m eva_bench.cli`: the same as the `eva-bench` console script."""

from eva_bench.cli import main

main()
