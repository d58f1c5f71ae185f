"""keras.Sequential: a plain stack of layers, each with one input and one output."""
from __future__ import annotations

import inspect
from typing import Optional

from tensorweave.keras.engine.input_layer import InputLayer
from tensorweave.keras.engine.keras_tensor import is_keras_tensor, standardize_shape
from tensorweave.keras.engine.layer import Layer
from tensorweave.keras.engine.model import Model


def _required_positional(layer) -> list:
    params = inspect.signature(layer.call).parameters.values()
    return [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
            and p.default is inspect._empty]


class Sequential(Model):
    """`keras.Sequential([layers...])`: the output of each layer is the input of the next."""

    _keras_module = "keras"

    def __init__(self, layers=None, trainable: bool = True, name: Optional[str] = None,
                 **kwargs):
        super().__init__(trainable=trainable, name=name, **kwargs)
        object.__setattr__(self, "_functional", None)
        # the stack in order; a layer may appear several times (it is tracked once)
        object.__setattr__(self, "_stack", [])
        for layer in layers or ():
            self.add(layer, rebuild=False)
        self._maybe_rebuild()

    @property
    def layers(self) -> list:
        layers = list(self._stack)
        return layers[1:] if layers and isinstance(layers[0], InputLayer) else layers

    @property
    def _operations(self):  # what the summary lists
        return self.layers

    def add(self, layer, rebuild: bool = True) -> None:
        """Adds a layer (or a `keras.Input`) on top of the stack."""
        if is_keras_tensor(layer):
            layer = layer._keras_history.operation
        if not isinstance(layer, Layer):
            raise ValueError("Only instances of `keras.Layer` can be added to a Sequential model. "
                             f"Received: {layer} (of type {type(layer)})")
        if isinstance(layer, InputLayer):
            if self._stack:
                raise ValueError(f"Sequential model '{self.name}' has already been configured "
                                 "to use input shape "
                                 f"{getattr(self._stack[0], 'batch_shape', None)}. You cannot "
                                 "add a different Input layer to it." if isinstance(
                                     self._stack[0], InputLayer) else
                                 "An InputLayer can only be the first layer of a Sequential "
                                 "model.")
        else:
            required = _required_positional(layer)
            if len(required) > 1:
                raise ValueError(
                    "Layers added to a Sequential model can only have a single positional "
                    f"argument, the input tensor. Layer {type(layer).__name__} has multiple "
                    f"positional arguments: {required}. Use the functional API instead.")
        if any(layer.name == other.name and layer is not other for other in self._stack):
            raise ValueError("All layers added to a Sequential model should have unique names. "
                             f"Name '{layer.name}' is already the name of a layer in this model. "
                             "Update the `name` argument to pass a unique name.")
        self._stack.append(layer)
        self._track_value(layer)
        if rebuild:
            self._maybe_rebuild()
        else:
            self.built = False
            object.__setattr__(self, "_functional", None)

    def pop(self, rebuild: bool = True) -> Layer:
        """Removes and returns the last layer."""
        if not self.layers:
            raise TypeError("There are no layers in the model.")
        layer = self._stack.pop()
        if all(layer is not other for other in self._stack):
            self._untrack(layer)
        self.built = False
        object.__setattr__(self, "_functional", None)
        if rebuild:
            self._maybe_rebuild()
        return layer

    def _maybe_rebuild(self) -> None:
        self.built = False
        object.__setattr__(self, "_functional", None)
        if not self._stack:
            return
        first = self._stack[0]
        if isinstance(first, InputLayer):
            if len(self._stack) > 1:
                self.build(first.batch_shape)
        elif first._batch_input_shape is not None:
            self.build(first._batch_input_shape)

    def build(self, input_shape=None) -> None:
        """Connects the layers on a symbolic input of `input_shape` (batch dimension first)."""
        from tensorweave.keras.engine.functional import Functional
        if not self._stack:
            raise ValueError(f"Sequential model {self.name} cannot be built because it has no "
                             "layers. Call `model.add(layer)`.")
        if isinstance(self._stack[0], InputLayer):
            input_layer = self._stack[0]
        else:
            if input_shape is None:
                raise ValueError("You must provide an `input_shape` argument.")
            input_layer = InputLayer(batch_shape=standardize_shape(input_shape),
                                     dtype=self._stack[0].compute_dtype)
            self._stack.insert(0, input_layer)
            self._layers.insert(0, input_layer)
        x = input_layer._input_tensor
        with self._path_scope():
            for layer in self._stack[1:]:
                try:
                    x = layer(x)
                except NotImplementedError:
                    self.built = True
                    return
                except Exception as error:
                    error.add_note(f"While building Sequential model '{self.name}' on inputs "
                                   f"of shape {input_layer.batch_shape}, at layer "
                                   f"'{layer.name}'. Each layer of a Sequential model takes one "
                                   "input tensor and returns one; for other graphs use the "
                                   "functional API.")
                    raise
        object.__setattr__(self, "_functional", Functional(input_layer._input_tensor, x,
                                                           name=self.name + "_functional"))
        self._build_shapes = input_layer.batch_shape
        self.built = True

    def _maybe_build(self, first_arg, args: tuple = (), kwargs=None) -> None:
        if self.built:
            return
        shape = getattr(first_arg, "shape", None)
        if shape is None or (hasattr(shape, "rank") and shape.rank is None):
            self.built = True
            return
        try:
            self.build(tuple(shape.as_list()) if hasattr(shape, "as_list") else tuple(shape))
        except Exception:
            # Built from the first data: layers that cannot run on symbolic inputs are called
            # in order instead (tf.keras 2 behaviour); their errors surface in that call.
            if self._functional is None and isinstance(self._stack[0], InputLayer):
                self._untrack(self._stack.pop(0))
            self.built = True

    def call(self, inputs, training=None, mask=None):
        if self._functional is not None:
            return self._functional.call(inputs, training=training, mask=mask)
        outputs = inputs
        for layer in self.layers:
            outputs = layer(outputs)
        return outputs

    def _built_functional(self, what: str):
        if self._functional is None:
            raise AttributeError(f"Sequential model '{self.name}' has no defined {what} yet.")
        return self._functional

    @property
    def input(self):
        return self._built_functional("input").input

    @property
    def output(self):
        return self._built_functional("output").output

    @property
    def inputs(self) -> list:
        return self._built_functional("inputs").inputs

    @property
    def outputs(self) -> list:
        return self._built_functional("outputs").outputs

    def get_config(self) -> dict:
        from tensorweave.keras.saving.serialization import serialize_keras_object
        layers = [serialize_keras_object(layer) for layer in self._stack]
        return {"name": self.name, "trainable": self.trainable,
                "dtype": serialize_keras_object(self._dtype_policy), "layers": layers,
                "build_input_shape": None if self._build_shapes is None else
                list(self._build_shapes)}

    @classmethod
    def from_config(cls, config: dict, custom_objects=None):
        from tensorweave.keras.saving.serialization import deserialize_keras_object
        model = cls(name=config.get("name"), trainable=config.get("trainable", True))
        for layer_config in config.get("layers", []):
            model.add(deserialize_keras_object(layer_config, custom_objects=custom_objects),
                      rebuild=False)
        model._maybe_rebuild()
        if not model.built and config.get("build_input_shape"):
            model.build(tuple(config["build_input_shape"]))
        return model
