"""Errors a user can cause and the CLI reports as one line (kept free of heavy imports)."""


class UserError(Exception):
    """A problem with the user's input (a flag value, a missing run)."""


class ProtocolError(RuntimeError):
    """The evaluation protocol cannot be followed (e.g. the expert solves too few candidate seeds of a task)."""


class RenderingUnavailableError(RuntimeError):
    """SAPIEN cannot render on this machine (no usable Vulkan device); the message says how to fix it."""
