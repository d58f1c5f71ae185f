"""The compiled executor: a graph becomes one generated Python function over NumPy arrays.

Each node becomes one line calling its primitive's forward (attrs bound as globals of the generated
module), a constant becomes a global, a variable read becomes `variable._value`. There is no
per-op dispatch, conversion, dtype check or Tensor wrapping at run time: all of that happened once,
while tracing. A node may instead provide its own source line (`emitters`, used by fused kernels
and control flow). An exception raised by a line is reported as the error of that line's op.
"""
from __future__ import annotations

import itertools
import linecache
import sys

import numpy as np

from tensorweave.framework.errors import InvalidArgumentError, OpError, op_error
from tensorweave.function import graph as graph_ir

_counter = itertools.count()

# prim -> function(node, input_expressions, output_names, bind) -> source line(s).
# `bind(value, hint)` makes a global of the generated module and returns its name.
emitters: dict = {}


def _emit_assign(method: str):
    def emit(node, ins, outs, bind):
        var = bind(node.attrs["variable"], "v")
        if method == "assign":
            return f"{var}._value = _np.array({ins[0]})"
        ufunc = "_np.add" if method == "assign_add" else "_np.subtract"
        return f"{var}._value = _np.asarray({ufunc}({var}._value, {ins[0]}))"
    return emit


emitters[graph_ir.READ_VARIABLE] = lambda node, ins, outs, bind: \
    f"{outs[0]} = {bind(node.attrs['variable'], 'v')}._value"
for _method, _prim in graph_ir._ASSIGNS.items():
    emitters[_prim] = _emit_assign(_method)


def _emit_variables_kernel(node, ins, outs, bind):
    kernel = bind(node.attrs["kernel"], "kernel")
    variables = bind(node.attrs["variables"], "vs")
    kwargs = bind(node.attrs["kwargs"], "kw")
    return f"{kernel}({variables}, {', '.join(ins)}{', ' if ins else ''}**{kwargs})"


emitters[graph_ir.VARIABLES_KERNEL] = _emit_variables_kernel


class CompiledGraph:
    """A graph compiled to Python: call it with one array per graph input; returns a list of
    arrays, one per graph output."""

    def __init__(self, graph: graph_ir.FuncGraph):
        self.graph = graph
        self.source, namespace, self._lines = _generate(graph)
        self.filename = f"<tf.function {graph.name} #{next(_counter)}>"
        # linecache lets tracebacks and debuggers show the generated source
        linecache.cache[self.filename] = (len(self.source), None,
                                          self.source.splitlines(True), self.filename)
        exec(compile(self.source, self.filename, "exec"), namespace)
        self._run = namespace["run"]

    def __call__(self, *arrays) -> list:
        try:
            return self._run(*arrays)
        except OpError:
            raise
        except Exception as exc:  # name the op whose line failed, as an eager op would be named
            node = self._failed_node(sys.exc_info()[2])
            if node is None:
                raise
            raise op_error(InvalidArgumentError, node.type,
                           f"{exc} (in node {node.name} of {self.graph.name})") from exc

    def _failed_node(self, tb):
        node = None
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == self.filename:
                node = self._lines.get(tb.tb_lineno)
            tb = tb.tb_next
        return node


def _generate(graph: graph_ir.FuncGraph):
    namespace = {"_np": np}
    names: dict = {}  # id(symbolic tensor) -> expression
    bound: dict = {}  # id(python object) -> global name

    def bind(value, hint: str) -> str:
        key = id(value)
        name = bound.get(key)
        if name is None:
            name = f"_{hint}{len(bound)}"  # never an argument name (a0, a1...)
            bound[key] = name
            namespace[name] = value
        return name

    args = []
    for i, placeholder in enumerate(graph.inputs):
        names[id(placeholder)] = f"a{i}"
        args.append(f"a{i}")
    lines = [f"def run({', '.join(args)}):"]
    line_nodes = {}
    # the last node reading each tensor: its local is deleted right after, so an intermediate
    # array is freed (and its memory reused) as soon as the step no longer needs it
    last_use = {id(t): index for index, node in enumerate(graph.nodes) for t in node.inputs}
    for t in graph.outputs:
        last_use[id(t)] = len(graph.nodes)
    for index, node in enumerate(graph.nodes):
        prim = node.prim
        if prim is graph_ir.PLACEHOLDER:
            continue
        if prim is graph_ir.CONST:
            names[id(node.outputs[0])] = bind(node.attrs["value"], "c")
            continue
        ins = [names[id(t)] for t in node.inputs]
        outs = [f"t{index}_{j}" for j in range(len(node.outputs))]
        emitter = emitters.get(prim)
        if emitter is not None:
            code = emitter(node, ins, outs, bind)
        else:
            call = bind(prim.forward, "f") + "(" + ", ".join(
                ins + [f"{k}={bind(v, 'k')}" for k, v in node.attrs.items()]) + ")"
            if not prim.multi_output:
                code = f"{outs[0]} = {call}"
            elif outs:
                code = f"{', '.join(outs)}{',' if len(outs) == 1 else ''} = {call}"
            else:
                code = call
        for out, tensor in zip(outs, node.outputs):
            names[id(tensor)] = out
        for line in code.splitlines():
            lines.append("    " + line)
            line_nodes[len(lines)] = node
        done = sorted({name for t, name in zip(node.inputs, ins)
                       if last_use[id(t)] == index and name[0] in "at" and name[1:2].isdigit()})
        done += [out for out, t in zip(outs, node.outputs) if id(t) not in last_use]
        if done:
            lines.append(f"    del {', '.join(done)}")
    results = [names[id(t)] for t in graph.outputs]
    lines.append(f"    return [{', '.join(results)}]")
    return "\n".join(lines) + "\n", namespace, line_nodes

