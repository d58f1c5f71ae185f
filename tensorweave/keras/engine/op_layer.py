"""The layers that operators and indexing on KerasTensors add to a functional graph."""
from __future__ import annotations

from tensorweave.keras.engine.layer import Layer


class OpLayer(Layer):
    """Applies one operator to its arguments (tensors and constants)."""

    def __init__(self, fn, **kwargs):
        super().__init__(**kwargs)
        self._fn = fn
        self.built = True

    def call(self, *args):
        return self._fn(*args)

    def get_config(self) -> dict:
        raise NotImplementedError(f"The operator layer '{self.name}' cannot be serialized: wrap "
                                  "the computation in a `keras.layers.Lambda` or a layer instead.")


_classes: dict = {}


def op_layer(op_name: str, fn) -> OpLayer:
    """A new layer of class `op_name` (Add, GetItem...) computing `fn`."""
    cls = _classes.get(op_name)
    if cls is None:
        cls = _classes[op_name] = type(op_name, (OpLayer,), {"__module__": __name__})
    return cls(fn)
