"""tf.GradientTape: records ops on watched tensors and runs reverse-mode differentiation.

A tape keeps the ids of the tensors that depend on what it watches; an op is recorded only when
one of its inputs is among them, and then its floating outputs join them. Gradients are computed
with tensorweave ops, so a tape recording while another computes gradients sees those ops too:
that is how nested tapes give higher derivatives.
"""
from __future__ import annotations

import enum
import logging

from tensorweave.framework import dtypes
from tensorweave.framework.context import state
from tensorweave.framework.convert import convert_to_tensor
from tensorweave.framework.op_registry import OpRecord
from tensorweave.framework.tensor import Tensor
from tensorweave.framework.variables import Variable
from tensorweave.ops import array_ops, math_ops
from tensorweave.util import nest


def _size(dims) -> int:
    """The number of elements of a shape."""
    total = 1
    for d in dims:
        total *= d
    return total


class UnconnectedGradients(enum.Enum):
    """What `gradient` returns for a source the target does not depend on."""

    NONE = "none"
    ZERO = "zero"


def add_gradients(a: Tensor, b: Tensor) -> Tensor:
    """The sum of two gradients of one tensor (of a TensorArray's handle too)."""
    if a._dtype is dtypes.variant:
        from tensorweave.ops import tensor_array_ops
        return tensor_array_ops.add_gradients(a, b)
    return math_ops.add(a, b)


def zeros_gradient(t) -> Tensor:
    """A zero gradient for `t` (an empty gradient list for a TensorArray's handle)."""
    if t.dtype is dtypes.variant:
        from tensorweave.ops import tensor_array_ops
        return tensor_array_ops.zeros_like(t)
    return array_ops.zeros_like(t)


def _differentiable(dtype: dtypes.DType) -> bool:
    # variant: containers of tensors (TensorArray) carry gradients of their elements
    return dtype.is_floating or dtype.is_complex or dtype is dtypes.variant


_logger = logging.getLogger("tensorflow")
_dtype_warnings = [5]  # TensorFlow logs the first five non-float watches, then stays quiet


def _warn_not_floating(dtype: dtypes.DType) -> None:
    if _dtype_warnings[0] > 0:
        _dtype_warnings[0] -= 1
        _logger.warning("The dtype of the watched tensor must be floating (e.g. tf.float32), got %r",
                        dtype)


def _unconnected(value) -> "UnconnectedGradients":
    try:
        return UnconnectedGradients(getattr(value, "value", value))
    except ValueError:
        raise ValueError(f"Unknown value for unconnected_gradients: {value!r}") from None


def _check_source(source) -> None:
    """TensorFlow's errors for a source that is no tensor or variable."""
    if isinstance(source, (Tensor, Variable)):
        return
    dtypes.as_dtype(source)  # TypeError, as TensorFlow reads the source's dtype first
    raise AttributeError(f"{type(source).__name__!r} object has no attribute 'dtype'")


class _ReadRecord:
    """A variable read: its gradient is the sum of the gradients of the tensors read."""

    __slots__ = ("variable", "tensor")

    def __init__(self, variable: Variable, tensor: Tensor):
        self.variable = variable
        self.tensor = tensor


