"""keras.Variable: a tf.Variable with Keras 3's short name, `path`, and settable `trainable`,
`regularizer` and `constraint` (what `Layer.add_weight` creates)."""
from __future__ import annotations

import threading
from typing import Optional

import numpy as np

from tensorweave.framework import dtypes
from tensorweave.framework.context import init_scope
from tensorweave.framework.tensor import Tensor
from tensorweave.framework.variables import Variable as _TFVariable
from tensorweave.keras.engine import backend_config
from tensorweave.keras.engine.naming import unique_name


class _PathScope(threading.local):
    def __init__(self):
        self.names: list = []


path_scope = _PathScope()  # the names of the layers being built or called, outermost first


class Variable(_TFVariable):
    """A weight of a Keras layer."""

    _keras_module = "keras"

    def __init__(self, initializer, shape=None, dtype=None, trainable: bool = True,
                 autocast: bool = True, aggregation="none", synchronization="auto",
                 name: Optional[str] = None, regularizer=None, constraint=None):
        if name is None:  # variable, variable_1... (reset by clear_session), as Keras names them
            name = unique_name("variable")
        if not isinstance(name, str) or "/" in name:
            raise ValueError("Argument `name` must be a string and cannot contain character `/`. "
                             f"Received: name={name}")
        dtype = dtypes.as_dtype(dtype or backend_config.floatx())
        with init_scope():
            if callable(initializer) and not isinstance(initializer, (Tensor, _TFVariable)):
                if shape is None:
                    raise ValueError(f"When creating a Variable from an initializer, the `shape` "
                                     f"argument should be specified. Received: "
                                     f"initializer={initializer} and shape={shape}")
                value = initializer(tuple(shape), dtype=dtype)
            else:
                value = initializer
            value = np.asarray(value if not hasattr(value, "numpy") else value.numpy())
            if np.dtype(value.dtype) != dtype.as_numpy_dtype:
                value = value.astype(dtype.as_numpy_dtype)
            if shape is not None and tuple(value.shape) != tuple(shape):
                raise ValueError(f"Initializer for variable '{name}' returned a value of shape "
                                 f"{tuple(value.shape)}, expected {tuple(shape)}.")
        super().__init__(value, trainable=bool(trainable), name=name, dtype=dtype)
        self._path = "/".join(path_scope.names + [name])
        self.regularizer = regularizer
        self._constraint = constraint
        self.autocast = autocast
        self.overwrite_with_gradient = False

    name = property(lambda self: self._name)
    path = property(lambda self: self._path)

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)

    @property
    def constraint(self):
        return self._constraint

    @constraint.setter
    def constraint(self, value) -> None:
        if value is not None and not callable(value):
            raise ValueError(f"Argument `constraint` must be None or a callable. Received: "
                             f"{value}")
        self._constraint = value

    def __repr__(self):
        return (f"<Variable path={self.path}, shape={tuple(self.shape.as_list())}, "
                f"dtype={self.dtype.name}, value={self.numpy()}>")
