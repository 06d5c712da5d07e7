"""Built-in policies, one module each (installed as `eva_bench.policies`).

Importing this package registers them lazily by module path (`register_builtin`): a policy's module, and
whatever heavy library it needs, is imported only when the policy is used. Third-party policies register
through the `eva_bench.policies` entry-point group instead. A new built-in policy: one module here with a
`PolicyConfig` dataclass and a `Policy` subclass, plus one line below.
"""

from eva_bench.policy import register_builtin

register_builtin("expert", "expert:ExpertPolicy", "The task's scripted expert, replayed as chunks (an upper bound).")
register_builtin("idle", "idle:IdlePolicy", "Holds the initial pose: the arms never move (a lower bound).")
register_builtin("random", "random_policy:RandomPolicy", "Uniformly random joint targets, seeded per episode.")
register_builtin("idm-oracle", "idm_oracle:IDMOraclePolicy",
                 "The IDM decoding the expert's ground-truth video, executed open-loop (paper Table 4).")
register_builtin("eva-norl", "eva_norl:EVANoRLPolicy",
                 "EVA without RL: the SFT world model imagines each segment, the IDM decodes it (paper Table 2).")
register_builtin("eva", "eva:EVAPolicy",
                 "EVA: the world model aligned by Flow-GRPO on the IDM reward, decoded by the IDM (paper Table 2).")
register_builtin("act", "act.policy:ACTPolicy",
                 "ACT (action chunking with transformers, temporal aggregation), trained in the harness (Table 2).")
register_builtin("dp", "dp.policy:DPPolicy",
                 "Diffusion Policy (a 1-D UNet denoising action chunks), trained in the harness (Table 2).")
register_builtin("pi0", "remote.pi0:Pi0Policy",
                 "pi0 (or any openpi policy) served over openpi's websocket protocol, RoboTwin's aloha inputs.")
register_builtin("robotwin", "remote.robotwin:RobotwinPolicy",
                 "Any RoboTwin 2.0 policy folder (DP, ACT, RDT...), unchanged, in its own interpreter.")
