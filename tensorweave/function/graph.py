"""The graph IR of tf.function: FuncGraph, its nodes, and the symbolic tensors they produce.

While a function is traced, `state.graph` is a FuncGraph and every op call adds a Node (a primitive
applied to symbolic tensors, with attrs) instead of computing. A node's output shapes and dtypes come
from the primitive's abstract evaluation; small outputs whose inputs are all known are also computed
at once (their `.value`), so that wrappers turning tensors into attrs (reshape's shape, axis...) see
Python values while tracing, as TensorFlow's constant folding of shapes makes them.

Nodes are kept in the order they were traced: that order is a valid execution order and keeps
variable reads and writes in program order.
"""
from __future__ import annotations

import re
from typing import Callable, Optional

import numpy as np

from tensorweave.framework import dtypes
from tensorweave.framework.context import graph_scope, init_scope, state
from tensorweave.framework.errors import OperatorNotAllowedInGraphError
from tensorweave.framework.op_registry import OpRecord, Primitive, primitive
from tensorweave.framework.tensor import Tensor
from tensorweave.framework.tensor_shape import TensorShape, as_shape
from tensorweave.framework.tensor_spec import TensorSpec

# Outputs of a pure node whose inputs are known are computed while tracing up to this size.
FOLD_LIMIT = 1024

_RESOLUTION = ("You can attempt the following resolutions to the problem: If you are running in "
               "Graph mode, use Eager execution mode or decorate this function with @tf.function. "
               "If you are using AutoGraph, you can try decorating this function with "
               "@tf.function. If that does not work, then you may be using an unsupported feature "
               "or your source code may not be visible to AutoGraph.")


class StaticValueError(NotImplementedError):
    """A graph tensor's value was needed while tracing, but it is only known when the graph runs."""


class AbstractValue:
    """What a symbolic tensor has in place of an array: shape (None for unknown dims) and dtype.

    Code written for eager arrays reads `x._value.shape` / `.ndim` / `.dtype`; it works on these
    while the facts are known, and raises StaticValueError where they are not.
    """

    __slots__ = ("_tensor",)

    def __init__(self, tensor: "SymbolicTensor"):
        self._tensor = tensor

    @property
    def shape(self) -> tuple:
        shape = self._tensor._spec.shape
        if shape.rank is None:
            raise StaticValueError(f"The rank of {self._tensor.name} is not known while tracing")
        return tuple(shape.as_list())

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        total = 1
        for d in self.shape:
            if d is None:
                raise StaticValueError(f"The size of {self._tensor.name} is not known while tracing")
            total *= d
        return total

    @property
    def dtype(self):
        dtype = self._tensor._dtype
        return dtypes.VARIANT_NP if dtype is dtypes.variant else dtype.as_numpy_dtype

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self._tensor.numpy(), dtype=dtype)


