"""Diffusion Policy (DP), the Table 2 baseline trained in the harness: model, UNet, training, policy."""
