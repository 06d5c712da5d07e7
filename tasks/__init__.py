"""The RoboTwin 2.0 tasks of the EVA paper, one file each (installed as `eva_bench.tasks`).

Importing this package registers every task below; the list is explicit so the registry is visible at a glance.
"""

from . import click_bell, handover_block, place_container_plate  # noqa: F401
