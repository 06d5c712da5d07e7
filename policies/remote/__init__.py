"""Policies served by another process: openpi's websocket protocol (`codec`, `client`) and the `pi0` policy."""
