"""Control flow: tf.cond, tf.while_loop, tf.case, tf.switch_case.

Eagerly these are Python: the chosen branch runs, the loop iterates, and tapes record the ops that
run. While a graph is traced, each branch or loop body is traced into a subgraph and the whole
construct becomes one primitive node holding its subgraphs (If, While), run by calling the
subgraphs' compiled code. Their gradients are built from the subgraphs: the gradient of an If is an
If of the branches' gradients; the gradient of a While re-runs the loop to record each iteration's
state, then runs the body's gradient graph backwards over those states.

Subgraphs are tensorweave.function's IR: this family uses it at call time (control flow is the one
op family that holds graphs).
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from tensorweave.framework import dtypes
from tensorweave.framework.context import state
from tensorweave.framework.convert import convert_to_tensor
from tensorweave.framework.errors import InvalidArgumentError, op_error
from tensorweave.framework.op_registry import execute, primitive
from tensorweave.framework.tensor import Tensor
from tensorweave.framework.tensor_shape import as_shape
from tensorweave.framework.tensor_spec import TensorSpec
from tensorweave.framework.variant import VariantValue
from tensorweave.ops import math_ops
from tensorweave.util import nest


def _ir():
    from tensorweave.function import graph as graph_ir
    return graph_ir


def _run(graph, arrays) -> list:
    from tensorweave.function.concrete_function import executable
    return executable(graph)(*arrays)


def zeros_gradient(t):
    from tensorweave.autodiff.tape import zeros_gradient as zeros
    return zeros(t)


def _differentiable(dtype) -> bool:
    return dtype.is_floating or dtype.is_complex or dtype is dtypes.variant


# -- subgraphs ------------------------------------------------------------------------------------
def _trace(name: str, fn: Callable, args_structure=None, specs=None, local_variable_ids=()):
    """Traces `fn` into a subgraph of the graph being built.

    `args_structure` is the structure `fn` receives (None: no arguments), with one TensorSpec per
    flat leaf in `specs`. Returns the graph (outputs = flat tensors) and `fn`'s structured result.
    """
    graph_ir = _ir()
    outer = state.graph
    graph = graph_ir.FuncGraph(f"{outer.name}_{name}", outer_graph=outer)
    graph.outer_tapes = state.tapes
    graph.local_variable_ids = set(local_variable_ids)
    saved = state.tapes
    state.tapes = []  # the subgraph's ops are recorded through its node, not one by one
    try:
        with graph.as_default():
            if args_structure is None:
                result = fn()
            else:
                placeholders = [graph.placeholder(s) for s in specs]
                args = nest.pack_sequence_as(args_structure, placeholders, expand_composites=True)
                result = fn(*args) if isinstance(args_structure, (list, tuple)) and \
                    not nest._is_namedtuple(args_structure) else fn(args)
            # a branch run for its side effects alone (assignments) returns None: no outputs
            leaves = [] if result is None else nest.flatten(result, expand_composites=True)
            outs = [graph.own(_as_tensor(v, name)) for v in leaves]
    finally:
        state.tapes = saved
    graph.outputs = outs
    return graph, result


def _as_tensor(value, where: str) -> Tensor:
    if value is None:
        raise ValueError(f"{where} returned None: every output of a tf.cond branch or a "
                         f"tf.while_loop body must be a tensor (or convertible to one)")
    return convert_to_tensor(value)


def _gradient_of(graph, inputs: list, dys: list) -> list:
    """d(graph outputs · dys)/d(inputs), computed by copying the graph's ops into the current
    context under a tape; zeros where unconnected, None for non-differentiable inputs."""
    from tensorweave.autodiff.tape import GradientTape, UnconnectedGradients
    from tensorweave.function.interpreter import inline
    current = state.graph
    inputs = [current.own(t) if current is not None else t for t in inputs]
    diff = [i for i, t in enumerate(inputs) if _differentiable(t.dtype)]
    with GradientTape(watch_accessed_variables=False) as tape:
        for i in diff:
            tape.watch(inputs[i])
        outs = inline(graph, inputs)
    pairs = [(o, g) for o, g in zip(outs, dys) if g is not None and _differentiable(o.dtype)]
    if not pairs or not diff:
        return [None] * len(inputs)
    grads = tape.gradient([o for o, _ in pairs], [inputs[i] for i in diff],
                          output_gradients=[g for _, g in pairs],
                          unconnected_gradients=UnconnectedGradients.ZERO)
    result = [None] * len(inputs)
    for i, g in zip(diff, grads):
        result[i] = g
    return result


# -- cond -----------------------------------------------------------------------------------------
def _if_forward(pred, *inputs, then_graph, else_graph, n_then):
    if pred:
        return tuple(_run(then_graph, inputs[:n_then]))
    return tuple(_run(else_graph, inputs[n_then:]))


def _if_abstract(pred, *inputs, then_graph, else_graph, n_then):
    return tuple(TensorSpec(a.shape.most_specific_compatible_shape(b.shape), a.dtype)
                 for a, b in zip(then_graph.outputs, else_graph.outputs))


def _if_grad(op, dys):
    then_graph, else_graph, n_then = (op.attrs[k] for k in ("then_graph", "else_graph", "n_then"))
    pred, captured = op.inputs[0], list(op.inputs[1:])
    diff = [i for i, t in enumerate(captured) if _differentiable(t.dtype)]
    if not diff:
        return (None,) * len(op.inputs)
    dys = list(dys)

    def branch(graph, start, stop):
        def gradients():
            grads = _gradient_of(graph, captured[start:stop], dys)
            full = [None] * len(captured)
            full[start:stop] = grads
            return [zeros_gradient(captured[i]) if full[i] is None else full[i] for i in diff]
        return gradients

    grads = cond(pred, branch(then_graph, 0, n_then), branch(else_graph, n_then, len(captured)))
    result = [None] * len(op.inputs)
    for i, g in zip(diff, grads if isinstance(grads, (list, tuple)) else [grads]):
        result[1 + i] = g
    return tuple(result)


IF = primitive("If", _if_forward, _if_grad, _if_abstract, multi_output=True)


def _check_branches(true_result, false_result) -> None:
    if (true_result is None) != (false_result is None):
        raise ValueError(f"true_fn and false_fn arguments to tf.cond must both return None or "
                         f"both return tensors.\n\ntrue_fn output: {true_result}\nfalse_fn "
                         f"output: {false_result}")
    try:
        nest.assert_same_structure(true_result, false_result, expand_composites=True)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"true_fn and false_fn arguments to tf.cond must have the same number, "
                         f"type, and overall structure of return values.\n\ntrue_fn output: "
                         f"{true_result}\nfalse_fn output: {false_result}\n\nError details:\n"
                         f"{exc}") from None


def cond(pred, true_fn=None, false_fn=None, name=None):
    """`true_fn()` if `pred` else `false_fn()`; in a graph, both are traced and one runs."""
    if not callable(true_fn):
        raise TypeError("'true_fn' must be callable.")
    if not callable(false_fn):
        raise TypeError("'false_fn' must be callable.")
    pred = convert_to_tensor(pred)
    _check_pred(pred)
    if state.graph is None:
        return true_fn() if bool(pred) else false_fn()
    then_graph, true_result = _trace("true", true_fn)
    else_graph, false_result = _trace("false", false_fn)
    _check_branches(true_result, false_result)
    for a, b in zip(then_graph.outputs, else_graph.outputs):
        if a.dtype != b.dtype:
            raise TypeError(f"true_fn and false_fn arguments to tf.cond must have the same "
                            f"dtypes: {a.dtype.name} in true_fn, {b.dtype.name} in false_fn")
    then_caps = [outer for outer, _ in then_graph.captures]
    else_caps = [outer for outer, _ in else_graph.captures]
    outs = execute(IF, (pred, *then_caps, *else_caps),
                   {"then_graph": then_graph, "else_graph": else_graph, "n_then": len(then_caps)})
    if true_result is None:
        return None
    return nest.pack_sequence_as(true_result, list(outs), expand_composites=True)


def _check_pred(pred: Tensor) -> None:
    if pred.dtype is not dtypes.bool:
        raise TypeError(f"pred must not be a Python bool or a tensor of dtype {pred.dtype.name}: "
                        f"tf.cond needs a scalar bool tensor")
    if pred.shape.rank not in (0, None):
        raise ValueError(f"Shape must be rank 0 but is rank {pred.shape.rank} for 'cond' "
                         f"(pred has shape {pred.shape})")


# -- while_loop -----------------------------------------------------------------------------------
def _loop(cond_graph, body_graph, n_vars, n_cond, inputs, max_iter, history=None) -> list:
    values = list(inputs[:n_vars])
    cond_caps = list(inputs[n_vars:n_vars + n_cond])
    body_caps = list(inputs[n_vars + n_cond:])
    count = 0
    while (max_iter is None or count < max_iter) and _run(cond_graph, values + cond_caps)[0]:
        if history is not None:
            history.append(values)
        values = _run(body_graph, values + body_caps)
        count += 1
    return values


def _while_forward(*inputs, cond_graph, body_graph, n_vars, n_cond, has_max):
    max_iter = int(inputs[-1]) if has_max else None
    inputs = inputs[:-1] if has_max else inputs
    return tuple(_loop(cond_graph, body_graph, n_vars, n_cond, inputs, max_iter))


def _while_abstract(*specs, cond_graph, body_graph, n_vars, n_cond, has_max):
    return tuple(TensorSpec(t.shape, t.dtype) for t in body_graph.inputs[:n_vars])


def _body_gradient_graph(body_graph, n_vars: int):
    """A graph: (loop vars, body captures, output gradients) -> (their gradients), for one
    iteration of the body."""
    graph_ir = _ir()
    graph = graph_ir.FuncGraph(f"{body_graph.name}_grad")
    with graph.as_default():
        inputs = [graph.placeholder(TensorSpec(t.shape, t.dtype)) for t in body_graph.inputs]
        dys = [graph.placeholder(TensorSpec(t.shape, t.dtype)) for t in body_graph.outputs]
        grads = _gradient_of(body_graph, inputs, dys)
        outs = [graph.own(zeros_gradient(t) if g is None else g) for t, g in zip(inputs, grads)]
    graph.outputs = outs
    return graph


def _while_grad_forward(*inputs, cond_graph, body_graph, grad_graph, n_vars, n_cond, has_max):
    n_in = len(inputs) - n_vars  # the While's inputs, then one gradient per loop output
    forward_inputs, dys = inputs[:n_in], list(inputs[n_in:])
    max_iter = int(forward_inputs[-1]) if has_max else None
    forward_inputs = forward_inputs[:-1] if has_max else forward_inputs
    history: list = []
    _loop(cond_graph, body_graph, n_vars, n_cond, forward_inputs, max_iter, history)
    body_caps = list(forward_inputs[n_vars + n_cond:])
    cap_grads = [c.zeros_like() if isinstance(c, VariantValue) else np.zeros_like(c)
                 for c in body_caps]
    for values in reversed(history):
        grads = _run(grad_graph, list(values) + body_caps + dys)
        dys = list(grads[:n_vars])
        for i, g in enumerate(grads[n_vars:]):
            cap_grads[i] = cap_grads[i] + g
    return tuple(dys) + tuple(g if isinstance(g, VariantValue) else np.asarray(g, dtype=c.dtype)
                              for g, c in zip(cap_grads, body_caps))


def _while_grad_abstract(*specs, cond_graph, body_graph, grad_graph, n_vars, n_cond, has_max):
    n_in = len(specs) - n_vars
    forward = specs[:n_in - 1] if has_max else specs[:n_in]
    return tuple(TensorSpec(s.shape, s.dtype) for s in forward[:n_vars]) + tuple(
        TensorSpec(s.shape, s.dtype) for s in forward[n_vars + n_cond:])


WHILE_GRAD = primitive("WhileGrad", _while_grad_forward, None, _while_grad_abstract,
                       multi_output=True)


def _while_grad(op, dys):
    attrs = op.attrs
    n_vars, n_cond = attrs["n_vars"], attrs["n_cond"]
    body_graph = attrs["body_graph"]
    grad_graph = body_graph.derived.get("gradient")
    if grad_graph is None:
        grad_graph = body_graph.derived["gradient"] = _body_gradient_graph(body_graph, n_vars)
    dys = [zeros_gradient(o) if g is None else g for o, g in zip(op.outputs, dys)]
    grads = execute(WHILE_GRAD, tuple(op.inputs) + tuple(dys), {
        "cond_graph": attrs["cond_graph"], "body_graph": attrs["body_graph"],
        "grad_graph": grad_graph, "n_vars": n_vars, "n_cond": n_cond,
        "has_max": attrs["has_max"]})
    var_grads, cap_grads = grads[:n_vars], grads[n_vars:]
    result = [None] * len(op.inputs)
    for i in range(n_vars):
        if _differentiable(op.inputs[i].dtype):
            result[i] = var_grads[i]
    for j, g in enumerate(cap_grads):
        index = n_vars + n_cond + j
        if _differentiable(op.inputs[index].dtype):
            result[index] = g
    return tuple(result)


WHILE = primitive("While", _while_forward, _while_grad, _while_abstract, multi_output=True)


def _call_with(fn: Callable, loop_vars):
    if isinstance(loop_vars, (list, tuple)) and not nest._is_namedtuple(loop_vars):
        return fn(*loop_vars)
    return fn(loop_vars)


def _repack(loop_vars, result):
    """The body's result in the structure of `loop_vars` (a one-element list may come back bare)."""
    if isinstance(loop_vars, (list, tuple)) and len(loop_vars) == 1 and \
            not isinstance(result, (list, tuple)):
        result = type(loop_vars)([result]) if not nest._is_namedtuple(loop_vars) else result
    return result


