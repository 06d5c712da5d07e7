"""The video world model of EVA (paper sections 3.1, 5.1), in diffusers' split: model, sampler, pipeline.

- `autoencoder`: `FrameAutoencoder`, frames <-> latents (4 frames stacked per latent, 8x spatial, 16 channels);
  `autoencoder_train` trains it (`eva-bench train vae`), `autoencoder_config` holds its torch-free settings.

Heavy modules (torch, diffusers) are imported by the submodules, not here, so the command line starts fast.
"""