class SymbolicTensor(Tensor):
    """A tensor of a graph: an output of a node, with a static shape that may be partly unknown."""

    __slots__ = ("_op", "_index", "_spec")

    def __init__(self, op: "Node", index: int, spec: TensorSpec):
        self._op = op
        self._index = index
        self._spec = spec
        self._dtype = spec.dtype
        self._value = AbstractValue(self)

    op = property(lambda self: self._op)
    graph = property(lambda self: self._op.graph)
    value_index = property(lambda self: self._index)
    name = property(lambda self: f"{self._op.name}:{self._index}")

    @property
    def shape(self) -> TensorShape:
        return self._spec.shape

    @property
    def ndim(self):
        return self._spec.shape.rank

    def set_shape(self, shape) -> None:
        """Refines the static shape (TensorFlow's set_shape in a graph)."""
        given = as_shape(shape)
        if not self._spec.shape.is_compatible_with(given):
            raise ValueError(f"Tensor's shape {self._spec.shape} is not compatible with supplied "
                             f"shape {given}.")
        self._spec = TensorSpec(self._spec.shape.merge_with(given), self._dtype,
                                value=self._spec.value)

    @property
    def static_value(self):
        """The value when it is known while tracing (a constant or computed from constants)."""
        return self._spec.value

    def numpy(self):
        value = self._spec.value
        if value is None:
            raise StaticValueError(
                f"Cannot convert a symbolic tf.Tensor ({self.name}) to a numpy array: its value "
                f"is only known when the tf.function runs.")
        return value[()] if isinstance(value, np.ndarray) and value.ndim == 0 else value

    def __array__(self, dtype=None, copy=None):
        if self._spec.value is None:
            raise NotImplementedError(
                f"Cannot convert a symbolic tf.Tensor ({self.name}) to a numpy array. This error "
                f"may indicate that you're trying to pass a Tensor to a NumPy call, which is not "
                f"supported.")
        return np.asarray(self._spec.value, dtype=dtype)

    def __bool__(self):
        raise OperatorNotAllowedInGraphError(
            f"Using a symbolic `tf.Tensor` as a Python `bool` is not allowed. {_RESOLUTION}")

    def __iter__(self):
        raise OperatorNotAllowedInGraphError(
            f"Iterating over a symbolic `tf.Tensor` is not allowed. {_RESOLUTION}")

    def __len__(self):
        raise TypeError(f"len is not well defined for a symbolic Tensor ({self.name}). Please "
                        f"call `x.shape` rather than `len(x)` for shape information.")

    # A value known while tracing converts (wrappers turn shapes into attrs); others cannot.
    def __float__(self):
        if self._spec.value is None:
            raise TypeError("float() argument must be a string or a real number, not "
                            "'SymbolicTensor'")
        return float(self._spec.value)

    def __int__(self):
        if self._spec.value is None:
            raise StaticValueError(f"int() argument must be a string, a bytes-like object or a "
                                   f"real number, not 'SymbolicTensor' ({self.name}: its value is "
                                   f"only known when the tf.function runs)")
        return int(self._spec.value)

    def __index__(self):
        value = self._spec.value  # a known integer scalar may index (shapes while tracing)
        if value is None or np.ndim(value) != 0:
            raise TypeError(f"Only integer scalar tensors with a value known while tracing can "
                            f"be used as an index ({self.name})")
        return int(value)

    def __complex__(self):
        raise TypeError("complex() argument must be a string or a number, not 'SymbolicTensor'")

    def __reduce__(self):
        raise TypeError(f"Cannot pickle the symbolic tensor {self.name}")

    def __repr__(self):
        return f"<tf.Tensor '{self.name}' shape={self.shape} dtype={self._dtype.name}>"

    def __str__(self):
        return f'Tensor("{self.name}", shape={self.shape}, dtype={self._dtype.name})'

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


def _stateful(prim: Primitive, attrs: dict) -> bool:
    """A stateful primitive, or one holding a subgraph with a stateful node (an If, a While)."""
    return prim.stateful or any(isinstance(v, FuncGraph) and v.is_stateful
                                for v in attrs.values())


def is_symbolic(value) -> bool:
    """True for a tensor of a graph being traced (or traced earlier)."""
    return isinstance(value, SymbolicTensor)


class Node(OpRecord):
    """One op application in a graph: `type`, `name`, `inputs`, `outputs`, `attrs`."""

    __slots__ = ("graph", "name")

    type = property(lambda self: self.prim.name)

    def values(self) -> tuple:
        return self.outputs

    @property
    def stateful(self) -> bool:
        """Whether the node reads or changes state, or its output is not a function of its inputs:
        passes neither fold, merge nor prune it (unless, for a pure read, nothing uses it)."""
        return _stateful(self.prim, self.attrs)

    def __repr__(self):
        return f"<tf.Operation '{self.name}' type={self.type}>"


# -- the primitives every graph has: inputs, constants, variables ---------------------------------
def _const_forward(*, value):
    return value


def _placeholder_forward(*, spec, index):
    raise RuntimeError("a Placeholder is fed, never run")


def _read_forward(*, variable):
    return variable._value


def _read_abstract(*, variable):
    return TensorSpec(variable.shape, variable.dtype)


def _assign_forward(value, *, variable):
    variable._value = np.array(value)
    return ()


def _assign_add_forward(value, *, variable):
    variable._value = np.asarray(np.add(variable._value, value))
    return ()


def _assign_sub_forward(value, *, variable):
    variable._value = np.asarray(np.subtract(variable._value, value))
    return ()


def _variable_method_forward(*values, variable, method, kwargs):
    getattr(variable, method)(*values, **kwargs)
    return ()


