"""tf.py_function and tf.numpy_function: Python functions run as ops.

Both are stateful primitives whose forward calls the Python function: eagerly it runs at once; in a
tf.function it runs each time the compiled graph runs, where its outputs have unknown shapes and
the dtypes of `Tout`.

py_function (EagerPyFunc) hands the function eager tensors. It is differentiable (once), as in
TensorFlow: when a tape may want its gradient (a tape is recording when it runs, or it was traced
under a tape inside a tf.function), the function runs under a private persistent tape watching its
floating inputs; the gradient is another EagerPyFunc that asks that tape for the gradient of the
outputs with respect to the inputs. The tape of the latest run is kept in a box that is an attr
of the op, so each eager call and each graph node has its own.

numpy_function (PyFunc / PyFuncStateless) hands it NumPy arrays and is not differentiable. As in
TensorFlow, called eagerly it just calls the function and converts what it returns; in a graph,
the values it returns must have exactly the dtypes of `Tout`.

An exception raised by the function reaches the caller as TensorFlow maps it: ValueError and
TypeError as InvalidArgumentError, StopIteration as OutOfRangeError, NotImplementedError as
UnimplementedError, MemoryError as ResourceExhaustedError, anything else as UnknownError (the
original exception is the error's __cause__).
"""
from __future__ import annotations

import functools
import itertools
import traceback

import numpy as np

from tensorweave.framework import dtypes
from tensorweave.framework.context import state, tapes_paused
from tensorweave.framework.convert import convert_to_tensor, tensor_of
from tensorweave.framework.errors import (
    InvalidArgumentError, OpError, OutOfRangeError, ResourceExhaustedError, UnimplementedError,
    UnknownError, op_error)
from tensorweave.framework.op_registry import execute, primitive
from tensorweave.framework.tensor_spec import TensorSpec
from tensorweave.framework.variables import Variable

_tokens = itertools.count()

# the name TensorFlow's runtime gives each dtype in its messages
_RUNTIME_NAMES = {"float32": "float", "float64": "double", "float16": "half"}


def _error_class(exc: BaseException) -> type:
    if isinstance(exc, (ValueError, TypeError)):
        return InvalidArgumentError
    if isinstance(exc, StopIteration):
        return OutOfRangeError
    if isinstance(exc, NotImplementedError):
        return UnimplementedError
    if isinstance(exc, MemoryError):
        return ResourceExhaustedError
    return UnknownError


def _op_failure(exc: Exception, op_name: str) -> OpError:
    """The error an exception raised while running a Python function op becomes."""
    trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    error = op_error(_error_class(exc), op_name, f"{type(exc).__name__}: {exc}\n{trace}")
    error.__cause__ = exc
    return error


def _differentiable(dtype) -> bool:
    return dtype.is_floating or dtype.is_complex


class _TapeBox:
    """Holds (tape, input tensors, output tensors) of the latest run of one py_function op."""

    __slots__ = ("entry",)

    def __init__(self):
        self.entry = None

    def __repr__(self):
        return "<py_function tape>"


def _dtype_list(Tout, api: str):
    """(list of DTypes, whether the caller gave a list) from a dtype or a list of them."""
    if Tout is None:
        raise TypeError(f"Missing required argument: 'Tout'\n  If using tf.{api} as a decorator, "
                        f"set `Tout`\n  **by name** above the function:\n  `@tf.{api}(Tout=tout)`")
    if isinstance(Tout, (list, tuple)):
        return [dtypes.as_dtype(t) for t in Tout], True
    return [dtypes.as_dtype(Tout)], False


def _decorator(api: str, call, Tout, name, **extra):
    def decorate(func):
        @functools.wraps(func)
        def wrapper(*args):
            return call(func, list(args), Tout, name=name, **extra)
        return wrapper
    return decorate


def _as_inputs(inp) -> list:
    if inp is None:
        return []
    if isinstance(inp, (list, tuple)):
        return list(inp)
    return list(inp)  # a tensor is iterated along its first dimension, as TensorFlow does


