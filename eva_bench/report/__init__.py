"""Tables and figures regenerated from the results database (pure functions of store rows; no simulation)."""