def _variables_kernel_forward(*values, variables, kernel, kwargs):
    kernel(variables, *values, **kwargs)
    return ()


def _no_outputs(*specs, **attrs):
    return ()


CONST = primitive("Const", _const_forward, None, lambda *, value: _const_spec(value))
PLACEHOLDER = primitive("Placeholder", _placeholder_forward, None,
                        lambda *, spec, index: TensorSpec(spec.shape, spec.dtype))
READ_VARIABLE = primitive("ReadVariableOp", _read_forward, None, _read_abstract, stateful=True)
ASSIGN_VARIABLE = primitive("AssignVariableOp", _assign_forward, None, _no_outputs,
                            multi_output=True, stateful=True)
ASSIGN_ADD_VARIABLE = primitive("AssignAddVariableOp", _assign_add_forward, None, _no_outputs,
                                multi_output=True, stateful=True)
ASSIGN_SUB_VARIABLE = primitive("AssignSubVariableOp", _assign_sub_forward, None, _no_outputs,
                                multi_output=True, stateful=True)
# Sliced assignment and the scatter family: the eager method runs when the graph runs.
VARIABLE_METHOD = primitive("ResourceVariableUpdate", _variable_method_forward, None, _no_outputs,
                            multi_output=True, stateful=True)
# A NumPy kernel updating several variables at once (an optimizer's step for one weight and its
# slots): one node instead of dozens of small ones, since each node costs a Python call.
VARIABLES_KERNEL = primitive("ResourceApplyKernel", _variables_kernel_forward, None, _no_outputs,
                             multi_output=True, stateful=True)
_ASSIGNS = {"assign": ASSIGN_VARIABLE, "assign_add": ASSIGN_ADD_VARIABLE,
            "assign_sub": ASSIGN_SUB_VARIABLE}


def _const_spec(value) -> TensorSpec:
    return TensorSpec(np.shape(value), dtypes.from_numpy(np.asarray(value).dtype)
                      if not hasattr(value, "payload") else dtypes.variant, value=value)


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


