"""Calling layers on KerasTensors: output shapes found by running `call` once on a scratch graph
(abstract evaluation, no data), and the Node that records the call."""
from __future__ import annotations

from tensorweave.framework.context import graph_scope, tapes_paused
from tensorweave.framework.tensor import Tensor
from tensorweave.framework.tensor_spec import TensorSpec
from tensorweave.function.graph import FuncGraph
from tensorweave.keras.engine.input_spec import assert_input_compatibility
from tensorweave.keras.engine.keras_tensor import KerasTensor, is_keras_tensor
from tensorweave.keras.engine.node import Node
from tensorweave.util import nest


def _is_shape(value) -> bool:
    return hasattr(value, "as_list") or isinstance(value, (tuple, list)) and all(
        d is None or isinstance(d, int) for d in value)


def symbolic_call(layer, args: tuple, kwargs: dict):
    """`layer(*args, **kwargs)` where some arguments are KerasTensors."""
    first = args[0]
    assert_input_compatibility(layer.input_spec, first, layer.name)
    layer._maybe_build(first, args, kwargs)
    outputs = layer.compute_output_spec(*args, **kwargs)
    Node(layer, args, kwargs, outputs)
    return outputs


def output_spec(layer, args: tuple, kwargs: dict):
    """The KerasTensors `layer` returns for these (symbolic) arguments."""
    from tensorweave.keras.engine.layer import Layer
    if type(layer).compute_output_shape is not Layer.compute_output_shape:
        from tensorweave.keras.engine.layer import shapes_for
        named = shapes_for(layer.compute_output_shape, layer.call, args, kwargs)
        shapes = layer.compute_output_shape(nest.map_structure(
            lambda x: x.shape if is_keras_tensor(x) else x, args[0])) if named is None \
            else layer.compute_output_shape(**named)
        return _map_shapes(shapes, lambda shape: KerasTensor(shape, layer.compute_dtype))
    return _trace(layer, args, kwargs)


def _trace(layer, args: tuple, kwargs: dict):
    """Runs `layer.__call__` on placeholders of a scratch graph; outputs become KerasTensors."""
    from tensorweave.keras.engine.layer import Layer
    graph = FuncGraph(f"scratch_{layer.name}")
    with tapes_paused(), graph_scope(graph):
        def placeholder(x):
            if is_keras_tensor(x):
                return graph.placeholder(TensorSpec(x.shape, x.dtype))
            return x
        graph_args = nest.map_structure(placeholder, args)
        graph_kwargs = nest.map_structure(placeholder, kwargs)
        try:
            outputs = Layer.__call__(layer, *graph_args, **graph_kwargs)
        except Exception as error:
            error.add_note(f"Could not infer the output shape / dtype of '{layer.name}' (of type "
                           f"{type(layer).__name__}) by calling it on symbolic inputs "
                           f"{[x for x in nest.flatten(args) if is_keras_tensor(x)]}. Either its "
                           "`call()` method fails on them, or the layer needs a "
                           "`compute_output_shape()` method.")
            raise
        finally:
            layer._clear_losses()
    return nest.map_structure(
        lambda t: KerasTensor(t.shape, t.dtype) if isinstance(t, Tensor) else t, outputs)


def output_shape_by_tracing(layer, input_shape, *args, **kwargs):
    """`compute_output_shape` of a layer that does not define it: traced from `call`."""
    def keras_tensor(shape):
        return KerasTensor(shape, layer.compute_dtype)
    inputs = _map_shapes(input_shape, keras_tensor)
    layer._maybe_build(inputs)
    outputs = _trace(layer, (inputs,), {})
    return nest.map_structure(lambda t: t.shape if is_keras_tensor(t) else t, outputs)


def _map_shapes(shapes, fn):
    if _is_shape(shapes):
        return fn(shapes)
    if isinstance(shapes, dict):
        return {k: _map_shapes(v, fn) for k, v in shapes.items()}
    return type(shapes)(_map_shapes(s, fn) for s in shapes)
