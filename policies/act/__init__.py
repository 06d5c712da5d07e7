"""ACT, the action-chunking transformer baseline: `config` (presets, training settings), `model`, `train`, `policy`."""
