"""Model.export: Keras 3's argument checks, with ONNX as the one format written here.

`export_model` is what `Model.export(filepath, format=..., verbose=..., input_signature=...,
**kwargs)` calls. The input signature defaults as in Keras: a functional model's input
structure, a Sequential model's inputs, a subclassed model's shapes from its first call; the
batch size is left unknown, so the exported model takes any batch size.
"""
from __future__ import annotations

from tensorweave.util import nest

AVAILABLE_FORMATS = ("tf_saved_model", "onnx", "openvino", "litert", "torch")
# Keras options of other backends or formats: accepted and ignored, as Keras's TensorFlow
# backend does for the ONNX format.
_IGNORED_OPTIONS = ("is_static", "jax2tf_kwargs")


def export_model(model, filepath, format="tf_saved_model", verbose=None,  # noqa: A002
                 input_signature=None, **kwargs):
    """Exports `model` for inference; only `format="onnx"` is written by tensorweave."""
    if format not in AVAILABLE_FORMATS:
        raise ValueError(f"Unrecognized format={format}. Supported formats are: "
                         f"{list(AVAILABLE_FORMATS)}.")
    if format != "onnx":
        raise NotImplementedError(
            f"Exporting with format={format!r} is not supported by tensorweave: only "
            f"format='onnx' is (for example `model.export(path, format='onnx')`).")
    opset = kwargs.pop("opset_version", None)
    for name in _IGNORED_OPTIONS:
        kwargs.pop(name, None)
    if kwargs:
        raise TypeError(f"Unrecognized keyword arguments for the ONNX export: {sorted(kwargs)}")
    export_onnx(model, filepath, verbose=verbose, input_signature=input_signature,
                opset_version=opset)


def export_onnx(model, filepath, verbose=None, input_signature=None, opset_version=None):
    """Writes the model's forward pass (`model(inputs, training=False)`) as an ONNX file."""
    from tensorweave.onnx import exporter
    opset = exporter._check_opset(opset_version)
    if input_signature is None:
        input_signature = get_input_signature(model)
    signature = nest.map_structure(make_tensor_spec, list(input_signature))
    flat = nest.flatten(signature)
    input_names = [spec.name or f"input_{i}" for i, spec in enumerate(flat)]

    def serve(*args):
        return model(*args, training=False)

    graph = exporter.trace(serve, signature)
    onnx_model = exporter.to_onnx(graph, opset, input_names=input_names,
                                  graph_name=getattr(model, "name", None))
    exporter.save(onnx_model, filepath)
    if verbose is None or verbose:
        print(f"Saved artifact at '{filepath}'.")


def get_input_signature(model) -> list:
    """The input signature Keras derives from a built model (always a list)."""
    from tensorweave.keras.engine.model import Model
    from tensorweave.keras.engine.sequential import Sequential
    from tensorweave.keras.engine.functional import Functional
    if not isinstance(model, Model):
        raise TypeError(f"The model must be a `keras.Model`. Received: model={model} of the "
                        f"type {type(model)}")
    if not model.built:
        raise ValueError("The model provided has not yet been built. It must be built before "
                         "export.")
    if isinstance(model, Functional) and not isinstance(model, Sequential):
        return [nest.map_structure(make_input_spec, model._inputs_struct)]
    if isinstance(model, Sequential):
        return nest.map_structure(make_input_spec, list(model.inputs))
    shapes = model._build_shapes
    if shapes is None or not model._called:
        raise ValueError("The model provided has never called. It must be called at least "
                         "once before export.")
    dtype = model.input_dtype
    return [_shape_specs(shapes, dtype)]


def _is_shape(value) -> bool:
    return isinstance(value, (tuple, list)) and all(
        d is None or isinstance(d, int) for d in value)


def _shape_specs(structure, dtype):
    from tensorweave.keras.engine.input_spec import InputSpec
    if _is_shape(structure):
        return InputSpec(shape=(None,) + tuple(structure)[1:], dtype=dtype)
    if isinstance(structure, dict):
        return {k: _shape_specs(v, dtype) for k, v in structure.items()}
    if isinstance(structure, (list, tuple)):
        return type(structure)(_shape_specs(v, dtype) for v in structure)
    raise ValueError(f"Unsupported type {type(structure)} for {structure}")


def make_input_spec(x):
    """An InputSpec (shape with an unknown batch size, dtype, name) from a spec or tensor."""
    from tensorweave.framework.tensor import Tensor
    from tensorweave.keras.engine.input_spec import InputSpec
    from tensorweave.keras.engine.keras_tensor import KerasTensor
    if isinstance(x, InputSpec):
        if x.shape is None or x.dtype is None:
            raise ValueError(f"The `shape` and `dtype` must be provided. Received: x={x}")
        return x
    if isinstance(x, KerasTensor):
        return InputSpec(dtype=_dtype_name(x.dtype), shape=(None,) + tuple(x.shape)[1:],
                         name=x.name)
    if isinstance(x, Tensor):
        return InputSpec(dtype=x.dtype.name, shape=(None,) + tuple(x.shape.as_list())[1:])
    raise TypeError(f"Unsupported x={x} of the type ({type(x)}). Supported types are: "
                    f"`keras.InputSpec`, `keras.KerasTensor` and backend tensor.")


def make_tensor_spec(x):
    """A tf.TensorSpec from a TensorSpec, InputSpec, KerasTensor or tensor."""
    from tensorweave.framework import dtypes
    from tensorweave.framework.tensor_spec import TensorSpec
    if isinstance(x, TensorSpec):
        return x
    spec = make_input_spec(x)
    return TensorSpec(spec.shape, dtypes.as_dtype(spec.dtype), spec.name)


def _dtype_name(dtype) -> str:
    return getattr(dtype, "name", None) or str(dtype)
