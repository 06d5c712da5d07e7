"""msgpack with numpy arrays, as openpi's `msgpack_numpy` frames them (so our client talks to its servers).

An array travels as {b"__ndarray__": True, b"data": bytes, b"dtype": dtype.str, b"shape": shape}, a numpy
scalar as {b"__npgeneric__": True, b"data": bytes, b"dtype": dtype.str}. Object, void and complex dtypes are
refused both ways (they would need pickle, which never touches network data here). Decoded arrays are
read-only views of the received bytes.
"""

from __future__ import annotations

from typing import Any

import msgpack
import numpy as np

REFUSED_KINDS = ("V", "O", "c")


class CodecError(ValueError):
    """A value that cannot travel (an object, void or complex array)."""


def _encode(value: Any) -> Any:
    if isinstance(value, np.ndarray | np.generic) and value.dtype.kind in REFUSED_KINDS:
        raise CodecError(f"cannot send an array of dtype {value.dtype} (object, void and complex are refused)")
    if isinstance(value, np.ndarray):
        return {b"__ndarray__": True, b"data": np.ascontiguousarray(value).tobytes(), b"dtype": value.dtype.str,
                b"shape": list(value.shape)}
    if isinstance(value, np.generic):
        return {b"__npgeneric__": True, b"data": value.tobytes(), b"dtype": value.dtype.str}
    return value


def _decode(value: dict) -> Any:
    if b"__ndarray__" in value or b"__npgeneric__" in value:
        dtype = np.dtype(value[b"dtype"])
        if dtype.kind in REFUSED_KINDS:
            raise CodecError(f"refusing a received array of dtype {dtype}")
        if b"__ndarray__" in value:
            return np.frombuffer(value[b"data"], dtype=dtype).reshape(value[b"shape"])
        return np.frombuffer(value[b"data"], dtype=dtype)[0]
    return value


def packb(value: Any) -> bytes:
    """`value` (dicts, lists, numbers, strings, numpy arrays and scalars) as msgpack bytes."""
    return msgpack.packb(value, default=_encode, use_bin_type=True)


def unpackb(data: bytes) -> Any:
    """The value of msgpack bytes made by `packb` (or by openpi's msgpack_numpy)."""
    return msgpack.unpackb(data, object_hook=_decode, raw=False)