def _loop_spec(value: Tensor, invariant) -> TensorSpec:
    shape = value.shape if invariant is None else as_shape(invariant)
    if invariant is not None and not shape.is_compatible_with(value.shape):
        raise ValueError(f"The shape invariant specified for {getattr(value, 'name', value)} is "
                         f"not compatible with the initial shape of the loop variable. It enters "
                         f"the loop with shape {value.shape}, but the specified shape invariant "
                         f"is {shape}.")
    return TensorSpec(shape, value.dtype)


def while_loop(cond, body, loop_vars, shape_invariants=None, parallel_iterations=10,
               back_prop=True, swap_memory=False, maximum_iterations=None, name=None):
    """Repeats `body` while `cond` is true; returns the loop variables after the last iteration."""
    if not callable(cond):
        raise TypeError("'cond' must be callable.")
    if not callable(body):
        raise TypeError("'body' must be callable.")
    if parallel_iterations < 1:
        raise TypeError("'parallel_iterations' must be a positive integer.")
    if state.graph is None:
        return _eager_while(cond, body, loop_vars, maximum_iterations)
    flat = [convert_to_tensor(v) for v in nest.flatten(loop_vars, expand_composites=True)]
    if shape_invariants is None:
        invariants = [None] * len(flat)
    else:
        invariants = nest.flatten(shape_invariants)
        if len(invariants) != len(flat):
            invariants = [None] * len(flat)
    specs = [_loop_spec(v, s) for v, s in zip(flat, invariants)]
    structure = loop_vars if isinstance(loop_vars, (list, tuple)) else [loop_vars]

    def trace_body(local_variable_ids=()):
        return _trace("body", lambda *a: _repack(loop_vars, body(*a)), structure, specs,
                      local_variable_ids)

    body_graph, body_result = trace_body()
    if body_graph.local_variable_ids:  # the body writes variables: it must read them itself
        body_graph, body_result = trace_body(body_graph.local_variable_ids)
    if not isinstance(loop_vars, (list, tuple)):
        body_result = body_result[0] if isinstance(body_result, list) else body_result
    try:
        nest.assert_same_structure(loop_vars, body_result, check_types=False,
                                   expand_composites=True)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"The two structures don't have the same nested structure: loop_vars "
                         f"{loop_vars} and the body's result {body_result}. {exc}") from None
    _check_loop_outputs(flat, specs, body_graph.outputs)
    cond_graph, _ = _trace("cond", cond, structure, specs)
    cond_out = cond_graph.outputs[0] if len(cond_graph.outputs) == 1 else None
    if cond_out is None or cond_out.dtype is not dtypes.bool or cond_out.shape.rank not in (0, None):
        raise TypeError("The loop condition of tf.while_loop must return a scalar boolean tensor")
    inputs = flat + [o for o, _ in cond_graph.captures] + [o for o, _ in body_graph.captures]
    has_max = maximum_iterations is not None
    if has_max:
        inputs.append(convert_to_tensor(maximum_iterations))
    outs = execute(WHILE, tuple(inputs), {
        "cond_graph": cond_graph, "body_graph": body_graph, "n_vars": len(flat),
        "n_cond": len(cond_graph.captures), "has_max": has_max})
    return nest.pack_sequence_as(body_result, list(outs), expand_composites=True)


