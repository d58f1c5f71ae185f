"""ConcreteFunction: one trace of a tf.function, its graph and the compiled code that runs it."""
from __future__ import annotations

import inspect

from tensorweave.framework.context import state
from tensorweave.framework.tensor import Tensor
from tensorweave.framework.tensor_spec import TensorSpec
from tensorweave.function import graph as graph_ir
from tensorweave.function import signature
from tensorweave.function.compiler import CompiledGraph
from tensorweave.function.interpreter import inline
from tensorweave.util import nest


def _optimize(graph: graph_ir.FuncGraph, jit_compile: bool) -> graph_ir.FuncGraph:
    try:
        from tensorweave.function import passes
    except ImportError:
        return graph
    return passes.optimize(graph, jit_compile=jit_compile)


def executable(graph: graph_ir.FuncGraph, jit_compile: bool = False) -> CompiledGraph:
    """The optimised, compiled form of `graph` (made once, kept on the graph)."""
    compiled = graph._compiled
    if compiled is None:
        compiled = graph._compiled = CompiledGraph(_optimize(graph, jit_compile))
    return compiled


class ConcreteFunction:
    """A traced function for one input signature: call it with tensors of that signature."""

    def __init__(self, graph: graph_ir.FuncGraph, python_signature: inspect.Signature,
                 bound_values: dict, jit_compile: bool = False):
        self.graph = graph
        self._python_signature = python_signature
        self._bound_values = bound_values  # parameter name -> traced value or spec structure
        self._jit_compile = bool(jit_compile)
        self._out_leaves = nest.flatten(graph.structured_outputs, expand_composites=True)
        self._out_index = [i for i, v in enumerate(self._out_leaves) if isinstance(v, Tensor)]
        structure = graph.structured_outputs
        # the common case: one tensor returned, nothing to pack
        self._single = isinstance(structure, Tensor)

    # -- what TensorFlow shows ---------------------------------------------------------------
    @property
    def structured_input_signature(self):
        return self.graph.structured_input_signature

    @property
    def structured_outputs(self):
        return self.graph.structured_outputs

    @property
    def inputs(self) -> list:
        return list(self.graph.inputs)

    @property
    def outputs(self) -> list:
        return list(self.graph.outputs)

    @property
    def variables(self) -> tuple:
        return tuple(self.graph.variables)

    @property
    def trainable_variables(self) -> tuple:
        return tuple(v for v in self.graph.variables if v.trainable)

    @property
    def output_shapes(self):
        return nest.map_structure(lambda t: t.shape if isinstance(t, Tensor) else t,
                                  self.structured_outputs)

    @property
    def output_dtypes(self):
        return nest.map_structure(lambda t: t.dtype if isinstance(t, Tensor) else t,
                                  self.structured_outputs)

    @property
    def name(self) -> str:
        return self.graph.name

    def pretty_printed_signature(self, verbose: bool = True) -> str:
        lines = ["Input Parameters:"]
        for param in self._python_signature.parameters.values():
            value = self._bound_values.get(param.name)
            text = nest.map_structure(signature.spec_text, value) if nest.is_nested(value) \
                else signature.spec_text(value)
            lines.append(f"  {param.name} ({param.kind.name}): {text}")
        lines.append("Output Type:")
        out = nest.map_structure(
            lambda t: TensorSpec(t.shape, t.dtype) if isinstance(t, Tensor) else t,
            self.structured_outputs)
        lines.append(f"  {out}")
        lines.append("Captures:")
        lines.append("  None")
        return "\n".join(lines)

    def __str__(self):
        return f"ConcreteFunction {self.pretty_printed_signature()}"

    def __repr__(self):
        return f"<ConcreteFunction {self.pretty_printed_signature()} at {id(self):#x}>"

    # -- calling ---------------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        try:
            bound = self._python_signature.bind_partial(*args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"Binding inputs to tf.function failed due to `{exc}`. Received "
                            f"args: {args} and kwargs: {kwargs}") from None
        tensors = []
        for name, traced in self._bound_values.items():
            given = bound.arguments.get(name, traced)
            traced_leaves = nest.flatten(traced)
            given_leaves = [given] if isinstance(traced, TensorSpec) else nest.flatten(given)
            if len(traced_leaves) != len(given_leaves):
                raise TypeError(f"Binding inputs to tf.function failed: argument {name} has "
                                f"structure {given}, the function was traced with {traced}")
            for spec, value in zip(traced_leaves, given_leaves):
                if isinstance(spec, TensorSpec):
                    tensors.append(_check_tensor(value, spec, name))
        return self._call_flat(tensors)

    def _call_flat(self, tensors: list):
        """Runs the graph on one tensor per graph input; returns the structured outputs."""
        if state.graph is not None or state.tapes:
            # Inside another trace: copy the nodes in. Under a tape: run op by op so the tape
            # records every op and variable read.
            results = inline(self.graph, tensors)
        else:
            arrays = self.executable()(*[t._value for t in tensors])
            if self._single:
                return Tensor(arrays[0], self.graph.outputs[0]._dtype)
            results = [Tensor(a, t._dtype) for a, t in zip(arrays, self.graph.outputs)]
        leaves = list(self._out_leaves)
        for i, value in zip(self._out_index, results):
            leaves[i] = value
        return nest.pack_sequence_as(self.graph.structured_outputs, leaves,
                                     expand_composites=True)

    def executable(self) -> CompiledGraph:
        return executable(self.graph, self._jit_compile)


def _check_tensor(value, spec: TensorSpec, name: str):
    tensor = value if isinstance(value, Tensor) else signature.convert_argument(value, spec)
    if tensor.dtype != spec.dtype or not spec.shape.is_compatible_with(tensor.shape):
        raise TypeError(f"Binding inputs to tf.function failed due to `Can not cast "
                        f"{TensorSpec(tensor.shape, tensor.dtype)!r} to {spec!r}`. Received "
                        f"{name}={value!r}")
    return tensor