class FuncGraph:
    """A traced function: nodes in execution order, placeholders, captures and outputs.

    `inputs` are the placeholders: the function's tensor arguments first, then one per captured
    outer tensor (`captures` pairs the outer tensor with its placeholder). `variables` lists the
    variables the graph (or a subgraph) reads or writes.
    """

    def __init__(self, name: str, outer_graph: Optional["FuncGraph"] = None):
        self.name = name
        self.outer_graph = outer_graph
        self.nodes: list = []
        self.inputs: list = []
        self.outputs: list = []
        self.captures: list = []
        self.variables: list = []
        self.structured_input_signature = None
        self.structured_outputs = None
        # Called with each tf.Variable created while this graph is traced (tf.function's rule
        # that variables are created only on the first trace lives there).
        self.on_variable_created: Optional[Callable] = None
        self._captured: dict = {}
        self._consts: dict = {}
        self._names: dict = {}
        self._variable_ids: set = set()
        # A subgraph (a branch, a loop body) reads a variable it has not written as a capture of
        # a read in the enclosing graph: that read is recorded on the tapes active there, so
        # gradients reach the variable through the control-flow node's inputs.
        self.local_variable_ids: set = set()
        self.outer_tapes: list = []
        self.placeholder_values: dict = {}  # id(placeholder) -> the call's argument, if known
        self.derived: dict = {}  # graphs made from this one once (its body's gradient...)
        self._compiled = None

    # -- building ------------------------------------------------------------------------------
    def as_default(self):
        return graph_scope(self)

    def _unique_name(self, base: str) -> str:
        count = self._names.get(base, 0)
        self._names[base] = count + 1
        return base if count == 0 else f"{base}_{count}"

    def _new_node(self, prim: Primitive, inputs: tuple, attrs: dict, specs: tuple,
                  name: Optional[str] = None) -> "Node":
        node = Node(prim, inputs, (), attrs)
        node.graph = self
        node.name = self._unique_name(name or _snake(prim.name))
        node.outputs = tuple(SymbolicTensor(node, i, spec) for i, spec in enumerate(specs))
        self.nodes.append(node)
        return node

    def placeholder(self, spec: TensorSpec, name: Optional[str] = None) -> SymbolicTensor:
        """A new input of the graph."""
        spec = TensorSpec(spec.shape, spec.dtype)
        node = self._new_node(PLACEHOLDER, (), {"spec": spec, "index": len(self.inputs)},
                              (spec,), name or "placeholder")
        self.inputs.append(node.outputs[0])
        return node.outputs[0]

    def constant(self, tensor: Tensor) -> SymbolicTensor:
        """An eager tensor used in the graph, as a Const node (one per tensor)."""
        key = id(tensor)
        found = self._consts.get(key)
        if found is not None:
            return found[1]
        value = tensor._value
        node = self._new_node(CONST, (), {"value": value}, (_const_spec(value),))
        self._consts[key] = (tensor, node.outputs[0])  # keeps the tensor alive: ids stay unique
        return node.outputs[0]

    def capture(self, tensor: SymbolicTensor) -> SymbolicTensor:
        """The placeholder standing for a tensor of an enclosing graph."""
        found = self._captured.get(id(tensor))
        if found is not None:
            return found
        if self.outer_graph is None or not self.outer_graph._encloses(tensor.graph):
            raise ValueError(
                f"The tensor {tensor.name} cannot be accessed from {self.name}, because it was "
                f"defined in {tensor.graph.name}, which is out of scope.")
        outer = tensor if tensor.graph is self.outer_graph else self.outer_graph.capture(tensor)
        inner = self.placeholder(TensorSpec(outer.shape, outer.dtype), "capture")
        inner._spec = TensorSpec(outer.shape, outer.dtype, value=outer._spec.value)
        self.captures.append((outer, inner))
        self._captured[id(tensor)] = inner
        return inner

    def _encloses(self, graph: "FuncGraph") -> bool:
        g = self
        while g is not None:
            if g is graph:
                return True
            g = g.outer_graph
        return False

    def own(self, value) -> SymbolicTensor:
        """`value` (a tensor of this graph, of an enclosing one, or eager) as a tensor of this graph."""
        if type(value) is SymbolicTensor:
            return value if value._op.graph is self else self.capture(value)
        if isinstance(value, Tensor):
            return self.constant(value)
        raise TypeError(f"Expected a tensor, got {type(value).__name__}")

    def add_op(self, prim: Primitive, inputs: tuple, attrs: dict):
        """Adds `prim` applied to `inputs`; returns its output tensor(s), as `execute` does."""
        inputs = tuple([t if type(t) is SymbolicTensor and t._op.graph is self else self.own(t)
                        for t in inputs])
        specs = tuple([t._spec for t in inputs])
        out = prim.abstract(*specs, **attrs)
        out_specs = out if prim.multi_output else (out,)
        if inputs and all(s.value is not None for s in specs) and not _stateful(prim, attrs):
            out_specs = self._fold(prim, specs, attrs, out_specs)
        node = self._new_node(prim, inputs, attrs, out_specs)
        if state.tapes:
            for tape in state.tapes:
                tape._record(node)
        return node.outputs if prim.multi_output else node.outputs[0]

    @staticmethod
    def _fold(prim: Primitive, specs: tuple, attrs: dict, out_specs: tuple) -> tuple:
        """The output specs with values, when the inputs are small known values."""
        if sum(int(np.size(s.value)) for s in specs) > FOLD_LIMIT:
            return out_specs
        for spec in out_specs:  # a small input may make a big output (fill, a TensorArray...)
            dims = spec.shape.as_list() if spec.shape.rank is not None else [None]
            if None in dims or int(np.prod(dims)) > FOLD_LIMIT:
                return out_specs
        try:
            values = prim.forward(*[s.value for s in specs], **attrs)
        except Exception:  # the error is the running graph's to raise, with its node named
            return out_specs
        values = values if prim.multi_output else (values,)
        return tuple(TensorSpec(s.shape, s.dtype, value=np.asarray(v) if isinstance(v, np.generic)
                                else v) for s, v in zip(out_specs, values))

    # -- variables -----------------------------------------------------------------------------
    def _track_variable(self, variable) -> None:
        g = self
        while g is not None and variable._id not in g._variable_ids:
            g._variable_ids.add(variable._id)
            g.variables.append(variable)
            g = g.outer_graph

    def read_variable(self, variable) -> SymbolicTensor:
        """A read of `variable` at this point of the program."""
        if self.outer_graph is not None and variable._id not in self.local_variable_ids:
            inner_tapes = state.tapes
            state.tapes = self.outer_tapes
            try:
                outer = self.outer_graph.read_variable(variable)
            finally:
                state.tapes = inner_tapes
            # tapes recording inside this subgraph see the captured value as the read
            return variable._notify_read(self.capture(outer))
        self._track_variable(variable)
        node = self._new_node(READ_VARIABLE, (), {"variable": variable},
                              (TensorSpec(variable.shape, variable.dtype),), "read_variable_op")
        return variable._notify_read(node.outputs[0])

    def _mark_written(self, variable) -> None:
        self._track_variable(variable)
        graph = self  # a write in a branch or a loop body is a write in each enclosing graph
        while graph is not None:
            graph.local_variable_ids.add(variable._id)
            graph = graph.outer_graph

    def update_variable(self, variable, method: str, values: tuple, kwargs: dict) -> None:
        """A write to `variable` (`method` is the Variable method: assign, assign_add...)."""
        self._mark_written(variable)
        prim = _ASSIGNS.get(method)
        if prim is not None:
            self._new_node(prim, (self.own(values[0]),), {"variable": variable}, ())
        else:
            inputs = tuple(self.own(v) for v in values)
            self._new_node(VARIABLE_METHOD, inputs, {"variable": variable, "method": method,
                                                      "kwargs": kwargs}, ())

    def update_variables(self, variables: tuple, kernel, values: tuple, kwargs: dict) -> None:
        """A write to all `variables` by `kernel(variables, *arrays, **kwargs)`."""
        for variable in variables:
            self._mark_written(variable)
        inputs = tuple(self.own(v) for v in values)
        self._new_node(VARIABLES_KERNEL, inputs, {"variables": tuple(variables), "kernel": kernel,
                                                  "kwargs": kwargs}, ())

    def lift_initial_value(self, initial_value):
        """The eager initial value of a variable created while this graph is traced."""
        graph = self
        while graph is not None:
            if graph.on_variable_created is not None:
                graph.on_variable_created()
            graph = graph.outer_graph
        if callable(initial_value):
            with init_scope():
                return initial_value()
        if isinstance(initial_value, SymbolicTensor):
            from tensorweave.function.interpreter import evaluate
            return evaluate(initial_value)
        return initial_value

    # -- inspecting ----------------------------------------------------------------------------
    def get_operations(self) -> list:
        return list(self.nodes)

    def get_operation_by_name(self, name: str) -> Node:
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(f"The name '{name}' refers to an Operation not in the graph.")

    @property
    def is_stateful(self) -> bool:
        return any(node.stateful for node in self.nodes)

    def dump(self) -> str:
        """The graph as text: one line per node with its inputs, attrs, output shapes and dtypes."""
        lines = [f"graph {self.name}({', '.join(t.name for t in self.inputs)})"]
        for node in self.nodes:
            outs = ", ".join(f"{t._dtype.name}{_dims(t.shape)}" for t in node.outputs) or "-"
            ins = ", ".join(t.name for t in node.inputs)
            attrs = ", ".join(f"{k}={_attr_text(v)}" for k, v in node.attrs.items())
            lines.append(f"  {node.name} = {node.type}({ins}{'; ' if ins and attrs else ''}"
                         f"{attrs}) -> {outs}")
        lines.append(f"  return {', '.join(t.name for t in self.outputs)}")
        return "\n".join(lines)

    def __repr__(self):
        return f"<FuncGraph {self.name!r} with {len(self.nodes)} ops>"


def _dims(shape: TensorShape) -> str:
    if shape.rank is None:
        return "[?]"
    return "[" + ",".join("?" if d is None else str(d) for d in shape.as_list()) + "]"


def _attr_text(value) -> str:
    if isinstance(value, np.ndarray):
        return repr(value.tolist()) if value.size <= 6 else f"<{value.dtype}{list(value.shape)}>"
    if isinstance(value, FuncGraph):
        return f"<graph {value.name}>"
    if hasattr(value, "_id") and hasattr(value, "assign"):
        return f"<variable {value.name}>"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
