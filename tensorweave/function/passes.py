"""Graph passes: what runs on a traced graph before it is compiled (TensorFlow's Grappler, and XLA's
fusion under `jit_compile=True`).

`optimize(graph, jit_compile)` returns an optimised COPY: the traced graph (`concrete.graph`) is
what users inspect and what tapes differentiate, so it is never changed. The passes, each usable
alone on a copy (`copy_graph`) and each returning how many rewrites it made:

  prune                           drops nodes that reach neither an output nor a stateful node
  fold_constants                  a pure node of constants becomes a constant
  eliminate_common_subexpressions equal pure nodes on the same inputs merge (and variable reads
                                  with no write in between)
  simplify                        x*1, x/1, x-0, -(-x), identity chains, same-dtype casts,
                                  reshapes to the same shape... where the rewrite is exact
  fuse_elementwise                (jit_compile) trees of elementwise ops, optionally ending in a
                                  full reduction, become one FusedElementwise node

A fused kernel evaluates its expression without full-size temporaries: small tensors (static shape,
up to INLINE_LIMIT elements) as NumPy ufunc calls emitted inline into the compiled function, each
result written in place into a temporary the kernel owns; large ones block by block (BLOCK elements,
cache-sized temporaries), or with numexpr. numexpr is optional (`pip install tensorweave[jit]`) and
only used where it pays: on a 2-core machine cache-blocked NumPy was measured faster
(reduce_sum(a*b+c) on 1e7 float32: 5.5 ms blocked, 11 ms numexpr, 21 ms unfused), so numexpr is
used from NUMEXPR_MIN_THREADS threads on.

Every rewrite keeps results exact: same dtype, same shape, same values (a fused reduction adds its
blocks' partial results, so a float sum may differ in the last bits, as a different summation
order does).
"""
from __future__ import annotations

import itertools
import math
import warnings
from typing import Optional

import numpy as np

from tensorweave.framework import dtypes
from tensorweave.framework.op_registry import primitive
from tensorweave.framework.tensor_shape import TensorShape
from tensorweave.framework.tensor_spec import TensorSpec
from tensorweave.function import compiler
from tensorweave.function.graph import CONST, PLACEHOLDER, READ_VARIABLE, FuncGraph, Node, \
    SymbolicTensor
from tensorweave.ops import array_ops, math_ops, nn_ops, reduction_ops

try:
    import numexpr as NUMEXPR
except ImportError:  # optional: the NumPy evaluation is used
    NUMEXPR = None

FOLD_MAX_ELEMENTS = 100_000  # constant folding keeps results up to this size
ATTR_COMPARE_LIMIT = 10_000  # arrays in attrs compared by value up to this size, else by identity
BLOCK = 65536  # elements per block of a fused kernel on large tensors (256 KB of float32)
INLINE_LIMIT = BLOCK  # fused kernels on static shapes up to this size are emitted inline
NUMEXPR_MIN_SIZE = 1 << 20
NUMEXPR_MIN_THREADS = 4
NUMEXPR_BLOCK = 1 << 18  # elements per numexpr call when a reduction follows

try:  # NumPy 2 keeps its error state in a context variable: set/reset is cheaper than errstate
    from numpy._core import _ufunc_config
    _ERRSTATE = _ufunc_config._extobj_contextvar
    with np.errstate(all="ignore"):
        _ERR_IGNORE = _ERRSTATE.get()
except (ImportError, AttributeError):  # pragma: no cover - other NumPy versions
    _ERRSTATE = None


# -- copying a graph -------------------------------------------------------------------------
def _new_node(graph: FuncGraph, prim, inputs: tuple, attrs: dict, specs: tuple,
              name: str) -> Node:
    """A node of `graph` that is not yet in its node list (the passes place it)."""
    node = Node(prim, tuple(inputs), (), attrs)
    node.graph = graph
    node.name = graph._unique_name(name)
    node.outputs = tuple(SymbolicTensor(node, i, spec) for i, spec in enumerate(specs))
    return node


def _const_value(value):
    """A scalar constant as a read-only 0-d array: NumPy ufuncs take those faster than scalars."""
    if isinstance(value, np.generic) and value.dtype.kind != "O":
        value = np.array(value)
        value.flags.writeable = False
    return value


def copy_graph(graph: FuncGraph) -> FuncGraph:
    """A copy of `graph` with new nodes and tensors (same names, attrs, inputs and outputs)."""
    new = FuncGraph(graph.name, graph.outer_graph)
    new._names = dict(graph._names)
    new.variables = list(graph.variables)
    new._variable_ids = set(graph._variable_ids)
    new.structured_input_signature = graph.structured_input_signature
    mapping = {}
    for node in graph.nodes:
        attrs = dict(node.attrs)
        if node.prim is CONST:
            attrs["value"] = _const_value(attrs["value"])
        copy = Node(node.prim, tuple(mapping[id(t)] for t in node.inputs), (), attrs)
        copy.graph = new
        copy.name = node.name
        copy.outputs = tuple(SymbolicTensor(copy, i, t._spec) for i, t in enumerate(node.outputs))
        for old, out in zip(node.outputs, copy.outputs):
            mapping[id(old)] = out
        new.nodes.append(copy)
    new.inputs = [mapping[id(t)] for t in graph.inputs]
    new.outputs = [mapping[id(t)] for t in graph.outputs]
    new.captures = [(outer, mapping[id(inner)]) for outer, inner in graph.captures]
    return new


