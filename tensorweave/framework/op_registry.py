"""The op registry: every primitive op declared once, with forward, gradient and abstract evaluation.

    forward(*arrays, **attrs) -> array | tuple of arrays       NumPy in, NumPy out
    grad(op, dy) -> gradient per input (None where none)        written with tensorweave ops
    abstract(*specs, **attrs) -> TensorSpec | tuple of specs    dtype and shape without data

`op` in a gradient is the `OpRecord` of the call: `op.inputs`, `op.outputs`, `op.attrs`, and
`op.needs_gradient(i)`, false for an input no source depends on (its gradient may be None).
`dy` is the output's gradient (a tuple, zeros filled in, for ops with several outputs).
A primitive with `grad=None` is not differentiable: tapes do not record it and its outputs carry
no gradient (argmax, comparisons, shape...).
"""
from __future__ import annotations

from typing import Callable, Optional

import numpy as np

from tensorweave.framework import dtypes
from tensorweave.framework.context import state
from tensorweave.framework.errors import InvalidArgumentError, OpError, op_error
from tensorweave.framework.tensor import Tensor

_NP_TO_DTYPE = dtypes.NP_TO_DTYPE
REGISTRY: dict = {}


class Primitive:
    """One primitive op: its TensorFlow name and its three definitions."""

    __slots__ = ("name", "forward", "grad", "abstract", "multi_output", "stateful")

    def __init__(self, name: str, forward: Callable, grad: Optional[Callable] = None,
                 abstract: Optional[Callable] = None, multi_output: bool = False,
                 stateful: bool = False):
        self.name = name
        self.forward = forward
        self.grad = grad
        self.abstract = abstract
        self.multi_output = multi_output
        self.stateful = stateful

    def __repr__(self):
        return f"<Primitive {self.name}>"


def primitive(name: str, forward: Callable, grad: Optional[Callable] = None,
              abstract: Optional[Callable] = None, multi_output: bool = False,
              stateful: bool = False) -> Primitive:
    """Declares and registers a primitive op under its TensorFlow op name.

    A `multi_output` primitive's forward returns a tuple of arrays (unstack, split, top_k...).
    A `stateful` primitive's output is not a function of its inputs (random ops drawing from a
    stream): graph passes must neither fold nor merge it.
    """
    if name in REGISTRY:
        raise ValueError(f"Primitive {name} is already registered")
    prim = Primitive(name, forward, grad, abstract, multi_output, stateful)
    REGISTRY[name] = prim
    return prim


class OpRecord:
    """One recorded op call, as a gradient function sees it."""

    __slots__ = ("prim", "inputs", "outputs", "attrs", "needs")

    def __init__(self, prim: Primitive, inputs: tuple, outputs: tuple, attrs: dict):
        self.prim = prim
        self.inputs = inputs
        self.outputs = outputs
        self.attrs = attrs
        self.needs = None  # set by the tape before calling the gradient: which inputs it wants

    def get_attr(self, name: str):
        return self.attrs[name]

    def needs_gradient(self, index: int) -> bool:
        """Whether the gradient for input `index` is wanted; a gradient may skip the others."""
        return self.needs is None or self.needs[index]


def _wrap(value) -> Tensor:
    dtype = _NP_TO_DTYPE.get(value.dtype)
    if dtype is None:
        dtype = dtypes.from_numpy(value.dtype)
    return Tensor(value, dtype)


def _message(exc: Exception, inputs) -> str:
    """TensorFlow's wording for a NumPy failure inside a forward, with the inputs described."""
    if "could not be broadcast" in str(exc):
        shapes = " vs. ".join(str(list(np.shape(t._value))) for t in inputs)
        return f"Incompatible shapes: {shapes}"
    described = ", ".join(f"{t._dtype.name}{list(np.shape(t._value))}" for t in inputs)
    return f"{exc} (inputs: {described})"


def execute(prim: Primitive, inputs: tuple, attrs: Optional[dict] = None):
    """Runs `prim` on tensors: eagerly now, or as a graph node while a graph is being built.

    Returns a Tensor, or a tuple of Tensors for a primitive with several outputs.
    """
    if state.graph is not None:
        return state.graph.add_op(prim, inputs, attrs or {})
    try:
        if attrs:
            out = prim.forward(*[t._value for t in inputs], **attrs)
        else:
            out = prim.forward(*[t._value for t in inputs])
    except OpError:
        raise
    except (ValueError, IndexError, TypeError, np.linalg.LinAlgError) as exc:
        raise op_error(InvalidArgumentError, prim.name, _message(exc, inputs)) from None
    if prim.multi_output:
        result = outputs = tuple([_wrap(o) for o in out])
    else:
        result = _wrap(out)
        outputs = (result,)
    if state.tapes:
        record = OpRecord(prim, inputs, outputs, attrs or {})
        for tape in state.tapes:
            tape._record(record)
    return result


def record(prim: Primitive, inputs: tuple, outputs: tuple, attrs: dict) -> None:
    """Records an op whose outputs were computed elsewhere (custom gradients, aliases)."""
    if state.tapes:
        rec = OpRecord(prim, inputs, outputs, attrs)
        for tape in state.tapes:
            tape._record(rec)


def abstract_eval(prim: Primitive, specs: tuple, attrs: Optional[dict] = None):
    """The output TensorSpec(s) of `prim` on inputs described only by shape and dtype."""
    if prim.abstract is None:
        raise NotImplementedError(f"{prim.name} has no abstract evaluation")
    return prim.abstract(*specs, **(attrs or {}))
