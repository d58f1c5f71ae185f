"""keras.Input and keras.layers.InputLayer: where a functional model's KerasTensors start."""
from __future__ import annotations

from typing import Optional

from tensorweave.keras.engine import backend_config
from tensorweave.keras.engine.keras_tensor import KerasTensor, is_keras_tensor, standardize_shape
from tensorweave.keras.engine.layer import Layer
from tensorweave.keras.engine.node import Node


class InputLayer(Layer):
    """The layer behind `keras.Input`: it makes the input KerasTensor of a functional model."""

    def __init__(self, shape=None, batch_size: Optional[int] = None, dtype=None,
                 sparse: Optional[bool] = None, batch_shape=None, input_tensor=None,
                 optional: bool = False, name: Optional[str] = None, **kwargs):
        if "input_shape" in kwargs:
            shape = kwargs.pop("input_shape")
        if "batch_input_shape" in kwargs:
            batch_shape = kwargs.pop("batch_input_shape")
        if kwargs.pop("ragged", False):
            raise ValueError("Ragged inputs are not supported yet (tf.RaggedTensor comes later).")
        if kwargs:
            raise ValueError(f"Unrecognized keyword arguments passed to InputLayer: {kwargs}")
        if shape is not None and batch_shape is not None:
            raise ValueError("You cannot pass both `shape` and `batch_shape` at the same time.")
        if batch_size is not None and batch_shape is not None:
            raise ValueError("You cannot pass both `batch_size` and `batch_shape` at the same "
                             "time.")
        if shape is None and batch_shape is None and input_tensor is None:
            raise ValueError("You must pass a `shape` argument.")
        if input_tensor is not None:
            batch_shape = input_tensor.shape
            dtype = dtype or input_tensor.dtype
        elif batch_shape is None:
            batch_shape = (batch_size,) + standardize_shape(shape)
        super().__init__(name=name, dtype=dtype or backend_config.floatx())
        self._batch_shape = standardize_shape(batch_shape)
        self._input_dtype = self.compute_dtype if dtype is None else str(
            getattr(dtype, "name", dtype))
        self.sparse = bool(sparse)
        self.optional = optional
        self.built = True
        if input_tensor is not None and is_keras_tensor(input_tensor):
            tensor = input_tensor
        else:
            tensor = KerasTensor(self._batch_shape, self._input_dtype, sparse=self.sparse,
                                 name=self.name)
        Node(self, (), {}, tensor)
        self._input_tensor = tensor

    batch_shape = property(lambda self: self._batch_shape)

    @property
    def dtype(self) -> str:
        return self._input_dtype

    def call(self, inputs):
        return inputs

    def get_config(self) -> dict:
        return {"batch_shape": list(self._batch_shape), "dtype": self._input_dtype,
                "sparse": self.sparse, "ragged": False, "name": self.name,
                "optional": self.optional}


def Input(shape=None, batch_size: Optional[int] = None, dtype=None, sparse: Optional[bool] = None,
          batch_shape=None, name: Optional[str] = None, tensor=None,
          optional: bool = False) -> KerasTensor:
    """A symbolic input of a functional model: `keras.Input(shape=(784,), name="img")`."""
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, sparse=sparse,
                       batch_shape=batch_shape, name=name, input_tensor=tensor,
                       optional=optional)
    return layer._input_tensor
