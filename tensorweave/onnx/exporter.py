"""tensorweave.onnx.export: a model or function traced into a graph, written as an ONNX model.

The function (a Keras model's call with training=False, a tf.function, or a Python function) is
traced by tf.function with an input signature whose unknown dimensions stay unknown; then each
node the outputs depend on is translated by the translator registered for its TensorFlow op
name (the `ops_*` modules). Variables become initializers holding their current values; values
known while tracing (shapes folded from constants) become constants. The model is checked with
`onnx.checker` and written atomically. `onnx` is imported only here, when exporting.
"""
from __future__ import annotations

import inspect
import os

import numpy as np

from tensorweave.framework.tensor_spec import TensorSpec
from tensorweave.onnx import ops_array, ops_math, ops_nn, ops_rnn  # noqa: F401 - registers
from tensorweave.onnx.builder import Builder, onnx_module, tensor_type
from tensorweave.onnx.registry import TRANSLATORS, Unsupported
from tensorweave.util import nest

DEFAULT_OPSET = 17
MIN_OPSET = 13
_SOURCES = ("Placeholder", "ReadVariableOp")
_WRITES = ("AssignVariableOp", "AssignAddVariableOp", "AssignSubVariableOp",
           "ResourceVariableUpdate", "ResourceApplyKernel")


def export(model_or_function, path, input_signature=None, opset=None):
    """Writes `model_or_function` to `path` as an ONNX model; returns the path.

    `model_or_function` is a Keras model or layer (traced as `model(inputs, training=False)`),
    a `tf.function`, a ConcreteFunction, or a Python function of tensors. `input_signature` is
    a list of `tf.TensorSpec` (one per positional argument, possibly nested); for a Keras model it
    defaults to the model's inputs with an unknown batch size, for a tf.function to its own
    signature. `opset` is the ONNX opset version (default 17, at least 13).
    """
    opset = _check_opset(opset)
    if _is_keras_layer(model_or_function):
        from tensorweave.keras.export import export_model
        export_model(model_or_function, path, format="onnx", verbose=False,
                     input_signature=input_signature, opset_version=opset)
        return path
    model = to_onnx(trace(model_or_function, input_signature), opset)
    save(model, path)
    return path


def _check_opset(opset) -> int:
    if opset is None:
        return DEFAULT_OPSET
    if isinstance(opset, bool) or not isinstance(opset, (int, np.integer)):
        raise TypeError(f"opset must be an int, got {opset!r}")
    if opset < MIN_OPSET:
        raise ValueError(f"opset must be at least {MIN_OPSET}, got {opset}")
    onnx = onnx_module()
    latest = onnx.defs.onnx_opset_version()
    if opset > latest:
        raise ValueError(f"opset {opset} is newer than this onnx package supports ({latest})")
    return int(opset)


def _is_keras_layer(obj) -> bool:
    try:
        from tensorweave.keras.engine.layer import Layer
    except ImportError:
        return False
    return isinstance(obj, Layer)


# -- tracing ------------------------------------------------------------------------------------
def _layer_path() -> str:
    try:
        from tensorweave.keras.engine.variable import path_scope
    except ImportError:
        return ""
    return "/".join(path_scope.names)


def trace(function, input_signature=None):
    """The FuncGraph of `function` (a tf.function, ConcreteFunction or Python function) for
    `input_signature`, with the Keras layer of each node recorded for error messages."""
    from tensorweave.framework.context import state
    from tensorweave.function.concrete_function import ConcreteFunction
    from tensorweave.function.def_function import Function, function as tf_function

    if isinstance(function, ConcreteFunction):
        if input_signature is not None:
            raise ValueError("input_signature cannot be given with a ConcreteFunction: it was "
                             "traced for its own signature")
        return function.graph
    if isinstance(function, Function):
        signature = input_signature if input_signature is not None else function.input_signature
        python_function, autograph = function.python_function, function._autograph
    elif callable(function):
        signature, python_function, autograph = input_signature, function, True
    else:
        raise TypeError(f"Expected a Keras model, a tf.function or a Python function, got "
                        f"{type(function).__name__}")
    if signature is None:
        raise ValueError("An input_signature is needed to export a function (a list of "
                         "tf.TensorSpec, one per argument); none was given and the "
                         "tf.function has none.")
    signature = _specs(signature)
    if autograph:
        try:
            from tensorweave.autograph import conversion
            python_function = conversion.convert(python_function)
        except ImportError:
            pass

    def recorded(*args):
        graph = state.graph
        origins = graph.__dict__.setdefault("_onnx_origins", {})
        make = graph._new_node

        def new_node(*a, **k):
            node = make(*a, **k)
            origins[id(node)] = _layer_path()
            return node

        graph._new_node = new_node
        try:
            return python_function(*args)
        finally:
            del graph._new_node

    recorded.__signature__ = inspect.Signature([
        inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        for n in _parameter_names(python_function, len(signature))])
    traced = tf_function(recorded, input_signature=signature, autograph=False)
    return traced.get_concrete_function().graph


