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
from tensorweave.framework.convert import error_name, convert_to_tensor, tensor_of, to_array
from tensorweave.framework.errors import InvalidArgumentError, op_error
from tensorweave.framework.tensor import CPU_DEVICE, Reference, Tensor, _numpy_text
from tensorweave.framework.tensor_shape import TensorShape, as_shape

_ids = itertools.count(1)


class VariableSynchronization(enum.Enum):
    AUTO = 0
    NONE = 1
    ON_WRITE = 2
    ON_READ = 3


class VariableAggregationV2(enum.Enum):
    NONE = 0
    SUM = 1
    MEAN = 2
    ONLY_FIRST_REPLICA = 3


VariableAggregation = VariableAggregationV2  # TensorFlow 2's tf.VariableAggregation


def _no_kernel(op_name: str, dtype: dtypes.DType):
    return op_error(InvalidArgumentError, op_name,
                    f"No OpKernel was registered to support Op '{op_name}' used by "
                    f"{{{{node {op_name}}}}} with these attrs: [dtype=DT_{dtype.name.upper()}]")


def _dims(shape) -> str:
    return "[" + ",".join(str(d) for d in shape) + "]"


# What each scatter accepts and does: (NumPy ufunc or None for a plain write, allowed kinds).
_SCATTERS = {"update": (None, "fiucbs"), "add": (np.add, "fiucb"), "sub": (np.subtract, "fiucb"),
             "mul": (np.multiply, "fiuc"), "div": (np.divide, "fiuc"),
             "max": (np.maximum, "fiu"), "min": (np.minimum, "fiu")}


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
            raise ValueError("The `initial_value` arg to `tf.Variable` must be specified except when "
                             "you are not providing a `variable_def`. You provided neither.")
        if name is not None and not isinstance(name, str):
            raise ValueError("name for name_scope must be a string.")
        try:
            synchronization = VariableSynchronization(synchronization)
        except ValueError:
            raise ValueError(f"Invalid variable synchronization mode: {synchronization} for "
                             f"variable: {name}") from None
        try:
            aggregation = VariableAggregationV2(getattr(aggregation, "value", aggregation))
        except ValueError:
            raise ValueError(f"Invalid variable aggregation mode: {aggregation} for variable: "
                             f"{name}") from None
        if state.graph is not None:  # created while tracing: the value is computed eagerly
            initial_value = state.graph.lift_initial_value(initial_value)
        if constraint is not None and not callable(constraint):
            raise ValueError(f"Argument `constraint` must be None or a callable. a callable. Got a "
                             f"{type(constraint)}:  {constraint}")
        if callable(initial_value):
            initial_value = initial_value()
        if isinstance(initial_value, Tensor):
            if dtype is not None and dtypes.as_dtype(dtype) is not initial_value.dtype:
                raise ValueError(f"initial_value: Tensor conversion requested dtype "
                                 f"{dtypes.as_dtype(dtype).name} for Tensor with dtype "
                                 f"{initial_value.dtype.name}: {initial_value!r}")
            value, value_dtype = np.array(initial_value._value), initial_value.dtype
        elif hasattr(initial_value, "__tf_tensor__"):
            init = initial_value.__tf_tensor__(dtype)
            value, value_dtype = np.array(init._value), init.dtype
        else:
            value, value_dtype = to_array(initial_value, dtype)
            value = np.array(value)
        self._value = value
        self._dtype = value_dtype
        # An eager variable's shape is its initial value's (validate_shape changes nothing), or
        # the `shape` given, which may leave dimensions or the rank unknown.
        self._shape = TensorShape(value.shape)
        if shape is not None:
            given = as_shape(shape)
            if not given.is_compatible_with(value.shape):
                raise ValueError(f"In this `tf.Variable` creation, the initial value's shape "
                                 f"({self._shape}) is not compatible with the explicitly supplied "
                                 f"`shape` argument ({shape}).")
            self._shape = given
        if trainable is None:
            trainable = synchronization is not VariableSynchronization.ON_READ
        self._trainable = bool(trainable)
        self._name = "Variable" if name is None else name
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
        return self._shape

    @property
    def initial_value(self):
        raise RuntimeError("This property is not supported when eager execution is enabled.")

    @property
    def op(self):
        raise AttributeError("Tensor.op is undefined when eager execution is enabled.")

    @property
    def graph(self):
        raise AttributeError("Tensor.graph is undefined when eager execution is enabled.")

    def get_shape(self) -> TensorShape:
        return self.shape

    @property
    def ndim(self) -> int:
        return self._value.ndim

    # -- reading ---------------------------------------------------------------------------
    def __tf_tensor__(self, dtype=None, name=None) -> Tensor:
        if dtype is not None and dtypes.as_dtype(dtype) is not self._dtype:
            raise ValueError(f"Incompatible type conversion requested to type "
                             f"{dtypes.as_dtype(dtype).name} for `tf.Variable of type "
                             f"{self._dtype.name}. (Variable: {self!r})")
        return self._read()

    def _read(self) -> Tensor:
        if state.graph is not None:
            return state.graph.read_variable(self)
        return self._notify_read(tensor_of(self._value, self._dtype))

    def _notify_read(self, tensor: Tensor) -> Tensor:
        """Tells the recording tapes and the watchers that `tensor` is a read of this variable."""
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

    def _graph_update(self, method: str, values: tuple, read_value: bool = True, **kwargs):
        """The update as a node of the graph being traced; it happens when the graph runs."""
        state.graph.update_variable(self, method, values, kwargs)
        return self if read_value else None

    def _checked_update(self, method: str, value, read_value: bool):
        value = convert_to_tensor(value, dtype=self._dtype)
        if not self._shape.is_compatible_with(value.shape):
            raise ValueError(f"Cannot assign value to variable ' {self.name}': Shape mismatch.The "
                             f"variable shape {self._shape}, and the assigned value shape "
                             f"{value.shape} are incompatible.")
        return self._graph_update(method, (value,), read_value)

    def assign(self, value, use_locking=None, name=None, read_value=True):
        if state.graph is not None:
            return self._checked_update("assign", value, read_value)
        new = self._converted(value)
        if not self._shape.is_compatible_with(new.shape):
            raise ValueError(f"Cannot assign value to variable ' {self.name}': Shape mismatch.The "
                             f"variable shape {self._shape}, and the assigned value shape "
                             f"{TensorShape(new.shape)} are incompatible.")
        self._value = np.array(new)
        return self if read_value else None

    def _assign_arith(self, value, ufunc, op_name: str, read_value: bool):
        delta = self._converted(value)
        if self._dtype._kind not in "fiuc":
            raise _no_kernel(op_name, self._dtype)
        if delta.shape != self._value.shape:
            raise op_error(InvalidArgumentError, op_name,
                           f"Cannot update variable with shape {list(self._value.shape)} using a "
                           f"Tensor with shape {list(delta.shape)}, shapes must be equal.")
        self._value = np.asarray(ufunc(self._value, delta))
        return self if read_value else None

    def assign_add(self, delta, use_locking=None, name=None, read_value=True):
        if state.graph is not None:
            return self._checked_update("assign_add", delta, read_value)
        return self._assign_arith(delta, np.add, "AssignAddVariableOp", read_value)

    def assign_sub(self, delta, use_locking=None, name=None, read_value=True):
        if state.graph is not None:
            return self._checked_update("assign_sub", delta, read_value)
        return self._assign_arith(delta, np.subtract, "AssignSubVariableOp", read_value)

    def _assign_slice(self, key, value):
        if state.graph is not None:
            return self._graph_update("_assign_slice_value",
                                      (convert_to_tensor(value, dtype=self._dtype),), key=key)
        new = self._converted(value)
        target_shape = np.shape(self._value[key])
        extra = 0  # leading 1-dims beyond the target's rank are dropped, as TensorFlow does
        while new.ndim - extra > len(target_shape) and new.shape[extra] == 1:
            extra += 1
        try:
            new = np.broadcast_to(new.reshape(new.shape[extra:]), target_shape)
        except ValueError:
            raise op_error(InvalidArgumentError, "ResourceStridedSliceAssign",
                           f"Cannot broadcast input shape {_dims(new.shape)} into final shape "
                           f"{_dims(target_shape)}") from None
        updated = self._value.copy()
        updated[key] = new
        self._value = updated
        return self

    def _assign_slice_value(self, value, key):
        """`_assign_slice` with the value first, as a graph node calls it."""
        return self._assign_slice(key, value)

    def _scatter_indices(self, indices, op_name: str) -> np.ndarray:
        indices = convert_to_tensor(indices)
        if indices._dtype not in (dtypes.int32, dtypes.int64):
            raise op_error(InvalidArgumentError, op_name,
                           f"Value for attr 'Tindices' of {error_name(indices._dtype)} is not in "
                           f"the list of allowed values: int32, int64")
        return np.asarray(indices._value)

    def _scatter_apply(self, where, updates, mode: str, op_name: str) -> None:
        """Writes or combines `updates` at the NumPy index `where`, duplicates accumulating."""
        ufunc, kinds = _SCATTERS[mode]
        if self._dtype._kind not in kinds:
            raise _no_kernel(op_name, self._dtype)
        updated = self._value.copy()
        if ufunc is None:
            updated[where] = updates
        elif mode == "div" and self._dtype.is_integer:
            if (updates == 0).any():
                raise op_error(InvalidArgumentError, op_name, "updates must not contain 0")
            for i in range(len(updates)):  # integer division truncates toward zero, as in C
                at = tuple(w[i] for w in where)
                a, b = updated[at], updates[i]
                updated[at] = np.where((a % b != 0) & ((a < 0) != (b < 0)), a // b + 1, a // b)
        else:
            ufunc.at(updated, where, updates)
        self._value = updated

    def _scatter_nd(self, indices, updates, mode: str):
        if state.graph is not None:
            return self._graph_update("_scatter_nd", (convert_to_tensor(indices),
                                      convert_to_tensor(updates, dtype=self._dtype)), mode=mode)
        op_name = "ResourceScatterNd" + mode.capitalize()
        indices = self._scatter_indices(indices, op_name)
        updates = self._converted(updates)
        shape = self._value.shape
        depth = indices.shape[-1] if indices.ndim else 0
        batch = indices.shape[:-1]
        if updates.shape[:len(batch)] != batch or indices.ndim == 0:
            k = max(len(batch), 1)
            raise op_error(InvalidArgumentError, op_name,
                           f"Dimensions [0,{k}) of indices[shape={_dims(indices.shape)}] = "
                           f"{_dims(batch) if len(batch) > 1 else (batch or indices.shape or ['?'])[0]}"
                           f" must match dimensions [0,{k}) of updates[shape={_dims(updates.shape)}]"
                           f" = {_dims(updates.shape[:k]) if k > 1 else (updates.shape or ['?'])[0]}")
        if depth > len(shape) or updates.shape[len(batch):] != shape[depth:]:
            raise op_error(InvalidArgumentError, op_name,
                           f"Dimensions [{depth},{len(shape)}) of input[shape={_dims(shape)}] must "
                           f"match dimensions [{len(batch)},{updates.ndim}) of "
                           f"updates[shape={_dims(updates.shape)}]")
        flat_idx = indices.reshape(-1, depth)
        bad = ((flat_idx < 0) | (flat_idx >= np.array(shape[:depth], dtype=np.int64))).any(axis=1)
        if bad.any():
            i = int(np.argmax(bad))
            raise op_error(InvalidArgumentError, op_name,
                           f"indices[{i}] = [{', '.join(str(int(x)) for x in flat_idx[i])}] does "
                           f"not index into shape {_dims(shape)}")
        flat_updates = updates.reshape((-1,) + shape[depth:])
        self._scatter_apply(tuple(flat_idx.T), flat_updates, mode, op_name)
        return self

    def scatter_nd_update(self, indices, updates, name=None):
        return self._scatter_nd(indices, updates, "update")

    def scatter_nd_add(self, indices, updates, name=None):
        return self._scatter_nd(indices, updates, "add")

    def scatter_nd_sub(self, indices, updates, name=None):
        return self._scatter_nd(indices, updates, "sub")

    def scatter_nd_max(self, indices, updates, name=None):
        return self._scatter_nd(indices, updates, "max")

    def scatter_nd_min(self, indices, updates, name=None):
        return self._scatter_nd(indices, updates, "min")

    def _scatter_rows(self, sparse_delta, mode: str):
        """Combines rows `sparse_delta.indices` of the variable with `sparse_delta.values`."""
        if not hasattr(sparse_delta, "indices") or not hasattr(sparse_delta, "values"):
            raise TypeError(f"Argument `sparse_delta` must be a `tf.IndexedSlices`. Received arg: "
                            f"{sparse_delta}")
        if state.graph is not None:
            return self._graph_update("_scatter_row_values", (
                convert_to_tensor(sparse_delta.indices),
                convert_to_tensor(sparse_delta.values, dtype=self._dtype)), mode=mode)
        return self._scatter_row_values(sparse_delta.indices, sparse_delta.values, mode)

    def _scatter_row_values(self, indices, values, mode: str):
        op_name = "ResourceScatter" + mode.capitalize()
        indices = self._scatter_indices(indices, op_name)
        updates = self._converted(values)
        shape = self._value.shape
        if updates.shape[:indices.ndim] != indices.shape:
            raise op_error(InvalidArgumentError, op_name,
                           f"The shape of indices ({_dims(indices.shape)}) must be a prefix of the "
                           f"shape of updates ({_dims(updates.shape)})")
        if updates.shape[indices.ndim:] != shape[1:]:
            raise op_error(InvalidArgumentError, op_name,
                           f"updates.shape {_dims(updates.shape)} must be indices.shape "
                           f"{_dims(indices.shape)} + params.shape[1:] {_dims(shape[1:])}")
        flat_idx = indices.reshape(-1)
        bad = (flat_idx < 0) | (flat_idx >= shape[0])
        if bad.any():
            i = int(np.argmax(bad))
            raise op_error(InvalidArgumentError, op_name,
                           f"indices[{i}] = {int(flat_idx[i])} is not in [0, {shape[0]})")
        self._scatter_apply((flat_idx,), updates.reshape((-1,) + shape[1:]), mode, op_name)
        return self

    def scatter_update(self, sparse_delta, use_locking=False, name=None):
        """Sets the rows `sparse_delta.indices` (an IndexedSlices) to `sparse_delta.values`."""
        return self._scatter_rows(sparse_delta, "update")

    def scatter_add(self, sparse_delta, use_locking=False, name=None):
        return self._scatter_rows(sparse_delta, "add")

    def scatter_sub(self, sparse_delta, use_locking=False, name=None):
        return self._scatter_rows(sparse_delta, "sub")

    def scatter_mul(self, sparse_delta, use_locking=False, name=None):
        return self._scatter_rows(sparse_delta, "mul")

    def scatter_div(self, sparse_delta, use_locking=False, name=None):
        return self._scatter_rows(sparse_delta, "div")

    def scatter_max(self, sparse_delta, use_locking=False, name=None):
        return self._scatter_rows(sparse_delta, "max")

    def scatter_min(self, sparse_delta, use_locking=False, name=None):
        return self._scatter_rows(sparse_delta, "min")

    def __setitem__(self, key, value):
        raise TypeError("'ResourceVariable' object does not support item assignment")

    # -- Python protocol (no __len__, __index__ or __format__: TensorFlow's variables have none) --
    def __iter__(self):
        return iter(self._read())

    def __bool__(self):
        value = self._value
        return bool(value) if value.size else False

    def __float__(self):
        return float(self._value)

    def __int__(self):
        return int(self._value)

    def __hash__(self):
        raise TypeError(f"Variable is unhashable. Instead, use variable.ref() as the key. "
                        f"(Variable: {self!r})")

    def ref(self) -> Reference:
        return Reference(self)

    experimental_ref = ref

    def __repr__(self):
        return (f"<tf.Variable '{self.name}' shape={self.shape} dtype={self._dtype.name}, "
                f"numpy={_numpy_text(self._value, True)}>")

    __str__ = __repr__

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        copied = Variable(self._value.copy(), trainable=self._trainable, name=self._name,
                          dtype=self._dtype, constraint=self._constraint, shape=self._shape,
                          synchronization=self._synchronization, aggregation=self._aggregation)
        memo[id(self)] = copied
        return copied


def apply_kernel(kernel, variables, values, **kwargs) -> None:
    """Runs `kernel(variables, *arrays, **kwargs)`, which replaces the `_value` of `variables`
    with new arrays computed from theirs and from `values` (tensors), now or, while a graph is
    traced, each time the graph runs. It is how an optimizer updates a weight and its slots in
    one step (TensorFlow's ResourceApply* ops); the kernel must not write into an existing array,
    so a tensor read earlier keeps its value."""
    if state.graph is not None:
        state.graph.update_variables(tuple(variables), kernel, tuple(values), kwargs)
        return
    kernel(tuple(variables), *[np.asarray(convert_to_tensor(v)._value) for v in values], **kwargs)