def _sweep(graph: FuncGraph, visit) -> int:
    """Runs `visit(node, placed)` on every node in order, with its inputs already rewritten.

    `visit` returns None to keep the node, or one replacement tensor per output (the node is
    dropped); it may append new nodes to `placed`. Returns the number of nodes replaced.
    """
    sub = {}  # id(old tensor) -> (old tensor, replacement): the old one kept alive for its id
    placed = []
    changed = 0
    for node in graph.nodes:
        if node.inputs and sub:
            node.inputs = tuple([sub[id(t)][1] if id(t) in sub else t for t in node.inputs])
        result = visit(node, placed)
        if result is None:
            placed.append(node)
            continue
        changed += 1
        for old, new in zip(node.outputs, result):
            sub[id(old)] = (old, new)
    graph.nodes = placed
    if sub:
        graph.outputs = [sub[id(t)][1] if id(t) in sub else t for t in graph.outputs]
    return changed


def _consumers(graph: FuncGraph) -> dict:
    """id(tensor) -> the nodes using it (once per use); graph outputs count as a use by None."""
    uses: dict = {}
    for node in graph.nodes:
        for t in node.inputs:
            uses.setdefault(id(t), []).append(node)
    for t in graph.outputs:
        uses.setdefault(id(t), []).append(None)
    return uses


def _is_const(t: SymbolicTensor) -> bool:
    return t._op.prim is CONST


def _value(t: SymbolicTensor):
    return t._op.attrs["value"]


def _plain_dtype(dtype) -> bool:
    """Numbers and bools: the dtypes whose values passes may compute on."""
    return dtype.is_numeric or dtype.is_bool


# -- 1. pruning --------------------------------------------------------------------------------
def prune(graph: FuncGraph) -> int:
    """Drops the nodes whose results reach no output and no stateful node. Stateful nodes stay
    (variable writes, random draws, subgraphs with state), except reads nobody uses.
    Placeholders stay: the compiled function takes one argument per graph input."""
    live = set(id(t._op) for t in graph.outputs)
    kept = []
    for node in reversed(graph.nodes):
        prim = node.prim
        if (id(node) in live or prim is PLACEHOLDER
                or (prim is not READ_VARIABLE and node.stateful)):
            kept.append(node)
            for t in node.inputs:
                live.add(id(t._op))
    removed = len(graph.nodes) - len(kept)
    kept.reverse()
    graph.nodes = kept
    return removed


# -- 2. constant folding -----------------------------------------------------------------------
def _const_node(graph: FuncGraph, value, like: SymbolicTensor, name: str) -> Node:
    value = _const_value(value)
    return _new_node(graph, CONST, (), {"value": value},
                     (TensorSpec(np.shape(value), like._dtype, value=value),), name)


def _folded(node: Node) -> Optional[tuple]:
    """The values of `node`'s outputs computed now, or None when it must run with the graph."""
    values = [_value(t) for t in node.inputs]
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            out = node.prim.forward(*values, **node.attrs)
    except Exception:  # the graph raises it when it runs, as TensorFlow's kernel would
        return None
    outs = out if node.prim.multi_output else (out,)
    if len(outs) != len(node.outputs):
        return None
    for value, t in zip(outs, node.outputs):
        if not isinstance(value, (np.ndarray, np.generic)) or value.size > FOLD_MAX_ELEMENTS:
            return None
        expected = t._dtype
        if not (_plain_dtype(expected) or expected is dtypes.string):
            return None
        if dtypes.as_dtype(value.dtype) is not expected or \
                not t.shape.is_compatible_with(TensorShape(np.shape(value))):
            return None
    return tuple(outs)


def fold_constants(graph: FuncGraph) -> int:
    """Pure nodes whose inputs are all constants become constants (computed once, now)."""
    def visit(node: Node, placed: list):
        if (not node.inputs or not node.outputs or node.prim is CONST or node.stateful
                or not all(_is_const(t) for t in node.inputs)):
            return None
        values = _folded(node)
        if values is None:
            return None
        made = [_const_node(graph, v, t, node.name + "/folded") for v, t in
                zip(values, node.outputs)]
        placed.extend(made)
        return [m.outputs[0] for m in made]
    return _sweep(graph, visit)


# -- 3. common subexpressions ------------------------------------------------------------------
def _attr_key(value):
    """A hashable key equal for attrs that are equal as TensorFlow attrs: values for plain data,
    identity for everything else (functions, graphs, variables...)."""
    if value is None or isinstance(value, (bool, int, str, bytes)):
        return (type(value), value)
    if isinstance(value, float):
        return (float, value.hex())  # -0.0 and 0.0 differ
    if isinstance(value, (tuple, list)):
        return (type(value), tuple(_attr_key(v) for v in value))
    if isinstance(value, dict):
        return (dict, tuple(sorted(((repr(k), _attr_key(v)) for k, v in value.items()),
                                   key=lambda kv: kv[0])))
    if isinstance(value, (np.ndarray, np.generic)):
        if value.dtype.kind == "O" or value.size > ATTR_COMPARE_LIMIT:
            return ("id", id(value))
        return ("array", value.dtype, np.shape(value), value.tobytes())
    if isinstance(value, dtypes.DType):
        return ("dtype", value.name)
    if isinstance(value, np.dtype):
        return ("np.dtype", value)
    if isinstance(value, TensorShape):
        return ("shape", None if value.rank is None else tuple(value.as_list()))
    return ("id", id(value))


def _writes(node: Node):
    """The variable a node writes, None if it writes none, ALL if it may write any."""
    if node.prim is READ_VARIABLE or not node.stateful:
        return None
    variable = node.attrs.get("variable")
    if variable is not None and not any(isinstance(v, FuncGraph) for v in node.attrs.values()):
        return variable
    return ALL


ALL = object()


