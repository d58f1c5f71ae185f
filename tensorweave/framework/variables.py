"""tf.Variable: mutable state that tapes watch and ops accept wherever a tensor goes.

The value is replaced, never written in place, on every assignment: a tensor read earlier keeps
the value it had (TensorFlow's semantics), and a failed assignment leaves the variable untouched.
"""
from __future__ import annotations

import enum
import itertools

import numpy as np

from tensorweave.framework import dtypes
from tensorweave.framework.context import state
from tensorweave.framework.convert import convert_to_tensor, to_array
from tensorweave.framework.errors import InvalidArgumentError, op_error
from tensorweave.framework.tensor import CPU_DEVICE, Reference, Tensor, _numpy_text
from tensorweave.framework.tensor_shape import TensorShape, as_shape

_ids = itertools.count(1)


class VariableSynchronization(enum.Enum):
    AUTO = 0
    NONE = 1
    ON_WRITE = 2
    ON_READ = 3


class VariableAggregation(enum.Enum):
    NONE = 0
    SUM = 1
    MEAN = 2
    ONLY_FIRST_REPLICA = 3


def _slice_key(key):
    """A NumPy index from a TensorFlow one: scalar tensors become ints."""
    def part(k):
        if isinstance(k, slice):
            return slice(part(k.start), part(k.stop), part(k.step))
        if isinstance(k, Tensor) or hasattr(k, "__tf_tensor__"):
            return int(convert_to_tensor(k))
        return k
    return tuple(part(k) for k in key) if isinstance(key, tuple) else part(key)