# -- py_function ---------------------------------------------------------------------------------
def _returned_values(ret, count: int, token: str, op_name: str, exact: bool) -> list:
    if isinstance(ret, (list, tuple)):
        values = list(ret)
    elif ret is None:
        values = []
    else:
        values = [ret]
    if len(values) < count or (exact and len(values) != count):
        raise op_error(InvalidArgumentError, op_name, f"{token} returns {len(values)} values, but "
                                                      f"expects to see {count} values.")
    return values[:count]


def _convert_output(value, dtype):
    if isinstance(value, Variable):
        raise RuntimeError(
            f"Attempting to return a variable from an eagerly executed py_func. Only numeric data "
            f"structures like Tensors or NumPy arrays should be returned; to return the value of "
            f"a variable, make sure to obtain the Tensor backing it by calling `.read_value()` on "
            f"the variable in question: {value!r}")
    return convert_to_tensor(value, dtype=dtype)


def _call_eagerly(func, args: list, Tout: tuple, token: str) -> list:
    ret = func(*args)
    values = _returned_values(ret, len(Tout), token, "EagerPyFunc", exact=False)
    return [_convert_output(v, d) for v, d in zip(values, Tout)]


def _eager_py_forward(*arrays, func, Tin, Tout, token, box, record, shapes=None):
    args = [tensor_of(np.asarray(a), d) for a, d in zip(arrays, Tin)]
    wanted = record or bool(state.tapes)  # a tape may ask for this run's gradient
    try:
        with tapes_paused():  # outer tapes see the op, not the Python code inside it
            if wanted:
                from tensorweave.autodiff.tape import GradientTape
                tape = GradientTape(persistent=True, watch_accessed_variables=False)
                with tape:
                    tape.watch([a for a in args if _differentiable(a.dtype)])
                    outputs = _call_eagerly(func, args, Tout, token)
                box.entry = (tape, args, outputs)
            else:
                outputs = _call_eagerly(func, args, Tout, token)
    except OpError as exc:
        if exc.message.endswith("[Op:EagerPyFunc]"):  # raised here, not by the function
            raise
        raise _op_failure(exc, "EagerPyFunc") from exc
    except Exception as exc:
        raise _op_failure(exc, "EagerPyFunc") from exc
    return tuple(o._value for o in outputs)


def _py_abstract(*specs, func, Tin, Tout, token, box, record, shapes=None):
    if shapes is None:
        return tuple(TensorSpec(None, d) for d in Tout)
    return tuple(TensorSpec(s, d) for s, d in zip(shapes, Tout))


def _py_grad(op, dy):
    box = op.attrs["box"]
    inputs = op.inputs
    wrt = [i for i, t in enumerate(inputs) if _differentiable(t.dtype)]
    if not wrt:
        return [None] * len(inputs)
    out_index = [j for j, t in enumerate(op.outputs) if _differentiable(t.dtype)]

    def gradient_of_run(*dys):
        entry = box.entry
        if entry is None:
            raise ValueError("The gradient of a tf.py_function was asked for, but no run of it "
                             "was recorded for differentiation.")
        tape, args, outputs = entry
        targets = [outputs[j] for j in out_index]
        sources = [args[i] for i in wrt]
        grads = tape.gradient(targets, sources, output_gradients=[dys[k] for k in
                                                                  range(len(out_index))])
        return [g if g is not None else tensor_of(np.zeros(np.shape(s._value),
                                                           s.dtype.as_numpy_dtype), s.dtype)
                for g, s in zip(grads, sources)]

    shapes = tuple(inputs[i].shape for i in wrt)
    grads = _run_py_function(gradient_of_run, [dy[j] for j in out_index],
                             [inputs[i].dtype for i in wrt], shapes)
    result = [None] * len(inputs)
    for i, g in zip(wrt, grads):
        result[i] = g
    return result


EAGER_PY_FUNC = primitive("EagerPyFunc", _eager_py_forward, _py_grad, _py_abstract,
                          multi_output=True, stateful=True)


def _run_py_function(func, inputs: list, Tout: list, shapes=None) -> tuple:
    tensors = tuple(convert_to_tensor(x) for x in inputs)
    attrs = {"func": func, "Tin": tuple(t.dtype for t in tensors), "Tout": tuple(Tout),
             "token": f"pyfunc_{next(_tokens)}", "box": _TapeBox(),
             "record": state.graph is not None and bool(state.tapes)}
    if shapes is not None:
        attrs["shapes"] = shapes
    return execute(EAGER_PY_FUNC, tensors, attrs)