def eliminate_common_subexpressions(graph: FuncGraph) -> int:
    """Merges pure nodes with the same primitive, inputs and attrs (constants of equal value
    included), and reads of one variable with no write to it in between."""
    seen: dict = {}
    reads: dict = {}  # id(variable) -> the last read's output

    def visit(node: Node, placed: list):
        prim = node.prim
        if prim is READ_VARIABLE:
            key = id(node.attrs["variable"])
            found = reads.get(key)
            if found is not None:
                return (found,)
            reads[key] = node.outputs[0]
            return None
        written = _writes(node)
        if written is ALL:
            reads.clear()
        elif written is not None:
            reads.pop(id(written), None)
        if node.stateful or prim is PLACEHOLDER or not node.outputs:
            return None
        try:
            key = (prim, tuple(id(t) for t in node.inputs),
                   tuple((k, _attr_key(v)) for k, v in node.attrs.items()))
            if prim is CONST:
                key += (node.outputs[0]._dtype,)
            hash(key)
        except TypeError:
            return None
        found = seen.get(key)
        if found is not None:
            return found.outputs
        seen[key] = node
        return None
    return _sweep(graph, visit)


# -- 4. algebraic simplification ---------------------------------------------------------------
def _neutral_shape(const: SymbolicTensor, other: SymbolicTensor) -> bool:
    """Whether broadcasting `const` against `other` leaves other's shape as it is."""
    if not _is_const(const):
        return False
    rank = other.shape.rank
    dims = np.shape(_value(const))
    return rank is not None and len(dims) <= rank and all(d == 1 for d in dims)


def _all_equal(t: SymbolicTensor, number: float, negative_zero: Optional[bool] = None) -> bool:
    """Whether the constant `t` is `number` everywhere (for zeros: with the sign asked, if any)."""
    if not _is_const(t):
        return False
    value = _value(t)
    if not isinstance(value, (np.ndarray, np.generic)) or value.dtype.kind not in "iuf" \
            or np.size(value) == 0:
        return False
    with np.errstate(all="ignore"):
        if not bool(np.all(value == number)):
            return False
        if negative_zero is not None and value.dtype.kind == "f":
            return bool(np.all(np.signbit(value) == negative_zero))
    return True


def _identity_operand(node: Node) -> Optional[SymbolicTensor]:
    """The input that `node` (one output) returns unchanged, if it is one of the exact rules."""
    prim, ins = node.prim, node.inputs
    out = node.outputs[0]
    dtype = out._dtype
    if prim is array_ops.IDENTITY or prim is array_ops.STOP_GRADIENT:
        return ins[0]
    if prim is math_ops.CAST:
        return ins[0] if ins[0]._dtype is node.attrs["dtype"] else None
    if prim is math_ops.NEGATE or prim is math_ops.LOGICAL_NOT:
        inner = ins[0]._op
        return inner.inputs[0] if inner.prim is prim else None
    # complex x*1 is not exact: its cross terms give inf*0
    if not (dtype.is_floating or dtype.is_integer):
        return None
    floating = dtype.is_floating
    if prim is math_ops.MULTIPLY:
        for x, c in ((ins[0], ins[1]), (ins[1], ins[0])):
            if x._dtype is dtype and _all_equal(c, 1) and _neutral_shape(c, x):
                return x
    elif prim is math_ops.ADD:  # -0.0 + 0.0 is +0.0: for floats only x + (-0.0) is x
        for x, c in ((ins[0], ins[1]), (ins[1], ins[0])):
            if x._dtype is dtype and _neutral_shape(c, x) and \
                    _all_equal(c, 0, True if floating else None):
                return x
    elif prim is math_ops.SUBTRACT:  # x - (+0.0) is x, also for x = -0.0
        x, c = ins
        if _neutral_shape(c, x) and _all_equal(c, 0, False if floating else None):
            return x
    elif prim is math_ops.REAL_DIV or prim is math_ops.POW:
        x, c = ins
        if floating and _neutral_shape(c, x) and _all_equal(c, 1):
            return x
    elif prim in _REDUCTIONS_WITHOUT_AXES:
        if node.attrs.get("axis") == () and (prim is not reduction_ops.MEAN or floating):
            return ins[0]
    elif prim is array_ops.RESHAPE:
        x = ins[0]
        if x.shape.is_fully_defined() and out.shape.is_fully_defined() and \
                x.shape.as_list() == out.shape.as_list():
            return x
    return None


_REDUCTIONS_WITHOUT_AXES = (reduction_ops.SUM, reduction_ops.PROD, reduction_ops.MAX,
                            reduction_ops.MIN, reduction_ops.MEAN)


def _shape_constant(node: Node):
    """The value of Shape/Size/Rank of an input whose static shape says it, else None."""
    prim = node.prim
    shape = node.inputs[0].shape if node.inputs else None
    if prim is array_ops.RANK and shape.rank is not None:
        return np.int32(shape.rank)
    if shape is None or not shape.is_fully_defined():
        return None
    if prim is array_ops.SHAPE:
        return np.array(shape.as_list(), dtype=node.attrs["out_type"].as_numpy_dtype)
    if prim is array_ops.SIZE:
        return node.attrs["out_type"].as_numpy_dtype(math.prod(shape.as_list()))
    return None


def simplify(graph: FuncGraph) -> int:
    """Exact algebraic rewrites (see _identity_operand), Shape/Size/Rank of static shapes as
    constants, and a reshape of a reshape as one reshape."""
    def visit(node: Node, placed: list):
        if len(node.outputs) != 1 or node.stateful:
            return None
        prim = node.prim
        if prim in (array_ops.SHAPE, array_ops.SIZE, array_ops.RANK):
            value = _shape_constant(node)
            if value is None:
                return None
            made = _const_node(graph, value, node.outputs[0], node.name)
            placed.append(made)
            return made.outputs
        same = _identity_operand(node)
        if same is not None:
            return (same,)
        if prim is array_ops.RESHAPE:
            inner = node.inputs[0]._op
            x = inner.inputs[0] if inner.prim is array_ops.RESHAPE else None
            # valid only if the inner reshape is: both sizes known and equal
            if x is not None and x.shape.is_fully_defined() and \
                    inner.outputs[0].shape.is_fully_defined() and \
                    x.shape.num_elements() == inner.outputs[0].shape.num_elements():
                made = _new_node(graph, prim, (x,), dict(node.attrs),
                                 (node.outputs[0]._spec,), node.name)
                placed.append(made)
                return made.outputs
        return None
    return _sweep(graph, visit)


