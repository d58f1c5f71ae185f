"""Running a graph node by node through `execute`, in whatever context is current.

Eagerly, this evaluates the graph with every op recorded on the active tapes (how a tf.function
called under an outer GradientTape is differentiated, and how a variable's initial value computed
while tracing is obtained); while another graph is traced, it copies the nodes into that graph
(inlining, used to differentiate subgraphs).
"""
from __future__ import annotations

from tensorweave.framework.context import init_scope
from tensorweave.framework.convert import tensor_of
from tensorweave.framework.op_registry import execute
from tensorweave.function import graph as graph_ir


def _run_node(node, inputs: list) -> tuple:
    prim = node.prim
    attrs = node.attrs
    if prim is graph_ir.CONST:
        value = attrs["value"]
        return (tensor_of(value, node.outputs[0]._dtype),)
    if prim is graph_ir.READ_VARIABLE:
        return (attrs["variable"]._read(),)
    if prim is graph_ir.VARIABLE_METHOD:
        getattr(attrs["variable"], attrs["method"])(*inputs, **attrs["kwargs"])
        return ()
    for method, assign in graph_ir._ASSIGNS.items():
        if prim is assign:
            getattr(attrs["variable"], method)(inputs[0])
            return ()
    out = execute(prim, tuple(inputs), attrs)
    return out if prim.multi_output else (out,)


def inline(graph: graph_ir.FuncGraph, args: list, nodes=None) -> list:
    """The graph's outputs computed from `args` (one per graph input) in the current context."""
    env = {id(p): a for p, a in zip(graph.inputs, args)}
    for node in graph.nodes if nodes is None else nodes:
        if node.prim is graph_ir.PLACEHOLDER:
            continue
        outs = _run_node(node, [env[id(t)] for t in node.inputs])
        for t, o in zip(node.outputs, outs):
            env[id(t)] = o
    return [env[id(t)] for t in graph.outputs]


def evaluate(tensor: graph_ir.SymbolicTensor):
    """The eager value of a graph tensor (a lifted initial value): it may depend on the graph's
    inputs only where the arguments of the call being traced are known."""
    feeds = tensor.graph.placeholder_values
    needed, stack = set(), [tensor.op]
    while stack:
        node = stack.pop()
        if id(node) in needed:
            continue
        if node.prim is graph_ir.PLACEHOLDER and id(node.outputs[0]) not in feeds:
            raise ValueError(f"The value of {tensor.name} depends on an input of the tf.function "
                             f"{tensor.graph.name}: a tf.Variable's initial value created inside "
                             f"a tf.function must not depend on its arguments.")
        needed.add(id(node))
        stack.extend(t.op for t in node.inputs)
    graph = tensor.graph
    order = [n for n in graph.nodes if id(n) in needed]
    with init_scope():
        env = {}
        for node in order:
            if node.prim is graph_ir.PLACEHOLDER:
                env[id(node.outputs[0])] = feeds[id(node.outputs[0])]
                continue
            outs = _run_node(node, [env[id(t)] for t in node.inputs])
            for t, o in zip(node.outputs, outs):
                env[id(t)] = o
    return env[id(tensor)]