class GradientTape:
    """Records operations for automatic differentiation."""

    def __init__(self, persistent: bool = False, watch_accessed_variables: bool = True):
        self._persistent = persistent
        self._watch_accessed_variables = watch_accessed_variables
        self._records: list = []
        self._ids: set = set()  # ids of tensors that depend on a watched source
        self._watched_tensors: list = []  # keeps watched tensors alive, so ids stay unique
        self._variables: dict = {}  # variable id -> Variable
        self._recording = False
        self._entered = False  # entered at least once since created or last used up

    # -- recording -------------------------------------------------------------------------
    def __enter__(self) -> "GradientTape":
        if self._recording:
            raise ValueError("Tape is still recording, This can happen if you try to re-enter an "
                             "already-active tape.")
        if self._records is None:
            self._reset_state()
        self._entered = True
        self._push()
        return self

    def __exit__(self, exc_type, exc, tb):
        if self._recording:
            self._pop()
        return False

    def _push(self):
        state.tapes = state.tapes + [self]
        self._recording = True

    def _pop(self):
        state.tapes = [t for t in state.tapes if t is not self]
        self._recording = False

    def _reset_state(self):
        self._records = []
        self._ids = set()
        self._watched_tensors = []
        self._variables = {}

    def _record(self, record: OpRecord) -> None:
        if record.prim.grad is None:
            return
        ids = self._ids
        for tensor in record.inputs:
            if id(tensor) in ids:
                break
        else:
            return
        self._records.append(record)
        for out in record.outputs:
            if _differentiable(out._dtype):
                ids.add(id(out))

    def _record_read(self, variable: Variable, tensor: Tensor) -> None:
        key = variable._id
        if key not in self._variables:
            if not (self._watch_accessed_variables and variable.trainable):
                return
            self._variables[key] = variable  # watched whatever its dtype, as in TensorFlow
        if _differentiable(variable.dtype):
            self._records.append(_ReadRecord(variable, tensor))
            self._ids.add(id(tensor))

    def watch(self, tensor) -> None:
        """Ensures `tensor` (a tensor, a variable, or a nested structure of them) is traced."""
        for item in nest.flatten(tensor):
            is_variable = isinstance(item, Variable)
            if not (is_variable or isinstance(item, Tensor)):
                raise ValueError(f"Passed in object {item} of type {type(item).__name__!r}, "
                                 "not tf.Tensor or tf.Variable or ExtensionType.")
            if not _differentiable(item.dtype):
                _warn_not_floating(item.dtype)
            if is_variable:
                self._variables.setdefault(item._id, item)
            elif _differentiable(item.dtype):
                self._watched_tensors.append(item)
                self._ids.add(id(item))

    def watched_variables(self) -> tuple:
        """The variables this tape watches, in the order they were created."""
        return tuple(sorted(self._variables.values(), key=lambda v: v._id))

    def stop_recording(self):
        """A context in which ops are not recorded on this tape."""
        if not self._entered:
            raise RuntimeError("Trying to stop recording a tape which is not recording.")
        return _StopRecording(self)

    def reset(self) -> None:
        """Clears everything recorded so far; the tape goes on recording."""
        if not self._recording:
            raise ValueError("Tape is not recording.")
        self._reset_state()

    # -- differentiation -------------------------------------------------------------------
    def _check_usable(self):
        if self._records is None:
            raise RuntimeError("A non-persistent GradientTape can only be used to compute one set "
                               "of gradients (or jacobians)")
        if self._recording and not self._persistent:
            self._pop()  # as in TensorFlow: a non-persistent tape stops recording here

    def _release(self):
        if not self._persistent:
            self._records = None
            self._watched_tensors = []
            self._ids = set()
            self._entered = False

    def _backprop(self, targets: list, target_grads: list, sources: list) -> list:
        """Gradients of sum(target * target_grad) for each source (None where unconnected)."""
        grads: dict = {}
        variable_grads: dict = {}
        for target, grad in zip(targets, target_grads):
            if isinstance(target, Variable):  # a variable target is its own source
                key = target._id
                previous = variable_grads.get(key)
                variable_grads[key] = grad if previous is None else add_gradients(previous, grad)
            elif id(target) in self._ids or any(s is target for s in sources):
                key = id(target)
                grads[key] = grad if key not in grads else add_gradients(grads[key], grad)
        ids = self._ids
        records = self._records
        for index in range(len(records) - 1, -1, -1):
            rec = records[index]
            if type(rec) is _ReadRecord:
                grad = grads.get(id(rec.tensor))
                if grad is not None:
                    key = rec.variable._id
                    previous = variable_grads.get(key)
                    variable_grads[key] = grad if previous is None else add_gradients(previous, grad)
                continue
            outs = rec.outputs
            if not rec.prim.multi_output:
                dy = grads.get(id(outs[0]))
                if dy is None:
                    continue
            else:
                dys = [grads.get(id(o)) for o in outs]
                if all(g is None for g in dys):
                    continue
                dy = tuple(g if g is not None else zeros_gradient(o) for g, o in zip(dys, outs))
            rec.needs = tuple([id(t) in ids for t in rec.inputs])
            in_grads = rec.prim.grad(rec, dy)
            if isinstance(in_grads, Tensor) or in_grads is None:
                in_grads = (in_grads,)
            for tensor, grad in zip(rec.inputs, in_grads):
                if grad is None:
                    continue
                key = id(tensor)
                if key not in ids:
                    continue
                previous = grads.get(key)
                grads[key] = grad if previous is None else add_gradients(previous, grad)
        results = []
        for source in sources:
            if isinstance(source, Variable):
                results.append(variable_grads.get(source._id))
            else:
                results.append(grads.get(id(source)))
        return results

    def gradient(self, target, sources, output_gradients=None,
                 unconnected_gradients=UnconnectedGradients.NONE):
        """The gradient of `target` (summed, if a list or vector) with respect to `sources`."""
        self._check_usable()
        if target is None:
            raise TypeError("Argument `target` should be a list or nested structure of Tensors, "
                            "Variables or CompositeTensors to be differentiated, but received None.")
        unconnected = _unconnected(unconnected_gradients)
        flat_sources = nest.flatten(sources)
        for source in flat_sources:
            _check_source(source)
        flat_targets = nest.flatten(target)
        for t in flat_targets:
            if not hasattr(t, "dtype"):
                raise AttributeError(f"{type(t).__name__!r} object has no attribute 'dtype'")
        flat_targets = [t if isinstance(t, Variable) else convert_to_tensor(t) for t in flat_targets]
        given = [] if output_gradients is None else [
            convert_to_tensor(g) for g in nest.flatten(output_gradients)]
        given += [None] * (len(flat_targets) - len(given))  # the others default to ones
        seeds, seeded = [], []
        for t, g in zip(flat_targets, given):
            if g is None:
                if not _differentiable(t.dtype):
                    continue  # nothing flows from an integer or string target
                g = array_ops.ones_like(t)
            seeded.append(t)
            seeds.append(g)
        results = self._backprop(seeded, seeds, flat_sources)
        if unconnected is UnconnectedGradients.ZERO:
            results = [zeros_gradient(s) if g is None else g
                       for s, g in zip(flat_sources, results)]
        self._release()
        return nest.pack_sequence_as(sources, results)

    def jacobian(self, target, sources, unconnected_gradients=UnconnectedGradients.NONE,
                 parallel_iterations=None, experimental_use_pfor=True):
        """d target[i...] / d source[j...], shaped target.shape + source.shape, for each source."""
        self._check_usable()
        unconnected = _unconnected(unconnected_gradients)
        target_shape = list(target.shape)  # a tensor (a list of them has no shape, as in TF)
        flat_sources = nest.flatten(sources)
        size = int(_size(target_shape))
        rows = [self._backprop([target], [self._unit(target, i)], flat_sources) for i in range(size)]
        results = []
        for index, source in enumerate(flat_sources):
            shape = target_shape + list(source.shape)
            if size == 0:  # no rows: TensorFlow gives the empty jacobian, connected or not
                results.append(array_ops.zeros(shape, dtype=source.dtype))
                continue
            column = [row[index] for row in rows]
            if all(g is None for g in column) and unconnected is UnconnectedGradients.NONE:
                results.append(None)
                continue
            column = [array_ops.zeros_like(source) if g is None else g for g in column]
            results.append(array_ops.reshape(array_ops.stack(column), shape))
        self._release()
        return nest.pack_sequence_as(sources, results)

    def batch_jacobian(self, target, source, unconnected_gradients=UnconnectedGradients.NONE,
                       parallel_iterations=None, experimental_use_pfor=True):
        """d target[b, i...] / d source[b, j...] for each example b, shaped [b, i..., j...]."""
        self._check_usable()
        _unconnected(unconnected_gradients)
        target_shape, source_shape = target.shape, source.shape
        batch = target_shape[0]
        if source_shape[0] != batch:
            raise ValueError(f"Need first dimension of target shape ({target_shape}) and source "
                             f"shape ({source_shape}) to match.")
        target_shape.with_rank_at_least(2)
        source_shape.with_rank_at_least(2)
        inner = int(_size(target_shape[1:]))
        shape = list(target_shape) + list(source_shape)[1:]
        columns = []
        for i in range(inner):
            unit = array_ops.reshape(
                array_ops.one_hot([i] * batch, inner, dtype=target.dtype), target_shape)
            (grad,) = self._backprop([target], [unit], [source])
            columns.append(grad)
        self._release()
        if not columns or not batch:  # (unconnected sources too get zeros, as in TensorFlow)
            return array_ops.zeros(shape, dtype=source.dtype)
        columns = [array_ops.zeros_like(source) if c is None else c for c in columns]
        stacked = array_ops.stack(columns, axis=1)
        return array_ops.reshape(stacked, shape)

    @staticmethod
    def _unit(target, index: int) -> Tensor:
        size = _size(target.shape)
        return array_ops.reshape(array_ops.one_hot(index, size, dtype=target.dtype), target.shape)


class _StopRecording:
    def __init__(self, tape: GradientTape):
        self._tape = tape

    def __enter__(self):
        if not self._tape._recording:
            raise ValueError("Tape is not recording.")
        self._tape._pop()

    def __exit__(self, exc_type, exc, tb):
        self._tape._push()
        return False
