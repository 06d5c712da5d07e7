"""eva-bench: benchmark harness and trainer for Executable Video Alignment on RoboTwin 2.0-style tasks.

Importing the package is cheap: it imports neither SAPIEN nor torch. Start from `eva_bench.cli` (the command
line), `eva_bench.runner` (the evaluation protocol), `eva_bench.sim.env` (the simulator), `eva_bench.task` and
`eva_bench.policy` (the two plug-in contracts).
"""
