"""tf.custom_gradient: a function whose gradient is given, not derived from its ops."""
from __future__ import annotations

import functools
import inspect

from tensorweave.framework.context import state, tapes_paused
from tensorweave.framework.convert import convert_to_tensor
from tensorweave.framework.op_registry import Primitive, record
from tensorweave.framework.tensor import Tensor
from tensorweave.ops import array_ops
from tensorweave.util import nest


def _custom_grad(op, dy):
    """Calls the user's gradient function kept in the record's attrs."""
    grad_fn = op.attrs["grad_fn"]
    num_args = op.attrs["num_args"]
    variables = op.attrs["variables"]
    dys = dy if isinstance(dy, tuple) else (dy,)
    if variables:
        input_grads, variable_grads = grad_fn(*dys, variables=variables)
    else:
        input_grads, variable_grads = grad_fn(*dys), []
    input_grads = list(nest.flatten(input_grads))
    if len(input_grads) != num_args:
        raise ValueError(f"custom_gradient function expected to return {num_args} gradients, but "
                         f"returned {len(input_grads)} instead.")
    variable_grads = list(variable_grads)
    if len(variable_grads) != len(variables):
        raise ValueError("Must return gradient for each variable from @custom_gradient grad_fn.")
    return tuple(None if g is None else convert_to_tensor(g) for g in input_grads + variable_grads)


# Not registered: it is the same generic node for every decorated function.
CUSTOM_GRADIENT = Primitive("CustomGradient", None, _custom_grad)
CUSTOM_GRADIENT_MULTI = Primitive("CustomGradient", None, _custom_grad, multi_output=True)


def _accepts_variables(grad_fn) -> bool:
    try:
        params = inspect.signature(grad_fn).parameters
    except (TypeError, ValueError):
        return True
    return "variables" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def _call(f, args, kwargs):
    """Runs `f` as TensorFlow's eager custom_gradient does: the gradient of its outputs comes
    from `grad_fn`, for every tensor in `args` (nested structures are flattened) and every
    variable `f` reads that is not an argument."""
    if not state.tapes:
        result, _ = f(*args, **kwargs)
        return result
    accessed: list = []
    state.variable_watchers.append(accessed.append)
    try:
        with tapes_paused():
            result, grad_fn = f(*args, **kwargs)
    finally:
        state.variable_watchers.remove(accessed.append)
    flat_args = nest.flatten(args)
    given = flat_args + nest.flatten(kwargs)
    variables = []
    for v in accessed:
        if v.trainable and all(v is not u for u in variables) and all(v is not a for a in given):
            variables.append(v)
    variables.sort(key=lambda v: v._id)  # one fixed order: creation
    if variables and not _accepts_variables(grad_fn):
        raise TypeError(f"@tf.custom_gradient grad_fn must accept keyword argument "
                        f"'variables', since function uses variables: {variables}")
    inputs = [convert_to_tensor(a) for a in flat_args]
    flat = [convert_to_tensor(r) for r in nest.flatten(result)]
    if state.graph is None:  # new tensors: the tape maps their gradient to grad_fn, not f's ops
        flat = [Tensor(t._value, t._dtype) for t in flat]
    else:
        with tapes_paused():
            flat = [array_ops.identity(t) for t in flat]
    reads = [v._read() for v in variables]
    prim = CUSTOM_GRADIENT if len(flat) == 1 else CUSTOM_GRADIENT_MULTI
    record(prim, tuple(inputs + reads), tuple(flat),
           {"grad_fn": grad_fn, "num_args": len(inputs), "variables": variables})
    return nest.pack_sequence_as(result, flat)


class _CustomGradientFunction:
    """What @custom_gradient returns: callable, and bound like a function when it is a method."""

    def __init__(self, f):
        self._f = f
        functools.update_wrapper(self, f)

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        return _CustomGradientFunction(self._f.__get__(instance, owner))

    def __call__(self, *args, **kwargs):
        return _call(self._f, args, kwargs)


def custom_gradient(f=None):
    """Decorator: `f(*x)` returns `(y, grad_fn)`; the tape uses `grad_fn(dy)` for dy/dx.

    If `f` reads variables, `grad_fn(dy, variables=...)` must return
    `(input_grads, variable_grads)`.
    """
    if f is None:
        return custom_gradient
    return _CustomGradientFunction(f)


def recompute_grad(f):
    """tf.recompute_grad: `f` with the same values and gradients (tensorweave keeps no memory
    to save by recomputing, so it runs `f` as it is)."""
    @functools.wraps(f)
    def recomputed(*args, **kwargs):
        return f(*args, **kwargs)
    return recomputed
