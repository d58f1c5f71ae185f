"""The Metric base class: a streaming statistic kept in non-trainable variables."""
from __future__ import annotations

from typing import Optional

from tensorweave.framework.context import init_scope
from tensorweave.framework.variables import Variable as _TFVariable
from tensorweave.keras.engine import dtype_policy
from tensorweave.keras.engine.naming import to_snake_case, unique_name
from tensorweave.keras.engine.variable import Variable, path_scope
from tensorweave.ops import array_ops


class Metric:
    """Subclasses create state with `add_variable` in `__init__` (or lazily), update it in
    `update_state`, and compute the value in `result`. Calling a metric updates it and returns
    the result; `reset_state` zeroes every variable."""

    _keras_module = "keras.metrics"

    def __init__(self, dtype=None, name: Optional[str] = None):
        self.name = name or unique_name(to_snake_case(type(self).__name__))
        self._dtype_policy = dtype_policy.get(dtype)
        self._dtype = self._dtype_policy.compute_dtype
        self._metrics: list = []
        self._variables: list = []

    def __setattr__(self, name, value):
        # variables and metrics set as attributes are this metric's state (Keras's tracking)
        if "_variables" in self.__dict__:
            if isinstance(value, _TFVariable) and not any(v is value for v in self._variables):
                self._variables.append(value)
            elif isinstance(value, Metric) and not any(m is value for m in self._metrics):
                self._metrics.append(value)
        object.__setattr__(self, name, value)

    def _check_super_called(self) -> None:
        if "_variables" not in self.__dict__:
            raise RuntimeError("You forgot to call `super().__init__()` in the `__init__()` "
                               "method. Go add it!")

    @property
    def dtype(self) -> str:
        return self._dtype

    def add_variable(self, shape, initializer, dtype=None, aggregation="sum",
                     name: Optional[str] = None) -> Variable:
        """A non-trainable state variable of this metric."""
        from tensorweave.keras import initializers
        self._check_super_called()
        initializer = initializers.get(initializer if initializer is not None else "zeros")
        path_scope.names.append(self.name.replace("/", ">"))
        try:
            with init_scope():
                variable = Variable(initializer, shape=tuple(shape), dtype=dtype or self._dtype,
                                    trainable=False, aggregation=aggregation,
                                    synchronization="on_read", name=name)
        finally:
            path_scope.names.pop()
        if not any(v is variable for v in self._variables):
            self._variables.append(variable)
        return variable

    def add_weight(self, shape=(), initializer=None, dtype=None, name: Optional[str] = None):
        return self.add_variable(shape=shape, initializer=initializer, dtype=dtype, name=name)

    @property
    def variables(self) -> list:
        out = list(self._variables)
        for metric in self._metrics:
            out.extend(metric.variables)
        return out

    def reset_state(self) -> None:
        for v in self.variables:
            v.assign(array_ops.zeros(v.shape, dtype=v.dtype))

    def reset_states(self) -> None:
        """TensorFlow 2's name of `reset_state`."""
        self.reset_state()

    def update_state(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must implement update_state()")

    def result(self):
        raise NotImplementedError(f"{type(self).__name__} must implement result()")

    def __call__(self, *args, **kwargs):
        self._check_super_called()
        self.update_state(*args, **kwargs)
        result = self.result()
        # lets Layer.add_metric recognise the result of a metric the layer already reports
        object.__setattr__(self, "_last_result", result)
        return result

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"

    __str__ = __repr__
