"""The inverse dynamics model (IDM) and the executability reward (EVA paper, sections 4.1 and 4.2).

* `eva_bench.idm.model`: `IDM`, frames I_{t-k..t+k} (B, 2k+1, 3, H, W) uint8 -> action a_t (B, 14); a conv
  backbone, spatial-softmax keypoints (or global average pooling, the Table S2 ablation) and an MLP; presets
  `tiny` (2 CPU cores) and `paper`; eva-bench checkpoints of kind "idm" (`eva_bench.checkpoint`);
  `IDM.decode_video(video (T, H, W, 3)) -> (T, 14)`.
* `eva_bench.idm.train_config`: `TrainConfig`, the settings of a training run (light: no torch).
* `eva_bench.idm.train`: `train(TrainConfig)` on the shared trainer (`eva_bench.training`), with a held-out
  split by episode and the paper's metrics (`evaluate`, `action_metrics`: per-dimension MAE, accuracy within
  +-0.05).
* `eva_bench.idm.reward`: `executability(actions (T, 14), RewardConfig) -> RewardBreakdown` (eq. 5-9) and
  `calibrate` (P0 from a set of action sequences). Pure numpy: importing it does not import torch.
* `eva_bench.idm.scoring`: `RewardScorer`, video -> IDM -> reward in one place (runner, `reward calibrate`,
  idm-oracle, Flow-GRPO), with the IDM's source camera and resolution.

Submodules are imported explicitly (this package imports nothing, so `import eva_bench.idm.reward` stays light).
"""