# -- 5. elementwise fusion ---------------------------------------------------------------------
class _Op:
    """How a fused kernel computes one elementwise primitive: a ufunc (which can write in place)
    or the primitive's own forward; and its numexpr form, if it has an exact one."""

    __slots__ = ("ufunc", "numexpr", "when")

    def __init__(self, ufunc=None, numexpr=None, when=None):
        self.ufunc = ufunc
        self.numexpr = numexpr
        self.when = when  # predicate on the output dtype for the ufunc/numexpr form


def _real_float(dtype) -> bool:
    return dtype.is_floating


_M = math_ops
_ELEMENTWISE = {
    _M.ADD: _Op(np.add, "({0} + {1})"), _M.SUBTRACT: _Op(np.subtract, "({0} - {1})"),
    _M.MULTIPLY: _Op(np.multiply, "({0} * {1})"), _M.NEGATE: _Op(np.negative, "(-{0})"),
    _M.REAL_DIV: _Op(np.true_divide, "({0} / {1})", _real_float),
    _M.MAXIMUM: _Op(np.maximum, "maximum({0}, {1})"),
    _M.MINIMUM: _Op(np.minimum, "minimum({0}, {1})"),
    _M.SQUARE: _Op(np.square, "({0} * {0})"), _M.SQRT: _Op(np.sqrt, "sqrt({0})"),
    _M.EXP: _Op(np.exp, "exp({0})"), _M.EXPM1: _Op(np.expm1, "expm1({0})"),
    _M.LOG: _Op(np.log, "log({0})"), _M.LOG1P: _Op(np.log1p, "log1p({0})"),
    _M.SIN: _Op(np.sin, "sin({0})"), _M.COS: _Op(np.cos, "cos({0})"),
    _M.TAN: _Op(np.tan, "tan({0})"),
    _M.ASIN: _Op(np.arcsin, "arcsin({0})"), _M.ACOS: _Op(np.arccos, "arccos({0})"),
    _M.ATAN: _Op(np.arctan, "arctan({0})"), _M.SINH: _Op(np.sinh, "sinh({0})"),
    _M.COSH: _Op(np.cosh, "cosh({0})"), _M.TANH: _Op(np.tanh, "tanh({0})"),
    _M.ASINH: _Op(np.arcsinh, "arcsinh({0})"), _M.ACOSH: _Op(np.arccosh, "arccosh({0})"),
    _M.ATANH: _Op(np.arctanh, "arctanh({0})"), _M.ABS: _Op(np.abs, "abs({0})"),
    _M.FLOOR: _Op(np.floor, "floor({0})"), _M.CEIL: _Op(np.ceil, "ceil({0})"),
    _M.ROUND: _Op(np.rint), _M.RECIPROCAL: _Op(np.reciprocal),
    _M.ATAN2: _Op(np.arctan2, "arctan2({0}, {1})"),
    _M.EQUAL: _Op(np.equal, "({0} == {1})"), _M.NOT_EQUAL: _Op(np.not_equal, "({0} != {1})"),
    _M.LESS: _Op(np.less, "({0} < {1})"), _M.LESS_EQUAL: _Op(np.less_equal, "({0} <= {1})"),
    _M.GREATER: _Op(np.greater, "({0} > {1})"),
    _M.GREATER_EQUAL: _Op(np.greater_equal, "({0} >= {1})"),
    _M.IS_NAN: _Op(np.isnan, "isnan({0})"), _M.IS_INF: _Op(np.isinf, "isinf({0})"),
    _M.IS_FINITE: _Op(np.isfinite, "isfinite({0})"),
    _M.LOGICAL_AND: _Op(np.logical_and, "({0} & {1})"),
    _M.LOGICAL_OR: _Op(np.logical_or, "({0} | {1})"),
    _M.LOGICAL_NOT: _Op(np.logical_not, "(~{0})"),
    _M.BITWISE_AND: _Op(np.bitwise_and), _M.BITWISE_OR: _Op(np.bitwise_or),
    _M.BITWISE_XOR: _Op(np.bitwise_xor), _M.INVERT: _Op(np.invert), _M.CONJ: _Op(np.conj),
    # the primitive's own forward, block by block
    _M.SIGMOID: _Op(), _M.RSQRT: _Op(), _M.SIGN: _Op(), _M.POW: _Op(numexpr="({0} ** {1})",
                                                                     when=_real_float),
    _M.SQUARED_DIFFERENCE: _Op(), _M.DIV_NO_NAN: _Op(), _M.FLOOR_DIV: _Op(), _M.FLOOR_MOD: _Op(),
    _M.TRUNCATE_DIV: _Op(), _M.TRUNCATE_MOD: _Op(), _M.CAST: _Op(), _M.COMPLEX_ABS: _Op(),
    _M.REAL: _Op(), _M.IMAG: _Op(), _M.LEFT_SHIFT: _Op(), _M.RIGHT_SHIFT: _Op(),
    array_ops.SELECT: _Op(numexpr="where({0}, {1}, {2})"),
    nn_ops.RELU6: _Op(), nn_ops.LEAKY_RELU: _Op(), nn_ops.ELU: _Op(), nn_ops.SELU: _Op(),
    nn_ops.SOFTPLUS: _Op(), nn_ops.RELU_GRAD: _Op(), nn_ops.RELU6_GRAD: _Op(),
    nn_ops.LEAKY_RELU_GRAD: _Op(), nn_ops.ELU_GRAD: _Op(), nn_ops.SELU_GRAD: _Op(),
}
_RELU = nn_ops.RELU  # max(x, 0): Maximum with a zero constant of x's dtype
_ELEMENTWISE[_RELU] = _ELEMENTWISE[_M.MAXIMUM]
_FUSED_REDUCTIONS = (reduction_ops.SUM, reduction_ops.MEAN, reduction_ops.MAX, reduction_ops.MIN)
_NUMEXPR_DTYPES = (np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.bool_))


