"""tf.IndexedSlices: a sparse set of rows of a dense tensor (values, indices, dense_shape)."""
from __future__ import annotations

from tensorweave.framework.convert import convert_to_tensor


class IndexedSlices:
    """Rows `indices` of a tensor of shape `dense_shape` hold `values`."""

    def __init__(self, values, indices, dense_shape=None):
        self._values = convert_to_tensor(values)
        self._indices = convert_to_tensor(indices)
        self._dense_shape = None if dense_shape is None else convert_to_tensor(dense_shape)

    values = property(lambda self: self._values)
    indices = property(lambda self: self._indices)
    dense_shape = property(lambda self: self._dense_shape)
    dtype = property(lambda self: self._values.dtype)
    shape = property(lambda self: self._values.shape if self._dense_shape is None
                     else self._dense_shape.numpy().tolist())

    def __repr__(self):
        return (f"IndexedSlices(indices={self._indices!r}, values={self._values!r}, "
                f"dense_shape={self._dense_shape!r})")