class Variable:
    """A tensor-like value that `assign` and its relatives change."""

    _is_tensor_like = True
    __array_priority__ = 100

    def __init__(self, initial_value=None, trainable=None, validate_shape=True, caching_device=None,
                 name=None, variable_def=None, dtype=None, import_scope=None, constraint=None,
                 synchronization=VariableSynchronization.AUTO,
                 aggregation=VariableAggregation.NONE, shape=None,
                 experimental_enable_variable_lifting=True):
        if initial_value is None:
            raise ValueError("The `initial_value` arg (None) must be specified.")
        if callable(initial_value):
            initial_value = initial_value()
        if constraint is not None and not callable(constraint):
            raise ValueError(f"The `constraint` argument must be a callable. Received: {constraint}")
        if isinstance(initial_value, Tensor) or hasattr(initial_value, "__tf_tensor__"):
            init = convert_to_tensor(initial_value)
            if dtype is not None and dtypes.as_dtype(dtype) is not init.dtype:
                raise ValueError(f"Tensor conversion requested dtype {dtypes.as_dtype(dtype).name} "
                                 f"for Tensor with dtype {init.dtype.name}: {init!r}")
            value, value_dtype = np.array(init._value), init.dtype
        else:
            value, value_dtype = to_array(initial_value, dtype)
            value = np.array(value)
        self._value = value
        self._dtype = value_dtype
        if shape is not None:
            self._shape = as_shape(shape)
            if not self._shape.is_compatible_with(value.shape):
                raise ValueError(f"The initial value's shape ({TensorShape(value.shape)}) is not "
                                 f"compatible with the explicitly supplied `shape` argument ({self._shape}).")
        elif validate_shape:
            self._shape = TensorShape(value.shape)
        else:
            self._shape = TensorShape(None)
        if synchronization == VariableSynchronization.ON_READ:
            if trainable:
                raise ValueError("Synchronization value can be set to VariableSynchronization.ON_READ "
                                 "only for non-trainable variables.")
            trainable = False
        self._trainable = True if trainable is None else bool(trainable)
        self._name = (name or "Variable").split(":")[0]
        self._constraint = constraint
        self._synchronization = synchronization
        self._aggregation = aggregation
        self._id = next(_ids)

    # -- identity and metadata ------------------------------------------------------------
    name = property(lambda self: f"{self._name}:0")
    dtype = property(lambda self: self._dtype)
    trainable = property(lambda self: self._trainable)
    constraint = property(lambda self: self._constraint)
    synchronization = property(lambda self: self._synchronization)
    aggregation = property(lambda self: self._aggregation)
    device = property(lambda self: CPU_DEVICE)
    handle = property(lambda self: self)

    @property
    def shape(self) -> TensorShape:
        if self._shape.is_fully_defined():
            return self._shape
        return TensorShape(self._value.shape) if self._shape.rank is None else self._shape

    def get_shape(self) -> TensorShape:
        return self.shape

    @property
    def ndim(self) -> int:
        return self._value.ndim

    # -- reading ---------------------------------------------------------------------------
    def __tf_tensor__(self, dtype=None, name=None) -> Tensor:
        if dtype is not None and dtypes.as_dtype(dtype) is not self._dtype:
            raise ValueError(f"Tensor conversion requested dtype {dtypes.as_dtype(dtype).name} "
                             f"for variable with dtype {self._dtype.name}: {self!r}")
        return self._read()

    def _read(self) -> Tensor:
        if state.graph is not None:
            return state.graph.read_variable(self)
        value = self._value
        tensor = Tensor(value[()] if value.ndim == 0 and value.dtype.kind != "O" else value, self._dtype)
        if state.tapes:
            for tape in state.tapes:
                tape._record_read(self, tensor)
        for watcher in state.variable_watchers:
            watcher(self)
        return tensor

    def value(self) -> Tensor:
        return self._read()

    def read_value(self) -> Tensor:
        return self._read()

    def numpy(self):
        value = self._value
        return value[()] if value.ndim == 0 else value.copy()

    def __array__(self, dtype=None, copy=None):
        value = self._value
        return value.astype(dtype) if dtype is not None and value.dtype != dtype else value.copy()

    # -- assignment ------------------------------------------------------------------------
    def _converted(self, value) -> np.ndarray:
        return np.asarray(convert_to_tensor(value, dtype=self._dtype)._value)

    def assign(self, value, use_locking=None, name=None, read_value=True):
        new = self._converted(value)
        if not self._shape.is_compatible_with(new.shape):
            raise ValueError(f"Cannot assign value to variable ' {self.name}': Shape mismatch.The "
                             f"variable shape {self._shape}, and the assigned value shape "
                             f"{TensorShape(new.shape)} are incompatible.")
        self._value = np.array(new)
        return self if read_value else None

    def _assign_arith(self, value, ufunc, op_name: str, read_value: bool):
        delta = self._converted(value)
        try:
            result = np.broadcast_shapes(self._value.shape, delta.shape)
        except ValueError:
            result = None
        if result != self._value.shape:
            raise op_error(InvalidArgumentError, op_name,
                           f"Cannot update variable with shape {list(self._value.shape)} using a "
                           f"Tensor with shape {list(delta.shape)}, shapes must be equal.")
        self._value = np.asarray(ufunc(self._value, delta))
        return self if read_value else None

    def assign_add(self, delta, use_locking=None, name=None, read_value=True):
        return self._assign_arith(delta, np.add, "AssignAddVariableOp", read_value)

    def assign_sub(self, delta, use_locking=None, name=None, read_value=True):
        return self._assign_arith(delta, np.subtract, "AssignSubVariableOp", read_value)

    def _assign_slice(self, key, value):
        new = self._converted(value)
        target_shape = np.shape(self._value[key])
        if new.shape != target_shape:
            raise op_error(InvalidArgumentError, "ResourceStridedSliceAssign",
                           f"sliced l-value shape {list(target_shape)} does not match r-value "
                           f"shape {list(new.shape)}. Automatic broadcasting not yet implemented.")
        updated = self._value.copy()
        updated[key] = new
        self._value = updated
        return self

    def _scatter_nd(self, indices, updates, mode: str):
        indices = np.asarray(convert_to_tensor(indices)._value)
        updates = self._converted(updates)
        if indices.ndim < 1 or indices.shape[-1] > self._value.ndim:
            raise op_error(InvalidArgumentError, "ResourceScatterNd" + mode.capitalize(),
                           f"indices.shape[-1] must be <= variable rank, got indices shape "
                           f"{list(indices.shape)} for a variable of shape {list(self._value.shape)}")
        depth = indices.shape[-1]
        expected = indices.shape[:-1] + self._value.shape[depth:]
        if updates.shape != expected:
            raise op_error(InvalidArgumentError, "ResourceScatterNd" + mode.capitalize(),
                           f"updates must have shape {list(expected)} for indices of shape "
                           f"{list(indices.shape)}, got {list(updates.shape)}")
        flat_idx = indices.reshape(-1, depth)
        bounds = np.array(self._value.shape[:depth])
        if flat_idx.size and ((flat_idx < 0) | (flat_idx >= bounds)).any():
            bad = flat_idx[((flat_idx < 0) | (flat_idx >= bounds)).any(axis=1)][0]
            raise op_error(InvalidArgumentError, "ResourceScatterNd" + mode.capitalize(),
                           f"indices {bad.tolist()} does not index into shape {list(self._value.shape)}")
        updated = self._value.copy()
        where = tuple(flat_idx.T)
        flat_updates = updates.reshape((-1,) + self._value.shape[depth:])
        if mode == "update":
            updated[where] = flat_updates
        elif mode == "add":
            np.add.at(updated, where, flat_updates)
        else:
            np.subtract.at(updated, where, flat_updates)
        self._value = updated
        return self

    def scatter_nd_update(self, indices, updates, name=None):
        return self._scatter_nd(indices, updates, "update")

    def scatter_nd_add(self, indices, updates, name=None):
        return self._scatter_nd(indices, updates, "add")

    def scatter_nd_sub(self, indices, updates, name=None):
        return self._scatter_nd(indices, updates, "sub")

    def _scatter_rows(self, sparse_delta, mode: str):
        indices = np.asarray(convert_to_tensor(sparse_delta.indices)._value)
        return self._scatter_nd(indices[..., None], sparse_delta.values, mode)

    def scatter_update(self, sparse_delta, use_locking=False, name=None):
        """Sets the rows `sparse_delta.indices` (an IndexedSlices) to `sparse_delta.values`."""
        return self._scatter_rows(sparse_delta, "update")

    def scatter_add(self, sparse_delta, use_locking=False, name=None):
        return self._scatter_rows(sparse_delta, "add")

    def scatter_sub(self, sparse_delta, use_locking=False, name=None):
        return self._scatter_rows(sparse_delta, "sub")

    def __setitem__(self, key, value):
        raise TypeError("'ResourceVariable' object does not support item assignment")

    # -- Python protocol -------------------------------------------------------------------
    def __len__(self):
        if self._value.ndim == 0:
            raise TypeError("Scalar tensor has no `len()`")
        return self._value.shape[0]

    def __iter__(self):
        return iter(self._read())

    def __bool__(self):
        return bool(self._value)

    def __float__(self):
        return float(self._value)

    def __int__(self):
        return int(self._value)

    def __index__(self):
        return self._read().__index__()

    def __hash__(self):
        raise TypeError("Variable is unhashable. Instead, use variable.ref() as the key.")

    def ref(self) -> Reference:
        return Reference(self)

    experimental_ref = ref

    def __repr__(self):
        return (f"<tf.Variable '{self.name}' shape={self.shape} dtype={self._dtype.name}, "
                f"numpy={_numpy_text(self._value, True)}>")

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return self._read().__format__(spec)

    def __deepcopy__(self, memo):
        copied = Variable(self._value.copy(), trainable=self._trainable, name=self._name,
                          dtype=self._dtype, constraint=self._constraint, shape=self._shape)
        memo[id(self)] = copied
        return copied
