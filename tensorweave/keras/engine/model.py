"""keras.Model: a layer with `layers`, `get_layer` and `summary`; `Model(inputs, outputs)` makes a
functional model, a subclass with `call` is a subclassed model."""
from __future__ import annotations

from typing import Optional

from tensorweave.keras.engine.layer import Layer
from tensorweave.keras.trainers.trainer import Trainer

_functional_variants: dict = {}


def _is_functional_call(args, kwargs) -> bool:
    return (len(args) == 2 or (len(args) == 1 and "outputs" in kwargs)
            or ("inputs" in kwargs and "outputs" in kwargs))


def _functional_variant(cls):
    """`cls` with Functional mixed in, for a subclass whose __init__ passes inputs/outputs."""
    from tensorweave.keras.engine.functional import Functional
    variant = _functional_variants.get(cls)
    if variant is None:
        variant = _functional_variants[cls] = type(cls.__name__, (cls, Functional),
                                                   {"__module__": cls.__module__})
    return variant


class Model(Trainer, Layer):
    """Groups layers into an object with training and inference features."""

    _keras_module = "keras"

    def __new__(cls, *args, **kwargs):
        from tensorweave.keras.engine.functional import Functional
        if cls is Model and _is_functional_call(args, kwargs):
            cls = Functional
        return super().__new__(cls, *args, **kwargs)

    def __init__(self, *args, **kwargs):
        from tensorweave.keras.engine.functional import Functional
        if _is_functional_call(args, kwargs) and not isinstance(self, Functional):
            object.__setattr__(self, "__class__", _functional_variant(type(self)))
            Functional.__init__(self, *args, **kwargs)
            return
        if args:
            raise TypeError(f"Model.__init__() takes keyword arguments only (or inputs and "
                            f"outputs); got positional arguments {args}")
        super().__init__(**kwargs)

    # -- structure ------------------------------------------------------------------------------
    @property
    def layers(self) -> list:
        return self._flatten_layers(include_self=False, recursive=False)

    def get_layer(self, name: Optional[str] = None, index: Optional[int] = None):
        """The layer called `name`, or at position `index` of `layers`."""
        if index is not None and name is not None:
            raise ValueError(f"Provide only a layer name or a layer index. Received: "
                             f"index={index}, name={name}.")
        layers = self.layers
        if index is not None:
            if not -len(layers) <= index < len(layers):
                raise ValueError(f"Was asked to retrieve layer at index {index} but model only "
                                 f"has {len(layers)} layers.")
            return layers[index]
        if name is not None:
            for layer in layers:
                if layer.name == name:
                    return layer
            raise ValueError(f"No such layer: {name}. Existing layers are: "
                             f"{[layer.name for layer in layers]}.")
        raise ValueError("Provide either a layer name or layer index at `get_layer`.")

    def build(self, input_shape=None) -> None:
        """Builds a subclassed model by calling it on symbolic inputs of `input_shape`."""
        from tensorweave.keras.engine import symbolic
        from tensorweave.keras.engine.keras_tensor import KerasTensor
        if input_shape is None:
            raise ValueError("You must provide an `input_shape` argument.")
        if isinstance(input_shape, list) and input_shape and all(
                d is None or isinstance(d, int) for d in input_shape):
            input_shape = tuple(input_shape)
        inputs = symbolic._map_shapes(input_shape,
                                      lambda shape: KerasTensor(shape, self.compute_dtype))
        with self._path_scope():
            symbolic._trace(self, (inputs,), {})
        self._build_shapes = input_shape
        self.built = True

    build._builds_by_calling = True

    def summary(self, line_length: Optional[int] = None, positions=None, print_fn=None,
                expand_nested: bool = False, show_trainable: bool = False,
                layer_range=None) -> None:
        """Prints Keras's table of the layers, output shapes and parameter counts."""
        from tensorweave.keras.engine import summary
        summary.print_summary(self, line_length=line_length, positions=positions,
                              print_fn=print_fn, expand_nested=expand_nested,
                              show_trainable=show_trainable, layer_range=layer_range)

    # -- config ---------------------------------------------------------------------------------
    def get_build_config(self) -> Optional[dict]:
        shapes = getattr(self, "_build_shapes_dict", None)
        if not shapes and self.built and self._build_shapes is not None:
            return {"input_shape": self._build_shapes}
        return super().get_build_config()

    def build_from_config(self, config: dict) -> None:
        """Builds from the saved input shape. A `build` of the user's that does not make every
        sub-layer's weights (seed 002's ReconstructingRegressor) is followed by a symbolic call,
        as the first real call would do."""
        super().build_from_config(config)
        shape = (config or {}).get("input_shape")
        if shape is not None and type(self).build is not Model.build and any(
                not layer.built for layer in self._flatten_layers(include_self=False)):
            Model.build(self, shape)

    @classmethod
    def from_config(cls, config: dict, custom_objects=None):
        """A functional config (layers, input_layers, output_layers) rebuilds the graph when
        `cls` can take `inputs` and `outputs`; any other config goes to `cls(**config)`."""
        from tensorweave.keras.engine import functional
        is_functional = all(k in config for k in ("name", "layers", "input_layers",
                                                 "output_layers"))
        if is_functional and (cls in (Model, functional.Functional)
                              or functional.functional_like_constructor(cls)):
            return functional.functional_from_config(cls, config, custom_objects)
        try:
            return Layer.from_config.__func__(cls, config)
        except TypeError as error:
            raise TypeError(
                "Unable to revive model from config. When overriding the `get_config()` method, "
                "make sure that the returned config contains all items used as arguments in "
                f"the constructor to {cls}, which is the default behavior. You can override "
                "this default behavior by defining a `from_config(cls, config)` class method "
                f"to specify how to create an instance of {cls.__name__} from its config.\n\n"
                f"Received config={config}\n\nError encountered during deserialization: "
                f"{error}") from None

    def to_json(self, **kwargs) -> str:
        """The model's serialized config as a JSON string (`keras.models.model_from_json`)."""
        import json

        from tensorweave.keras.saving.serialization import serialize_keras_object
        return json.dumps(serialize_keras_object(self), **kwargs)

    # -- files (the formats live in keras/saving/) -----------------------------------------------
    def save(self, filepath, overwrite: bool = True, zipped=None, **kwargs) -> None:
        """Writes the model (config, weights, optimizer state) as a `.keras` file."""
        from tensorweave.keras.saving import saving_api
        saving_api.save_model(self, filepath, overwrite=overwrite, zipped=zipped, **kwargs)

    def save_weights(self, filepath, overwrite: bool = True, **kwargs) -> None:
        """Writes the weights as a Keras `.weights.h5` file."""
        from tensorweave.keras.saving import saving_api
        saving_api.save_weights(self, filepath, overwrite=overwrite, **kwargs)

    def export(self, filepath, format: str = "tf_saved_model", verbose=None,
               input_signature=None, **kwargs):
        """Writes the inference graph for deployment: `format="onnx"` (needs `onnx`)."""
        from tensorweave.keras.export import export_model
        return export_model(self, filepath, format=format, verbose=verbose,
                            input_signature=input_signature, **kwargs)

    def load_weights(self, filepath, skip_mismatch: bool = False, **kwargs) -> None:
        """Reads weights written by `save_weights` (or by Keras)."""
        from tensorweave.keras.saving import saving_api
        saving_api.load_weights(self, filepath, skip_mismatch=skip_mismatch, **kwargs)
