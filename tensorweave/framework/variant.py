"""The value of a `tf.variant` tensor: an opaque Python payload an op produces and consumes.

TensorArrays (a list of arrays) and other containers travel through ops, graphs and loops as
variant tensors. A VariantValue looks enough like a rank-0 array (`dtype`, `shape`, `ndim`) for
the op path to wrap it as a Tensor of dtype variant without a special case.
"""
from __future__ import annotations

from tensorweave.framework.dtypes import VARIANT_NP


class VariantValue:
    """A rank-0 value of dtype variant holding `payload`."""

    __slots__ = ("payload",)
    dtype = VARIANT_NP
    shape = ()
    ndim = 0
    size = 1

    def __init__(self, payload):
        self.payload = payload

    def zeros_like(self) -> "VariantValue":
        """The zero of a gradient of this value (the payload says what that is)."""
        return VariantValue(self.payload.zeros_like())

    def __add__(self, other: "VariantValue") -> "VariantValue":
        """Accumulates gradients held in variants (the payload says how)."""
        return VariantValue(self.payload + other.payload)

    def __repr__(self):
        return f"<VariantValue {type(self.payload).__name__}>"
