"""DTypePolicy: the dtype a layer computes in and the dtype of its weights."""
from __future__ import annotations

from tensorweave.framework import dtypes
from tensorweave.keras.engine import backend_config


class DTypePolicy:
    """`"float32"`, `"float64"`…, or `"mixed_float16"` / `"mixed_bfloat16"` (float32 weights)."""

    _keras_module = "keras"

    def __init__(self, name=None):
        name = backend_config.floatx() if name is None else str(getattr(name, "name", name))
        if name.startswith("mixed_"):
            compute, variable = name[len("mixed_"):], "float32"
        else:
            compute = variable = name
        for dtype in (compute, variable):
            try:
                dtypes.as_dtype(dtype)
            except (TypeError, ValueError):
                raise ValueError(f"Cannot convert '{name}' to a mixed precision DTypePolicy. Valid "
                                 "policies include 'mixed_float16', 'mixed_bfloat16', and the name "
                                 "of any float dtype such as 'float32'.") from None
        self._name = name
        self._compute_dtype = compute
        self._variable_dtype = variable

    name = property(lambda self: self._name)
    compute_dtype = property(lambda self: self._compute_dtype)
    variable_dtype = property(lambda self: self._variable_dtype)

    def __repr__(self):
        return f'<DTypePolicy "{self._name}">'

    def __eq__(self, other):
        return isinstance(other, DTypePolicy) and other._name == self._name

    def __hash__(self):
        return hash(self._name)

    def get_config(self) -> dict:
        return {"name": self._name}

    @classmethod
    def from_config(cls, config: dict) -> "DTypePolicy":
        return cls(**config)


def get(identifier) -> DTypePolicy:
    """A policy from None (floatx), a name, a DType, a policy, or its serialized config."""
    if isinstance(identifier, DTypePolicy):
        return identifier
    if isinstance(identifier, dict):
        return DTypePolicy(identifier.get("config", identifier).get("name"))
    return DTypePolicy(identifier)