class _Step:
    """One elementwise op of a kernel: args are ("i", k) inputs, ("c", k) constants, ("s", k)
    earlier steps."""

    __slots__ = ("prim", "op", "args", "attrs", "dtype", "dtype_t", "leaves")

    def __init__(self, prim, op, args, attrs, dtype_t):
        self.prim, self.op, self.args, self.attrs = prim, op, args, attrs
        self.dtype_t = dtype_t  # the tf.DType of the result
        self.dtype = np.dtype(dtype_t.as_numpy_dtype)
        self.leaves = None  # the input indices this step depends on


class Kernel:
    """A fused expression: steps over inputs and constants, optionally reduced in full.

    Called with one array per input, it evaluates the expression by the plan made for those
    input shapes (in one go, block by block, or with numexpr), plans being cached per shapes.
    """

    def __init__(self, steps: list, consts: list, in_specs: list, reduction, spec: TensorSpec,
                 names: list):
        self.steps, self.consts, self.in_specs = steps, consts, in_specs
        self.reduction = reduction  # (primitive, attrs) or None
        self.spec = spec
        self.names = names  # the fused nodes, for reading graphs and errors
        self.out_dtype = steps[-1].dtype
        for step in steps:
            leaves = set()
            for kind, k in step.args:
                if kind == "i":
                    leaves.add(k)
                elif kind == "s":
                    leaves |= steps[k].leaves
            step.leaves = frozenset(leaves)
        self._plans: dict = {}
        self._numexpr_text = _numexpr_expression(self)

    def __repr__(self):
        return f"<Kernel {'+'.join(self.names)}>"

    # -- running ---------------------------------------------------------------------------
    def __call__(self, *arrays):
        key = tuple([(np.shape(a), getattr(a, "dtype", None),
                      bool(getattr(a, "flags", None) is not None and a.flags.c_contiguous))
                     for a in arrays])
        plan = self._plans.get(key)
        if plan is None:
            if len(self._plans) > 64:
                self._plans.clear()
            plan = self._plans[key] = self._plan(arrays)
        if _ERRSTATE is None:  # pragma: no cover
            with np.errstate(all="ignore"):
                return plan(*arrays)
        token = _ERRSTATE.set(_ERR_IGNORE)
        try:
            return plan(*arrays)
        finally:
            _ERRSTATE.reset(token)

    def _plan(self, arrays):
        shapes = [np.shape(a) for a in arrays]
        trusted = all(getattr(a, "dtype", None) == s.dtype.as_numpy_dtype
                      for a, s in zip(arrays, self.in_specs))
        const_shapes = [np.shape(c) for c in self.consts]
        out_shape = np.broadcast_shapes(*shapes, *const_shapes)
        size = math.prod(out_shape)
        # flat: every input and constant is one number or the whole output, contiguous
        flat = all(math.prod(s) == 1 for s in const_shapes) and all(
            math.prod(s) == 1 or (s == out_shape and a.flags.c_contiguous)
            for s, a in zip(shapes, arrays))
        by_rows = len(out_shape) >= 1 and out_shape[0] > 1 and all(
            len(s) < len(out_shape) or s[0] == 1 for s in const_shapes)
        if _numexpr_wanted(size) and self._numexpr_text is not None and flat and trusted:
            return self._numexpr_plan(shapes, out_shape)
        if size <= BLOCK or not trusted:
            return self._single_plan(shapes, trusted)
        if flat:
            return self._blocked_plan(["flat" if math.prod(s) != 1 or s == out_shape else "scalar"
                                       for s in shapes], shapes, out_shape, size)
        if by_rows:
            rank = len(out_shape)
            modes = ["rows" if len(s) == rank and s[0] == out_shape[0] else "whole"
                     for s in shapes]
            return self._blocked_plan(modes, shapes, out_shape, size)
        return self._single_plan(shapes, trusted)

    # -- plans -----------------------------------------------------------------------------
    def _single_plan(self, shapes, trusted: bool):
        """The whole expression at once, in place on the kernel's temporaries."""
        full = _fullness(self, shapes) if trusted else [False] * len(self.steps)
        names = [f"i{k}" for k in range(len(shapes))]
        namespace = {"_np": np}
        bind = _binder(namespace)
        lines, result = _step_lines(self, names, full, bind, hoisted=set())
        lines.append(f"return {_reduce_call(self, result, bind)}")
        return _function(namespace, names, lines)

    def _blocked_plan(self, modes, shapes, out_shape, size):
        """The expression block by block over the flattened output (`flat`) or over rows."""
        rank = len(out_shape)
        rows = "rows" in modes
        step_len = max(1, BLOCK // max(1, math.prod(out_shape[1:]))) if rows else BLOCK
        # the shapes a block sees, to decide what may be written in place
        block_shapes = []
        for s, mode in zip(shapes, modes):
            if mode == "flat":
                block_shapes.append((min(BLOCK, size),))
            elif mode == "scalar":
                block_shapes.append(())
            elif mode == "rows":
                block_shapes.append((min(step_len, out_shape[0]),) + tuple(s[1:]))
            else:
                block_shapes.append(s)
        sliced = {k for k, m in enumerate(modes) if m in ("flat", "rows")}
        hoisted = {j for j, step in enumerate(self.steps) if not (step.leaves & sliced)}
        full = _fullness(self, block_shapes)
        for j in hoisted:
            full[j] = False
        namespace = {"_np": np}
        bind = _binder(namespace)
        names = [f"i{k}" for k in range(len(shapes))]
        head = []
        for k, mode in enumerate(modes):
            if mode == "flat":
                head.append(f"i{k} = i{k}.reshape(-1)")
            elif mode == "scalar":
                head.append(f"i{k} = i{k}.reshape(())")
        block_names = [f"b{k}" if k in sliced else f"i{k}" for k in range(len(shapes))]
        consts = [bind(np.reshape(c, ()) if not rows else c, "c") for c in self.consts]
        pre, _ = _step_lines(self, names, full, bind, hoisted=set(), only=hoisted,
                             const_names=consts)
        reduce = self.reduction
        dest = "_out[_a:_a + _n]" if reduce is None else None
        body, result = _step_lines(self, block_names, full, bind, hoisted=hoisted, dest=dest,
                                   const_names=consts)
        out_dtype = bind(self.out_dtype, "dt")
        if reduce is None:
            shape = tuple(out_shape) if rows else (size,)
            head.append(f"_out = _np.empty({shape}, {out_dtype})")
        else:
            head.append("_parts = []")
        loop = [f"for _a in range(0, {out_shape[0] if rows else size}, {step_len}):",
                f"    _n = {step_len}"]
        loop += [f"    b{k} = i{k}[_a:_a + _n]" for k in sorted(sliced)]
        loop += ["    " + line for line in body]
        if reduce is not None:
            prim = reduce[0]
            part = reduction_ops.SUM if prim is reduction_ops.MEAN else prim
            loop.append(f"    _parts.append({bind(part.forward, 'r')}({result}))")
            combined = f"{bind(part.forward, 'r')}(_np.asarray(_parts, {out_dtype}))"
            if prim is reduction_ops.MEAN:
                combined = f"({combined} / {size})"
            if reduce[1].get("keepdims"):
                combined = f"_np.reshape({combined}, {(1,) * rank})"
            tail = [f"return {combined}"]
        else:
            tail = [f"return _out.reshape({tuple(out_shape)})"]
        return _function(namespace, names, head + pre + loop + tail)

    def _numexpr_plan(self, shapes, out_shape):
        size = math.prod(out_shape)
        text = self._numexpr_text
        consts = {f"c{k}": np.reshape(c, ()) for k, c in enumerate(self.consts)}
        evaluate = NUMEXPR.evaluate
        reduce = self.reduction
        out_dtype = self.out_dtype
        n_inputs = len(shapes)

        def flat_inputs(arrays):
            local = dict(consts)
            for k, a in enumerate(arrays):
                local[f"i{k}"] = a.reshape(-1) if np.shape(a) == out_shape else np.reshape(a, ())
            return local

        if reduce is None:
            def run(*arrays):
                out = np.empty(size, out_dtype)
                evaluate(text, local_dict=flat_inputs(arrays), out=out)
                return out.reshape(out_shape)
            return run
        prim, attrs = reduce
        part = reduction_ops.SUM.forward if prim is reduction_ops.MEAN else prim.forward

        def run_reduced(*arrays):
            local = flat_inputs(arrays)
            parts = []
            buffer = np.empty(min(size, NUMEXPR_BLOCK), out_dtype)
            for a in range(0, size, NUMEXPR_BLOCK):
                block = dict(local)
                for k in range(n_inputs):
                    v = local[f"i{k}"]
                    if v.ndim:
                        block[f"i{k}"] = v[a:a + NUMEXPR_BLOCK]
                out = buffer[:min(NUMEXPR_BLOCK, size - a)]
                evaluate(text, local_dict=block, out=out)
                parts.append(part(out))
            total = part(np.asarray(parts, out_dtype))
            if prim is reduction_ops.MEAN:
                total = total / size
            if attrs.get("keepdims"):
                total = np.reshape(total, (1,) * len(out_shape))
            return total
        return run_reduced

    # -- inline code for the compiled function ---------------------------------------------
    def inline_source(self, ins: list, out: str, bind) -> Optional[str]:
        """Lines computing the kernel inside the compiled function, when its input shapes are
        static and small; None otherwise."""
        shapes = []
        for spec in self.in_specs:
            if not spec.shape.is_fully_defined():
                return None
            shapes.append(tuple(spec.shape.as_list()))
        out_shape = np.broadcast_shapes(*shapes, *[np.shape(c) for c in self.consts])
        if math.prod(out_shape) > INLINE_LIMIT:
            return None
        full = _fullness(self, shapes)
        lines, result = _step_lines(self, ins, full, bind, hoisted=set(), prefix=out + "_s",
                                    const_names=[bind(c, "c") for c in self.consts])
        lines.append(f"{out} = {_reduce_call(self, result, bind)}")
        body = ["    " + line for line in lines]
        if _ERRSTATE is None:  # pragma: no cover
            return "\n".join([f"with {bind(np, '_np')}.errstate(all='ignore'):"] + body)
        token = out + "_e"
        return "\n".join([f"{token} = {bind(_ERRSTATE.set, 'e')}({bind(_ERR_IGNORE, 'e')})",
                          "try:"] + body +
                         ["finally:", f"    {bind(_ERRSTATE.reset, 'e')}({token})"])


def _numexpr_wanted(size: int) -> bool:
    return (NUMEXPR is not None and size >= NUMEXPR_MIN_SIZE
            and NUMEXPR.get_num_threads() >= NUMEXPR_MIN_THREADS)


def _binder(namespace: dict):
    counter = itertools.count()
    bound: dict = {}

    def bind(value, hint: str) -> str:
        name = bound.get(id(value))
        if name is None:
            name = bound[id(value)] = f"_{hint}{next(counter)}"
            namespace[name] = value
        return name
    return bind


def _function(namespace: dict, names: list, lines: list):
    source = f"def run({', '.join(names)}):\n" + "".join("    " + line + "\n" for line in lines)
    exec(compile(source, "<fused kernel>", "exec"), namespace)
    run = namespace["run"]
    run.source = source
    return run


def _fullness(kernel: Kernel, in_shapes: list) -> list:
    """For each step: whether its result has the kernel's full (block) output shape."""
    const_shapes = [np.shape(c) for c in kernel.consts]
    shapes = []
    for step in kernel.steps:
        arg_shapes = [in_shapes[k] if kind == "i" else const_shapes[k] if kind == "c"
                      else shapes[k] for kind, k in step.args]
        shapes.append(np.broadcast_shapes(*arg_shapes))
    final = np.broadcast_shapes(*in_shapes, *const_shapes)
    # a ufunc on 0-d arrays returns a NumPy scalar, which cannot be written into
    return [s == final and len(final) > 0 for s in shapes]


def _step_lines(kernel: Kernel, in_names: list, full: list, bind, hoisted: set, dest=None,
                only=None, prefix: str = "s", const_names=None):
    """Source lines computing the steps (those in `only`, else all but `hoisted`).

    A ufunc step writes into the buffer of an argument computed by an earlier step of these
    lines when that result is full-size, of the step's dtype and not used afterwards; the last
    step writes into `dest` when given. Returns the lines and the result's name.
    """
    steps = kernel.steps
    consts = const_names or [bind(c, "c") for c in kernel.consts]
    last_use = {}
    for j, step in enumerate(steps):
        for kind, k in step.args:
            if kind == "s":
                last_use[k] = j
    names: dict = {}
    owned = set()  # steps whose result is a temporary these lines made
    lines = []
    result = None
    for j, step in enumerate(steps):
        if (only is not None and j not in only) or (only is None and j in hoisted):
            names[j] = f"{prefix}{j}"
            result = names[j]
            continue
        args = [in_names[k] if kind == "i" else consts[k] if kind == "c" else names[k]
                for kind, k in step.args]
        name = f"{prefix}{j}"
        op = step.op
        last = j == len(steps) - 1
        if op.ufunc is not None and (op.when is None or op.when(step.dtype_t)):
            call = f"{bind(op.ufunc, 'u')}({', '.join(args)}"
            target = None
            if last and dest is not None:
                target = dest
            elif full[j]:
                for kind, k in step.args:
                    if kind == "s" and k in owned and full[k] and last_use.get(k) == j \
                            and steps[k].dtype == step.dtype:
                        target = names[k]
                        owned.discard(k)
                        break
            if target is not None:
                lines.append(f"{name} = {call}, out={target})")
            else:
                lines.append(f"{name} = {call})")
            owned.add(j)
        else:
            attrs = "".join(f", {k}={bind(v, 'k')}" for k, v in step.attrs.items())
            lines.append(f"{name} = {bind(step.prim.forward, 'f')}({', '.join(args)}{attrs})")
            if last and dest is not None:
                lines.append(f"{dest} = {name}")
        names[j] = name
        result = name
    return lines, result


def _reduce_call(kernel: Kernel, result: str, bind) -> str:
    if kernel.reduction is None:
        return result
    prim, attrs = kernel.reduction
    args = "".join(f", {k}={bind(v, 'k')}" for k, v in attrs.items())
    return f"{bind(prim.forward, 'r')}({result}{args})"


def _numexpr_expression(kernel: Kernel) -> Optional[str]:
    """The kernel as one numexpr expression, or None if a step has no exact numexpr form."""
    texts = []
    for step in kernel.steps:
        op = step.op
        if op.numexpr is None or (op.when is not None and not op.when(step.dtype_t)) or \
                step.dtype not in _NUMEXPR_DTYPES:
            return None
        args = []
        for kind, k in step.args:
            if kind == "i":
                if kernel.in_specs[k].dtype.as_numpy_dtype not in _NUMEXPR_DTYPES:
                    return None
                args.append(f"i{k}")
            elif kind == "c":
                if np.asarray(kernel.consts[k]).dtype not in _NUMEXPR_DTYPES:
                    return None
                args.append(f"c{k}")
            else:
                args.append(texts[k])
        texts.append(op.numexpr.format(*args))
    return texts[-1]


def _fused_forward(*arrays, kernel: Kernel):
    return kernel(*arrays)


FUSED = primitive("FusedElementwise", _fused_forward, None, lambda *specs, kernel: kernel.spec)


def _emit_fused(node: Node, ins: list, outs: list, bind) -> str:
    kernel = node.attrs["kernel"]
    source = kernel.inline_source(ins, outs[0], bind)
    if source is not None:
        return source
    return f"{outs[0]} = {bind(_fused_forward, 'f')}({', '.join(ins)}, kernel={bind(kernel, 'k')})"


compiler.emitters[FUSED] = _emit_fused


# -- inline ufunc calls for single elementwise nodes -------------------------------------------
# These primitives' forwards are a NumPy ufunc run with floating-point warnings silenced. The
# compiled function calls the ufunc itself, silenced inline: ~130 ns less per op than calling
# the forward (a quarter of a small op's time).
_QUIET_UFUNCS = {
    _M.ADD: np.add, _M.SUBTRACT: np.subtract, _M.MULTIPLY: np.multiply, _M.SQRT: np.sqrt,
    _M.EXP: np.exp, _M.EXPM1: np.expm1, _M.LOG: np.log, _M.LOG1P: np.log1p, _M.SIN: np.sin,
    _M.COS: np.cos, _M.TAN: np.tan, _M.ASIN: np.arcsin, _M.ACOS: np.arccos, _M.ATAN: np.arctan,
    _M.SINH: np.sinh, _M.COSH: np.cosh, _M.ACOSH: np.arccosh, _M.ATANH: np.arctanh,
    _M.RECIPROCAL: np.reciprocal, _M.ATAN2: np.arctan2, _M.REAL_DIV: np.true_divide,
}


def _emit_quiet_ufunc(ufunc):
    def emit(node: Node, ins: list, outs: list, bind) -> str:
        if node.prim is _M.REAL_DIV and not node.outputs[0]._dtype.is_floating:
            call = f"{bind(node.prim.forward, 'f')}({', '.join(ins)})"  # complex: TF's x/0
            return f"{outs[0]} = {call}"
        token = outs[0] + "_e"
        return "\n".join([
            f"{token} = {bind(_ERRSTATE.set, 'e')}({bind(_ERR_IGNORE, 'e')})",
            "try:",
            f"    {outs[0]} = {bind(ufunc, 'u')}({', '.join(ins)})",
            "finally:",
            f"    {bind(_ERRSTATE.reset, 'e')}({token})"])
    return emit


if _ERRSTATE is not None:
    for _prim, _ufunc in _QUIET_UFUNCS.items():
        compiler.emitters.setdefault(_prim, _emit_quiet_ufunc(_ufunc))


def _fusable(node: Node) -> bool:
    if node.prim not in _ELEMENTWISE or node.stateful or len(node.outputs) != 1:
        return False
    return _plain_dtype(node.outputs[0]._dtype) and all(_plain_dtype(t._dtype) for t in node.inputs)


def _full_reduction(node: Node) -> bool:
    if node.prim not in _FUSED_REDUCTIONS or not _fusable_input(node):
        return False
    x = node.inputs[0]
    axis = node.attrs.get("axis")
    rank = x.shape.rank
    if axis is not None and (rank is None or sorted(axis) != list(range(rank))):
        return False
    dtype = x._dtype
    if node.prim is reduction_ops.MEAN:
        return dtype.is_floating or dtype.is_complex
    return dtype.is_numeric


def _fusable_input(node: Node) -> bool:
    return len(node.inputs) == 1 and _fusable(node.inputs[0]._op)


def fuse_elementwise(graph: FuncGraph) -> int:
    """Replaces each maximal tree of elementwise nodes whose intermediate results are used only
    inside the tree (optionally under a full Sum/Mean/Max/Min) by one FusedElementwise node.
    Returns the number of fused nodes made."""
    uses = _consumers(graph)
    index = {id(n): i for i, n in enumerate(graph.nodes)}
    taken: set = set()
    groups = []  # (root, members in execution order)
    for node in reversed(graph.nodes):
        if id(node) in taken:
            continue
        reduced = _full_reduction(node)
        if not reduced and not _fusable(node):
            continue
        members = {id(node): node}
        pending = [node]
        while pending:  # grow toward the inputs, latest producer first
            pending.sort(key=lambda n: index[id(n)])
            current = pending.pop()
            for t in current.inputs:
                producer = t._op
                if id(producer) in members or id(producer) in taken or not _fusable(producer):
                    continue
                if all(user is not None and id(user) in members for user in uses.get(id(t), ())):
                    if all(all(u is not None and id(u) in members for u in uses.get(id(o), ()))
                           for o in producer.outputs):
                        members[id(producer)] = producer
                        pending.append(producer)
        if len(members) < 2:
            continue
        taken.update(members)
        groups.append((node, sorted(members.values(), key=lambda n: index[id(n)]), reduced))
    if not groups:
        return 0
    replace = {}
    for root, members, reduced in groups:
        replace[id(root)] = _fused_node(graph, root, members, reduced)
    member_ids = set()
    for _, members, _ in groups:
        member_ids.update(id(m) for m in members)

    fused_outputs: dict = {}  # id(root output) -> (root output, fused output)

    def visit(node: Node, placed: list):
        made = replace.get(id(node))
        if made is not None:  # its inputs may be the roots of groups fused before
            made.inputs = tuple(fused_outputs[id(t)][1] if id(t) in fused_outputs else t
                                for t in made.inputs)
            fused_outputs[id(node.outputs[0])] = (node.outputs[0], made.outputs[0])
            placed.append(made)
            return made.outputs
        if id(node) in member_ids:
            return ()
        return None
    _sweep(graph, visit)
    return len(groups)


def _fused_node(graph: FuncGraph, root: Node, members: list, reduced: bool) -> Node:
    elementwise = members[:-1] if reduced else members
    inputs, in_index, consts, const_index = [], {}, [], {}
    step_of = {}
    steps = []
    for node in elementwise:
        args = []
        for t in node.inputs:
            producer = t._op
            if id(producer) in step_of:
                args.append(("s", step_of[id(producer)]))
            elif producer.prim is CONST and isinstance(_value(t), (np.ndarray, np.generic)):
                if id(t) not in const_index:
                    const_index[id(t)] = len(consts)
                    consts.append(_const_value(_value(t)))
                args.append(("c", const_index[id(t)]))
            else:
                if id(t) not in in_index:
                    in_index[id(t)] = len(inputs)
                    inputs.append(t)
                args.append(("i", in_index[id(t)]))
        out = node.outputs[0]
        if node.prim is _RELU:
            zero = np.zeros((), out._dtype.as_numpy_dtype)
            zero.flags.writeable = False
            consts.append(zero)
            args.append(("c", len(consts) - 1))
        step = _Step(node.prim, _ELEMENTWISE[node.prim], tuple(args),
                     {} if node.prim is _RELU else dict(node.attrs), out._dtype)
        step_of[id(node)] = len(steps)
        steps.append(step)
    reduction = (root.prim, dict(root.attrs)) if reduced else None
    spec = TensorSpec(root.outputs[0].shape, root.outputs[0]._dtype)
    kernel = Kernel(steps, consts, [TensorSpec(t.shape, t._dtype) for t in inputs], reduction,
                    spec, [m.name for m in members])
    return _new_node(graph, FUSED, tuple(inputs), {"kernel": kernel}, (spec,),
                     "fused_" + root.name)


# -- the pipeline ------------------------------------------------------------------------------
def optimize(graph: FuncGraph, jit_compile: bool = False) -> FuncGraph:
    """An optimised copy of `graph`; `graph` itself is left as traced."""
    g = copy_graph(graph)
    for _ in range(4):
        changed = simplify(g) + fold_constants(g) + eliminate_common_subexpressions(g)
        if not changed:
            break
    prune(g)
    if jit_compile:
        fuse_elementwise(g)
        prune(g)
    return g
