"""Small released checkpoints, one versioned folder each (`idm-v2`, `idm-v3`, ...), installed as `eva_bench.released`.

A released folder is never overwritten: a new release is a new folder. `eva_bench.paths.released_checkpoint`
finds them in a source checkout and in a plain install alike.
"""
