"""keras.models.clone_model: the same architecture with new layers (and new weights)."""
from __future__ import annotations

from typing import Callable, Optional

from tensorweave.keras.engine.functional import Functional, functional_like_constructor
from tensorweave.keras.engine.input_layer import Input, InputLayer
from tensorweave.keras.engine.keras_tensor import is_keras_tensor
from tensorweave.keras.engine.sequential import Sequential
from tensorweave.keras.saving import serialization
from tensorweave.util import nest


def _clone_layer(layer):
    return type(layer).from_config(layer.get_config())


def _wrap_clone_function(clone_function, call_function, recursive: bool, cache: dict):
    """`clone_function` made once per layer (a shared layer stays shared), descending into
    nested Sequential and functional models when `recursive`."""
    clone_function = clone_function or _clone_layer

    def wrapped(layer):
        if id(layer) not in cache:
            if recursive and isinstance(layer, (Sequential, Functional)):
                cache[id(layer)] = clone_model(layer, clone_function=clone_function,
                                               call_function=call_function
                                               if isinstance(layer, Functional) else None,
                                               recursive=True, cache=cache)
            else:
                cache[id(layer)] = clone_function(layer)
        return cache[id(layer)]
    return wrapped


def _clone_sequential(model, clone_function, input_tensors):
    new_layers = [clone_function(layer) for layer in model.layers]
    first = model._stack[0] if model._stack else None
    if input_tensors is not None:
        if isinstance(input_tensors, (list, tuple)):
            if len(input_tensors) != 1:
                raise ValueError("Argument `input_tensors` must contain a single tensor.")
            input_tensors = input_tensors[0]
        if not is_keras_tensor(input_tensors):
            raise ValueError("Argument `input_tensors` must be a KerasTensor. Received invalid "
                             f"value: input_tensors={input_tensors}")
        name = first.name if isinstance(first, InputLayer) else None
        new_layers = [Input(tensor=input_tensors, name=name)] + new_layers
    elif isinstance(first, InputLayer):
        new_layers = [Input(batch_shape=first.batch_shape, dtype=first.dtype, name=first.name,
                            optional=first.optional)] + new_layers
    return Sequential(new_layers, name=model.name, trainable=model.trainable)


def _clone_functional(model, clone_function, input_tensors, call_function):
    if input_tensors is not None:
        if not all(is_keras_tensor(x) for x in nest.flatten(input_tensors)):
            raise ValueError("All entries in `input_tensors` must be KerasTensors. Received "
                             f"invalid values: inputs_tensors={input_tensors}")
        try:
            nest.assert_same_structure(input_tensors, model.input)
        except (ValueError, TypeError) as error:
            raise ValueError("`input_tensors` must have the same structure as model.input\n"
                             f"Reference structure: {model.input}\nReceived structure: "
                             f"{input_tensors}") from error
    else:
        input_tensors = nest.map_structure(
            lambda x: Input(batch_shape=x.shape, dtype=x.dtype, name=x.name), model.input)
    outputs = model._run_through_graph(
        nest.flatten(input_tensors), call_function or (lambda layer, *a, **k: layer(*a, **k)),
        operation_fn=clone_function)
    outputs = nest.pack_sequence_as(model._outputs_struct, outputs)
    cls = type(model) if functional_like_constructor(type(model)) else Functional
    return cls(input_tensors, outputs, name=model.name)


def clone_model(model, input_tensors=None, clone_function: Optional[Callable] = None,
                call_function: Optional[Callable] = None, recursive: bool = False, **kwargs):
    """A new model with `model`'s architecture: each layer is remade by `clone_function`
    (default: from its config, so weights are new), and the clone is compiled as `model` was.
    `call_function(layer, *args, **kwargs)` replaces each layer call of a functional model."""
    cache = kwargs.pop("cache", None)
    if kwargs:
        raise ValueError(f"Unexpected keyword argument(s): {tuple(kwargs.keys())}")
    cache = {} if cache is None else cache
    if clone_function is not None and not callable(clone_function):
        raise ValueError("Expected `clone_function` argument to be a callable. Received: "
                         f"clone_function={clone_function}")
    if isinstance(model, Sequential):
        if call_function is not None:
            raise ValueError("`call_function` argument is not supported with Sequential models. "
                             "In a Sequential model, layers aren't called at model-construction "
                             "time (they're merely listed). Use `call_function` with Functional "
                             "models only.")
        clone = _clone_sequential(model, _wrap_clone_function(clone_function, None, recursive,
                                                              cache), input_tensors)
    elif isinstance(model, Functional) and (type(model).get_config is Functional.get_config
                                            or clone_function or input_tensors is not None):
        clone = _clone_functional(model, _wrap_clone_function(clone_function, call_function,
                                                              recursive, cache),
                                  input_tensors, call_function)
    else:
        if clone_function is not None or input_tensors is not None:
            raise ValueError("Arguments `clone_function` and `input_tensors` are only supported "
                             "for Sequential models or Functional models. Received model of "
                             f"type '{type(model).__name__}', with clone_function="
                             f"{clone_function} and input_tensors={input_tensors}")
        if call_function is not None:
            raise ValueError("Argument `call_function` is only supported for Functional models. "
                             f"Received model of type '{type(model).__name__}'.")
        config = serialization.serialize_keras_object(model)
        config.pop("compile_config", None)
        clone = serialization.deserialize_keras_object(
            config, custom_objects={type(model).__name__: type(model)})
    if getattr(model, "compiled", False):
        clone.compile_from_config(model.get_compile_config())
    return clone
