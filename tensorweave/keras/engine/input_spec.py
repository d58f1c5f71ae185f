"""InputSpec: what a layer accepts (rank, dtype, fixed axes); checked on every call."""
from __future__ import annotations

from typing import Optional

from tensorweave.keras.engine.keras_tensor import shape_tuple
from tensorweave.util import nest


class InputSpec:
    """The rank, dtype and shape a layer's input must have (`keras.InputSpec`)."""

    def __init__(self, dtype=None, shape=None, ndim: Optional[int] = None,
                 max_ndim: Optional[int] = None, min_ndim: Optional[int] = None,
                 axes: Optional[dict] = None, allow_last_axis_squeeze: bool = False,
                 name: Optional[str] = None, optional: bool = False):
        self.dtype = None if dtype is None else str(getattr(dtype, "name", dtype))
        self.shape = None if shape is None else tuple(shape)
        self.ndim = len(self.shape) if self.shape is not None else ndim
        self.max_ndim = max_ndim
        self.min_ndim = min_ndim
        self.name = name
        self.optional = optional
        self.allow_last_axis_squeeze = allow_last_axis_squeeze
        self.axes = {int(k): v for k, v in (axes or {}).items()}
        if self.axes and (self.ndim is not None or self.max_ndim is not None):
            top = (self.ndim if self.ndim is not None else self.max_ndim) - 1
            if max(self.axes) > top:
                raise ValueError(f"Axis {max(self.axes)} is greater than the maximum allowed "
                                 f"value: {top}")

    def __repr__(self):
        parts = [f"{k}={v}" for k, v in (("dtype", self.dtype), ("shape", self.shape),
                                           ("ndim", self.ndim), ("max_ndim", self.max_ndim),
                                           ("min_ndim", self.min_ndim),
                                           ("axes", self.axes or None)) if v is not None]
        return f"InputSpec({', '.join(parts)})"

    def get_config(self) -> dict:
        return {"dtype": self.dtype, "shape": self.shape, "ndim": self.ndim,
                "max_ndim": self.max_ndim, "min_ndim": self.min_ndim, "axes": self.axes,
                "optional": self.optional}

    @classmethod
    def from_config(cls, config: dict) -> "InputSpec":
        return cls(**config)


def assert_input_compatibility(input_spec, inputs, layer_name: str) -> None:
    """Raises ValueError naming the layer, the input and both shapes when `inputs` do not fit."""
    if not input_spec:
        return
    specs = nest.flatten(input_spec)
    flat = nest.flatten(inputs)
    if len(flat) != len(specs):
        raise ValueError(f'Layer "{layer_name}" expects {len(specs)} input(s), but it received '
                         f"{len(flat)} input tensors. Inputs received: {inputs}")
    for index, (x, spec) in enumerate(zip(flat, specs)):
        if spec is None:
            continue
        shape = shape_tuple(x) if hasattr(x, "shape") else None
        if shape is None:
            continue
        head = f'Input {index} of layer "{layer_name}" is incompatible with the layer:'
        ndim = len(shape)
        if spec.ndim is not None and not spec.allow_last_axis_squeeze and ndim != spec.ndim:
            raise ValueError(f"{head} expected ndim={spec.ndim}, found ndim={ndim}. Full shape "
                             f"received: {shape}")
        if spec.max_ndim is not None and ndim > spec.max_ndim:
            raise ValueError(f"{head} expected max_ndim={spec.max_ndim}, found ndim={ndim}")
        if spec.min_ndim is not None and ndim < spec.min_ndim:
            raise ValueError(f"{head} expected min_ndim={spec.min_ndim}, found ndim={ndim}. Full "
                             f"shape received: {shape}")
        if spec.dtype is not None:
            dtype = str(getattr(getattr(x, "dtype", None), "name", getattr(x, "dtype", None)))
            if dtype != spec.dtype:
                raise ValueError(f"{head} expected dtype={spec.dtype}, found dtype={dtype}")
        for axis, value in spec.axes.items():
            if value is None:
                continue
            if axis >= ndim or axis < -ndim:
                raise ValueError(f"{head} expected axis {axis} of input shape to exist, but "
                                 f"received input with shape {shape}")
            allowed = value if isinstance(value, (list, tuple)) else (value,)
            if shape[axis] is not None and shape[axis] not in allowed:
                raise ValueError(f"{head} expected axis {axis} of input shape to have value "
                                 f"{value}, but received input with shape {shape}")
        if spec.shape is not None:
            expected = spec.shape
            got = shape
            if spec.allow_last_axis_squeeze:
                got = got[:-1] if got and got[-1] == 1 else got
                expected = expected[:-1] if expected and expected[-1] == 1 else expected
            if len(got) != len(expected) or any(
                    e is not None and g is not None and e != g for e, g in zip(expected, got)):
                raise ValueError(f"{head} expected shape={spec.shape}, found shape={shape}")
