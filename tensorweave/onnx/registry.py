"""The table of translators: TensorFlow op name -> function emitting the ONNX nodes for it.

A translator is `fn(b, node, ins) -> outputs`: `b` is the Builder, `node` the graph node (its
`attrs`, and `inputs` / `outputs` with their static shapes and dtypes), `ins` the ONNX names of
its inputs. It returns the ONNX name of each output of the node (a single name for a one-output
op; None for an output it does not produce, such as a fused kernel's saved residuals).
"""
from __future__ import annotations

import numpy as np

TRANSLATORS: dict = {}


def translates(*op_names: str):
    """Registers the decorated function as the translator of `op_names`."""
    def register(fn):
        for name in op_names:
            if name in TRANSLATORS:
                raise ValueError(f"{name} already has an ONNX translator")
            TRANSLATORS[name] = fn
        return fn
    return register


class Unsupported(NotImplementedError):
    """An op (or an attribute value of it) that has no ONNX translation."""


def np_dtype(tensor) -> np.dtype:
    """The NumPy dtype of a graph tensor."""
    return np.dtype(tensor.dtype.as_numpy_dtype)


def rank(tensor) -> int:
    """The static rank of a graph tensor (ONNX layouts need it)."""
    r = tensor.shape.rank
    if r is None:
        raise Unsupported(f"the rank of {tensor.name} is not known while tracing; give the "
                          f"function an input_signature with known ranks")
    return r


def dims(tensor) -> list:
    return tensor.shape.as_list() if tensor.shape.rank is not None else None
