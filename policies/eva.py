"""`eva`: EVA, the world model aligned by Flow-GRPO (SFT weights + LoRA adapter) decoded by the IDM (paper Table 2).

The same receding horizon, executability gap and saved imagined video as `eva-norl` (policies/eva_norl.py);
only the checkpoint differs: a LoRA adapter checkpoint or GRPO run (`eva-bench train grpo`), loaded on the base
world model its provenance names.
"""

from __future__ import annotations

from eva_bench.policies.eva_norl import EVANoRLPolicy, WorldModelPolicyConfig

from eva_bench.paths import released_eva_dir


class EVAPolicy(EVANoRLPolicy):
    """The aligned world model + IDM, segment by segment. The checkpoint (`--checkpoint`) is a GRPO adapter
    (or run); default: the released one."""

    name = "eva"
    config_class = WorldModelPolicyConfig
    missing_hint = "aligned world model (train one with `eva-bench train grpo`; docs/world_model.md)"

    @classmethod
    def resolve_checkpoint(cls, checkpoint: str | None) -> str:
        return str(checkpoint or released_eva_dir())