def _check_loop_outputs(flat, specs, outputs) -> None:
    for value, spec, out in zip(flat, specs, outputs):
        if out.dtype != spec.dtype:
            raise TypeError(f"Loop variable {getattr(value, 'name', value)} enters the loop with "
                            f"type {spec.dtype.name}, but has type {out.dtype.name} after one "
                            f"iteration")
        if not spec.shape.is_compatible_with(out.shape):
            raise ValueError(f"Input tensor '{getattr(value, 'name', value)}' enters the loop with "
                             f"shape {spec.shape}, but has shape {out.shape} after one iteration. To "
                             f"allow the shape to vary across iterations, use the "
                             f"`shape_invariants` argument of tf.while_loop to specify a "
                             f"less-specific shape.")


def _eager_while(cond, body, loop_vars, maximum_iterations):
    limit = None if maximum_iterations is None else int(convert_to_tensor(maximum_iterations))
    count = 0
    values = loop_vars
    while (limit is None or count < limit) and bool(_call_with(cond, values)):
        values = _repack(loop_vars, _call_with(body, values))
        count += 1
    return values


# -- case and switch_case -------------------------------------------------------------------------
def case(pred_fn_pairs, default=None, exclusive=False, strict=False, name="case"):
    """The function of the first true predicate (checking that at most one holds if `exclusive`),
    or `default` (the last pair's function when no default is given)."""
    pairs = list(pred_fn_pairs.items()) if isinstance(pred_fn_pairs, dict) else list(pred_fn_pairs)
    for pair in pairs:
        if not isinstance(pair, tuple) or len(pair) != 2:
            raise TypeError(f"Each entry in pred_fn_pairs must be a 2-tuple. Received {pair}.")
        if not callable(pair[1]):
            raise TypeError("fn for pred must be callable.")
    if exclusive and state.graph is None:
        true = [i for i, (p, _) in enumerate(pairs) if bool(convert_to_tensor(p))]
        if len(true) > 1:
            raise op_error(InvalidArgumentError, "case",
                           f"Input error: exclusive=True: more than 1 conditions evaluated as "
                           f"True: conditions {true}")
    if default is None:
        if not pairs:
            raise ValueError("pred_fn_pairs and default must not both be empty")
        *pairs, (_, default) = pairs
    result = default
    for pred, fn in reversed(pairs):
        result = _bind_cond(pred, fn, result)
    return result()


def _bind_cond(pred, fn, otherwise):
    return lambda: cond(pred, fn, otherwise)


def switch_case(branch_index, branch_fns, default=None, name="switch_case"):
    """`branch_fns[branch_index]()`; an index out of range runs `default` (the last branch when
    no default is given)."""
    if isinstance(branch_fns, dict):
        keys = sorted(branch_fns)
        if keys != list(range(len(keys))):
            raise ValueError(f"branch_fns keys must be 0..N-1 integers, got {keys}")
        fns = [branch_fns[k] for k in keys]
    else:
        fns = [fn[1] if isinstance(fn, tuple) else fn for fn in branch_fns]
    if not fns:
        raise ValueError("Must provide at least one item in branch_fns")
    for fn in fns:
        if not callable(fn):
            raise TypeError("branch_fns must contain only callables.")
    index = convert_to_tensor(branch_index)
    if index.dtype is not dtypes.int32:
        raise TypeError(f"branch_index must be an int32 tensor, got {index.dtype.name}")
    if default is None:
        default = fns[-1]
    result = default
    for i in range(len(fns) - 1, -1, -1):
        result = _bind_cond(math_ops.equal(index, i), fns[i], result)
    return result()
