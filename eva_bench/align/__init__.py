"""Alignment of the world model on the IDM reward: Flow-GRPO with LoRA adapters (paper sections 3.2, 4.2).

`config` (GRPOConfig), `grpo` (the GRPO task on the shared trainer, `train_grpo`), `rewards` (segment rewards
and reward-hacking detectors), `lora` (adapter checkpoints on a base world model).
"""
