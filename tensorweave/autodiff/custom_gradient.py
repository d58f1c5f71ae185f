"""tf.custom_gradient: a function whose gradient is given, not derived from its ops."""
from __future__ import annotations

import functools
import inspect

from tensorweave.framework.context import state, tapes_paused
from tensorweave.framework.convert import convert_to_tensor
from tensorweave.framework.op_registry import Primitive, record
from tensorweave.framework.tensor import Tensor
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
        raise ValueError(f"Must return gradient for each variable from @custom_gradient grad_fn "
                         f"({len(variables)} variables, {len(variable_grads)} gradients).")
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


def custom_gradient(f=None):
    """Decorator: `f(*x)` returns `(y, grad_fn)`; the tape uses `grad_fn(dy)` for dy/dx.

    If `f` reads variables, `grad_fn(dy, variables=...)` must return
    `(input_grads, variable_grads)`.
    """
    if f is None:
        return custom_gradient

    @functools.wraps(f)
    def decorated(*args, **kwargs):
        if not state.tapes:
            result, _ = f(*args, **kwargs)
            return result
        inputs = [convert_to_tensor(a) for a in args]
        accessed: list = []
        state.variable_watchers.append(accessed.append)
        try:
            with tapes_paused():
                result, grad_fn = f(*inputs, **kwargs)
        finally:
            state.variable_watchers.remove(accessed.append)
        variables = []
        for v in accessed:
            if v.trainable and all(v is not u for u in variables):
                variables.append(v)
        if variables and not _accepts_variables(grad_fn):
            raise TypeError("If using @custom_gradient with a function that uses variables, then "
                            "grad_fn must accept a keyword argument 'variables'.")
        flat = [Tensor(t._value, t._dtype) for t in
                (convert_to_tensor(r) for r in nest.flatten(result))]
        reads = [v._read() for v in variables]
        prim = CUSTOM_GRADIENT if len(flat) == 1 else CUSTOM_GRADIENT_MULTI
        record(prim, tuple(inputs + reads), tuple(flat),
               {"grad_fn": grad_fn, "num_args": len(inputs), "variables": variables})
        return nest.pack_sequence_as(result, flat)

    return decorated