def _parameter_names(function, n: int) -> list:
    """The names of the function's first `n` positional parameters (input_0... where unknown)."""
    try:
        params = [p.name for p in inspect.signature(function).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    names = params[:n] + [f"input_{i}" for i in range(len(params), n)]
    return [name if name.isidentifier() else f"input_{i}" for i, name in enumerate(names)]


def _specs(signature) -> list:
    if not isinstance(signature, (list, tuple)):
        raise TypeError(f"input_signature must be a list or tuple of tf.TensorSpec, got "
                        f"{type(signature).__name__}")

    def spec(value):
        if isinstance(value, TensorSpec):
            return value
        shape, dtype = getattr(value, "shape", None), getattr(value, "dtype", None)
        if shape is None or dtype is None:
            raise TypeError(f"input_signature must hold tf.TensorSpec objects, got {value!r}")
        from tensorweave.framework import dtypes
        return TensorSpec(shape, dtypes.as_dtype(dtype), getattr(value, "name", None))

    return list(nest.map_structure(spec, list(signature)))


# -- translating --------------------------------------------------------------------------------
def _needed_nodes(graph) -> set:
    """Ids of the nodes an output depends on through values not known while tracing."""
    needed, stack = set(), list(graph.outputs)
    while stack:
        tensor = stack.pop()
        node = tensor.op
        if id(node) in needed:
            continue
        if tensor.static_value is not None and node.type not in _SOURCES:
            continue
        needed.add(id(node))
        stack.extend(node.inputs)
    return needed


def _fold(node, values: list, known: dict) -> bool:
    """Computes a pure node whose inputs are all known at export time (weights prepared from
    variables: a batch normalization's scale, say) with its own NumPy kernel; True if done."""
    if not values or any(v is None for v in values) or node.stateful:
        return False
    try:
        out = node.prim.forward(*values, **node.attrs)
    except Exception:  # left to the translator (and to the runtime's own checks)
        return False
    outs = out if node.prim.multi_output else (out,)
    for tensor, value in zip(node.outputs, outs):
        known[id(tensor)] = np.asarray(value, dtype=tensor.dtype.as_numpy_dtype)
    return True


_CONTROL_FLOW = ("While", "If", "TensorList")


def _hint(node) -> str:
    if node.type.startswith(_CONTROL_FLOW):
        return (" (control flow: a tf.while_loop or tf.cond, a Python loop or condition on "
                "tensors converted by AutoGraph, or a recurrent layer with other than its default "
                "activations, which runs as a loop, is not exported)")
    return ""


def _describe(graph, node) -> str:
    layer = getattr(graph, "_onnx_origins", {}).get(id(node))
    where = f"graph node '{node.name}'"
    return f"{where} of layer '{layer}'" if layer else where


def to_onnx(graph, opset: int = DEFAULT_OPSET, output_names=None, input_names=None,
            graph_name: str | None = None):
    """The ONNX ModelProto of a traced FuncGraph."""
    onnx = onnx_module()
    helper = onnx.helper
    b = Builder(opset)
    names: dict = {}  # id(graph tensor) -> ONNX name
    known: dict = {}  # id(graph tensor) -> its array, when known at export time
    needed = _needed_nodes(graph)

    def value_of(tensor):
        found = known.get(id(tensor))
        if found is not None:
            return found
        value = tensor.static_value
        return None if value is None else np.asarray(value)

    def name_of(tensor) -> str:
        found = names.get(id(tensor))
        if found is not None:
            return found
        value = value_of(tensor)
        if value is None:
            raise Unsupported(f"{tensor.name} is used but was not produced")
        names[id(tensor)] = b.const(value, hint=tensor.op.name)
        return names[id(tensor)]

    graph_inputs = []
    for i, tensor in enumerate(graph.inputs):
        spec = tensor.op.attrs["spec"]
        wanted = input_names[i] if input_names and i < len(input_names) else \
            (spec.name or tensor.op.name)
        name = b.fresh(wanted)
        names[id(tensor)] = name
        graph_inputs.append(helper.make_tensor_value_info(
            name, tensor_type(tensor.dtype.as_numpy_dtype), _dims(tensor.shape, name)))

    variables: dict = {}  # variable id -> (initializer name, array)
    written: set = set()  # ids of the variables the graph has changed so far
    for node in graph.nodes:
        if node.type in _WRITES:
            changed = node.attrs.get("variables") or (node.attrs["variable"],)
            written.update(v._id for v in changed)
        if id(node) not in needed or node.type == "Placeholder":
            continue
        out0 = node.outputs[0] if node.outputs else None
        if node.type == "ReadVariableOp":
            variable = node.attrs["variable"]
            if variable._id in written:
                raise NotImplementedError(
                    f"The variable {variable.name} is read after the function changed it "
                    f"({_describe(graph, node)}): an ONNX model holds its variables as "
                    f"constants, so state carried between calls cannot be exported.")
            if variable._id not in variables:
                array = np.array(variable.numpy())
                hint = getattr(variable, "path", None) or variable.name.split(":")[0]
                variables[variable._id] = (b.const(array, hint=hint, share=False), array)
            names[id(out0)], known[id(out0)] = variables[variable._id]
            continue
        if _fold(node, [value_of(t) for t in node.inputs], known):
            continue
        translator = TRANSLATORS.get(node.type)
        if translator is None:
            raise NotImplementedError(
                f"The TensorFlow op {node.type} ({_describe(graph, node)}) has no ONNX "
                f"translation in tensorweave.onnx{_hint(node)}.")
        b.doc = f"{node.type} {_describe(graph, node)}"
        ins = [name_of(t) for t in node.inputs]
        try:
            out = translator(b, node, ins)
        except Unsupported as exc:
            raise NotImplementedError(
                f"The TensorFlow op {node.type} ({_describe(graph, node)}) cannot be exported "
                f"to ONNX: {exc}") from None
        outs = out if isinstance(out, (list, tuple)) else [out]
        for tensor, name in zip(node.outputs, outs):
            if name is not None:
                names[id(tensor)] = name
    b.doc = ""

    graph_outputs, final = [], []
    structured = graph.structured_outputs
    if output_names is None and isinstance(structured, dict) and \
            len(structured) == len(graph.outputs):
        output_names = [str(k) for k in sorted(structured)]  # nest's order: sorted keys
    for i, tensor in enumerate(graph.outputs):
        wanted = output_names[i] if output_names and i < len(output_names) else f"output_{i}"
        name = b.fresh(wanted)
        source = name_of(tensor)
        b.nodes.append(helper.make_node("Identity", [source], [name], name=b.fresh(name + "_id")))
        final.append(name)
        graph_outputs.append(helper.make_tensor_value_info(
            name, tensor_type(tensor.dtype.as_numpy_dtype), _dims(tensor.shape, None)))
    if not final:
        raise ValueError("The function to export returns no tensor")
    b.prune(final)
    initializers = [onnx.numpy_helper.from_array(v, name) for name, v in b.initializers.items()]
    onnx_graph = helper.make_graph(b.nodes, graph_name or graph.name or "tensorweave",
                                   graph_inputs, graph_outputs, initializers)
    imports = [helper.make_opsetid("", opset)]
    model = helper.make_model(onnx_graph, opset_imports=imports, producer_name="tensorweave")
    model.ir_version = helper.find_min_ir_version_for(imports)
    onnx.checker.check_model(model)
    return model


def _dims(shape, name):
    """ONNX dims: known sizes as numbers; an input's unknown first size is "batch", its other
    unknown sizes named after the input; an output's unknown sizes unnamed."""
    if shape.rank is None:
        return None
    out = []
    for i, d in enumerate(shape.as_list()):
        if d is not None:
            out.append(int(d))
        elif name is None:
            out.append(None)
        else:
            out.append("batch" if i == 0 else f"{name}_dim_{i}")
    return out


# -- writing ------------------------------------------------------------------------------------
def save(model, path) -> None:
    """Writes the ModelProto to `path` atomically (a temporary file replaced in one step)."""
    onnx = onnx_module()
    path = os.fspath(path)
    from tensorweave.util.atomic_file import atomic_path
    with atomic_path(path) as tmp:
        onnx.save_model(model, tmp)