def py_function(func=None, inp=None, Tout=None, name=None):
    """Wraps a Python function into an op that runs it eagerly, on eager tensors, even inside a
    tf.function; with `func=None`, a decorator (give `Tout` by name)."""
    if func is None:
        if inp is not None:
            raise TypeError("Don't set the `inp` argument when using tf.py_function as a "
                            "decorator (`func=None`).")
        _dtype_list(Tout, "py_function")
        return _decorator("py_function", py_function, Tout, name)
    out_dtypes, listed = _dtype_list(Tout, "py_function")
    outputs = _run_py_function(func, _as_inputs(inp), out_dtypes)
    if listed:
        return list(outputs)
    return outputs[0]


# -- numpy_function ------------------------------------------------------------------------------
def _runtime_name(dtype) -> str:
    return _RUNTIME_NAMES.get(dtype.name, dtype.name)


def _string_array(array: np.ndarray) -> np.ndarray:
    flat = [s.encode("utf-8") if isinstance(s, str) else bytes(s) for s in array.reshape(-1)]
    out = np.empty(len(flat), dtype=object)
    out[:] = flat
    return out.reshape(array.shape)


def _numpy_output(value, dtype, index: int, token: str, op_name: str):
    array = np.asarray(value)
    kind = array.dtype.kind
    got = dtypes.string if kind in "OSU" else dtypes.as_dtype(array.dtype)
    if got == dtype:
        if kind in "OSU":
            return _string_array(array)
        return array[()] if array.ndim == 0 else array
    raise op_error(InvalidArgumentError, op_name,
                   f"{index}-th value returned by {token} is {_runtime_name(got)}, but expects "
                   f"{_runtime_name(dtype)}")


def _numpy_forward(*arrays, func, Tout, token, op_name):
    args = [np.asarray(a) for a in arrays]
    try:
        ret = func(*args)
    except Exception as exc:
        raise _op_failure(exc, op_name) from exc
    values = _returned_values(ret, len(Tout), token, op_name, exact=True)
    return tuple(_numpy_output(v, d, i, token, op_name) for i, (v, d) in
                 enumerate(zip(values, Tout)))


def _numpy_abstract(*specs, func, Tout, token, op_name):
    return tuple(TensorSpec(None, d) for d in Tout)


# Both are stateful here: the Python function is never run while tracing, nor merged or pruned.
PY_FUNC = primitive("PyFunc", _numpy_forward, None, _numpy_abstract, multi_output=True,
                    stateful=True)
PY_FUNC_STATELESS = primitive("PyFuncStateless", _numpy_forward, None, _numpy_abstract,
                              multi_output=True, stateful=True)


def _eager_numpy_result(ret):
    if ret is None:
        return None
    if isinstance(ret, (list, tuple)):
        converted = [None if v is None else convert_to_tensor(v) for v in ret]
        return converted[0] if len(converted) == 1 else converted
    return convert_to_tensor(ret)


def numpy_function(func=None, inp=None, Tout=None, stateful=True, name=None):
    """Wraps a Python function taking and returning NumPy arrays into an op (not
    differentiable); with `func=None`, a decorator (give `Tout` by name)."""
    if func is None:
        if inp is not None:
            raise TypeError("Don't set the `inp` argument when using tf.numpy_function as a "
                            "decorator (`func=None`).")
        _dtype_list(Tout, "numpy_function")
        return _decorator("numpy_function", numpy_function, Tout, name, stateful=stateful)
    out_dtypes, listed = _dtype_list(Tout, "numpy_function")
    inputs = _as_inputs(inp)
    if state.graph is None:  # eagerly, TensorFlow just calls the function
        return _eager_numpy_result(func(*[np.array(x) for x in inputs]))
    prim = PY_FUNC if stateful else PY_FUNC_STATELESS
    tensors = tuple(convert_to_tensor(x) for x in inputs)
    outputs = execute(prim, tensors, {"func": func, "Tout": tuple(out_dtypes),
                                      "token": f"pyfunc_{next(_tokens)}", "op_name": prim.name})
    if listed:
        return list(outputs)
    return outputs[0]
