"""How tf.function sees its arguments: the trace key of a call and the specs a trace is built from.

TensorFlow's retracing rules: a tensor (or NumPy array) argument is described by its dtype and
shape, so calls with the same dtype and shape share a trace; any other Python value is part of the
key itself (a new value, a new trace); lists, tuples and dicts are keyed leaf by leaf; a variable is
keyed by identity; an object that cannot be hashed is keyed by identity.
"""
from __future__ import annotations

import numpy as np

from tensorweave.framework.convert import convert_to_tensor
from tensorweave.framework.tensor import Tensor
from tensorweave.framework.tensor_spec import TensorSpec
from tensorweave.framework.variables import Variable
from tensorweave.util import nest

_SCALARS = (int, float, bool, str, bytes, complex, type(None))


def is_tensor_argument(value) -> bool:
    """Whether an argument leaf becomes a graph input (a placeholder) when traced."""
    return isinstance(value, (Tensor, np.ndarray, np.generic)) and not isinstance(value, Variable)


def leaf_key(value):
    """The part of the trace key one argument leaf contributes."""
    kind = type(value)
    if kind is Tensor:
        return (value._dtype, value._value.shape)
    if kind in (int, float, bool):
        return ("number", value)  # equal numbers (1, 1.0, True) share a trace, as in TensorFlow
    if kind in _SCALARS:
        return (kind, value)
    if isinstance(value, (np.ndarray, np.generic)):
        return (convert_to_tensor(value)._dtype, np.shape(value))
    if isinstance(value, Tensor):
        return (value._dtype, tuple(value.shape.as_list()))
    if isinstance(value, TensorSpec):
        return (value.dtype, tuple(value.shape.as_list()) if value.shape.rank is not None
                else None)
    if isinstance(value, Variable):
        return ("variable", value._id)
    if isinstance(value, (list, tuple)):
        return (kind, tuple(leaf_key(v) for v in value))
    if isinstance(value, dict):
        return (kind, tuple((k, leaf_key(value[k])) for k in sorted(value)))
    try:
        hash(value)
    except TypeError:
        return ("id", id(value))
    return (kind, value)


def spec_of(value) -> TensorSpec:
    """The TensorSpec a tensor argument is traced with."""
    if isinstance(value, TensorSpec):
        return value
    if not isinstance(value, Tensor):
        value = convert_to_tensor(value)
    return TensorSpec(value.shape, value.dtype)


def relaxed(spec: TensorSpec, other: TensorSpec) -> TensorSpec:
    """The most specific spec both fit (dims that differ become unknown), for reduce_retracing."""
    return TensorSpec(spec.shape.most_specific_compatible_shape(other.shape), spec.dtype)


def structure_specs(structure):
    """`structure` with each tensor leaf replaced by its TensorSpec (other leaves as they are)."""
    leaves = nest.flatten(structure)
    return nest.pack_sequence_as(
        structure, [spec_of(v) if is_tensor_argument(v) or isinstance(v, TensorSpec) else v
                    for v in leaves])


def spec_text(value) -> str:
    """How a traced argument is described in signatures and errors."""
    return repr(value) if isinstance(value, TensorSpec) else f"Literal[{value!r}]"


def convert_argument(value, spec: TensorSpec = None) -> Tensor:
    """A tensor argument leaf (tensor, NumPy array or Python value) as a Tensor."""
    if isinstance(value, Tensor):
        return value
    return convert_to_tensor(value, dtype_hint=None if spec is None else spec.dtype)
