"""The ONNX graph being written: nodes, initializers, unique names and small helpers.

Translators (one function per TensorFlow op, in the `ops_*` modules) call `Builder.add` to emit
ONNX nodes and `Builder.const` for constant inputs. Names are ONNX value names (strings).

A few helpers fold at export time instead of emitting nodes: a Transpose, Reshape or Concat of
constants becomes a new constant (weights are laid out once for ONNX, not at every run), and a
Transpose that undoes the Transpose that made its input gives that input back (a run of
channels-last convolutions keeps one layout change at each end). Nodes nothing uses are dropped
when the graph is finished.
"""
from __future__ import annotations

import numpy as np

INT64_MAX = np.iinfo(np.int64).max
INT64_MIN = np.iinfo(np.int64).min


def onnx_module():
    """The `onnx` package, or ImportError saying how to install it."""
    try:
        import onnx
    except ImportError:
        raise ImportError("Exporting to ONNX requires the `onnx` package. Install it with "
                          "`pip install onnx` (or `pip install tensorweave[onnx]`).") from None
    return onnx


def tensor_type(np_dtype) -> int:
    """The ONNX TensorProto element type of a NumPy dtype."""
    onnx = onnx_module()
    dtype = np.dtype(np_dtype)
    if dtype.name == "bfloat16":
        return onnx.TensorProto.BFLOAT16
    if dtype.kind in "OSU":
        raise NotImplementedError("String tensors cannot be exported to ONNX")
    return onnx.helper.np_dtype_to_tensor_dtype(dtype)


class Builder:
    """Collects the nodes and initializers of one ONNX graph."""

    def __init__(self, opset: int):
        self.opset = opset
        self.nodes: list = []
        self.initializers: dict = {}  # name -> array, in insertion order
        self._used: set = set()
        self._small: dict = {}  # (dtype, shape, bytes) of a small constant -> its name
        self._transposes: dict = {}  # output name -> (input name, perm) of Transposes made here
        self.doc = ""  # where the nodes being emitted come from (the TF node, its layer)

    # -- names -----------------------------------------------------------------------------------
    def fresh(self, base: str) -> str:
        base = "".join(c if c.isalnum() or c in "_./:-" else "_" for c in base) or "v"
        name, i = base, 1
        while name in self._used:
            name = f"{base}_{i}"
            i += 1
        self._used.add(name)
        return name

    def reserve(self, name: str) -> str:
        """`name` itself, which must not be taken yet (graph inputs and outputs)."""
        if name in self._used:
            raise ValueError(f"The ONNX name {name!r} is used twice")
        self._used.add(name)
        return name

    # -- constants ---------------------------------------------------------------------------------
    def const(self, value, dtype=None, hint: str = "const", share: bool = True) -> str:
        """An initializer holding `value` (small equal constants are shared unless `share` is
        False: a variable keeps an initializer of its own, named after it)."""
        array = np.asarray(value, dtype=dtype)
        if array.dtype.kind in "OSU":
            raise NotImplementedError("String constants cannot be exported to ONNX")
        key = None
        if share and array.size <= 16:
            key = (array.dtype.str, array.shape, array.tobytes())
            found = self._small.get(key)
            if found is not None:
                return found
        name = self.fresh(hint)
        self.initializers[name] = array.copy(order="C")
        if key is not None:
            self._small[key] = name
        return name

    def i64(self, values) -> str:
        """A 1-D int64 constant (shapes, axes, pads)."""
        return self.const(np.asarray(values, dtype=np.int64).reshape(-1), hint="ints")

    def scalar(self, value, np_dtype) -> str:
        return self.const(np.asarray(value, dtype=np_dtype), hint="scalar")

    def value(self, name: str):
        """The array of a constant, or None for a value computed when the model runs."""
        return self.initializers.get(name)

    # -- nodes -------------------------------------------------------------------------------------
    def add(self, op_type: str, inputs, outputs: int = 1, hint: str | None = None, **attrs):
        """Emits one node; returns its output name (or the list of names if `outputs` > 1)."""
        onnx = onnx_module()
        base = hint or op_type.lower()
        names = [self.fresh(base if outputs == 1 else f"{base}_{i}") for i in range(outputs)]
        node = onnx.helper.make_node(op_type, [i if i is not None else "" for i in inputs],
                                     names, name=self.fresh(f"{base}_node"),
                                     doc_string=self.doc or None,
                                     **{k: v for k, v in attrs.items() if v is not None})
        self.nodes.append(node)
        return names[0] if outputs == 1 else names

    # -- helpers that fold constants ---------------------------------------------------------------
    def transpose(self, x: str, perm) -> str:
        perm = [int(p) for p in perm]
        if perm == list(range(len(perm))):
            return x
        made = self._transposes.get(x)
        if made is not None:
            source, first = made
            if len(first) == len(perm) and [first[p] for p in perm] == list(range(len(perm))):
                return source
        known = self.value(x)
        if known is not None:
            out = self.const(np.transpose(known, perm), hint="transposed")
        else:
            out = self.add("Transpose", [x], perm=perm)
        self._transposes[out] = (x, perm)
        return out

    def reshape(self, x: str, shape) -> str:
        shape = [int(d) for d in shape]
        known = self.value(x)
        if known is not None:
            return self.const(np.reshape(known, shape), hint="reshaped")
        zero = 0 in shape
        return self.add("Reshape", [x, self.i64(shape)], allowzero=1 if zero else None)

    def concat(self, parts: list, axis: int) -> str:
        if len(parts) == 1:
            return parts[0]
        known = [self.value(p) for p in parts]
        if all(k is not None for k in known):
            return self.const(np.concatenate(known, axis=axis), hint="concat")
        return self.add("Concat", parts, axis=axis)

    def cast(self, x: str, np_dtype) -> str:
        known = self.value(x)
        if known is not None:
            return self.const(known.astype(np_dtype), hint="cast")
        return self.add("Cast", [x], to=tensor_type(np_dtype))

    def unsqueeze(self, x: str, axes) -> str:
        axes = [int(a) for a in axes]
        if not axes:
            return x
        known = self.value(x)
        if known is not None:
            out = known
            for a in sorted(a % (known.ndim + len(axes)) for a in axes):
                out = np.expand_dims(out, a)
            return self.const(out, hint="unsqueezed")
        return self.add("Unsqueeze", [x, self.i64(axes)])

    def squeeze(self, x: str, axes=None) -> str:
        if axes is not None and not list(axes):
            return x
        inputs = [x] if axes is None else [x, self.i64(list(axes))]
        return self.add("Squeeze", inputs)

    def slice(self, x: str, starts, ends, axes, steps=None) -> str:
        inputs = [x, self.i64(starts), self.i64(ends), self.i64(axes)]
        if steps is not None and any(s != 1 for s in steps):
            inputs.append(self.i64(steps))
        return self.add("Slice", inputs)

    def reduce(self, op_type: str, x: str, axes, keepdims: bool) -> str:
        """A Reduce* node over `axes` (None: every axis), with the axes as an attribute before
        opset 18 (13 for ReduceSum) and as an input from then on."""
        as_input = self.opset >= (13 if op_type == "ReduceSum" else 18)
        if axes is None:
            return self.add(op_type, [x], keepdims=int(keepdims))
        axes = [int(a) for a in axes]
        if as_input:
            return self.add(op_type, [x, self.i64(axes)], keepdims=int(keepdims))
        return self.add(op_type, [x], axes=axes, keepdims=int(keepdims))

    def shape_of(self, x: str, start: int | None = None, end: int | None = None) -> str:
        """Shape(x)[start:end] as int64."""
        if self.opset >= 15 and (start is not None or end is not None):
            return self.add("Shape", [x], start=start, end=end)
        shape = self.add("Shape", [x])
        if start is None and end is None:
            return shape
        return self.slice(shape, [0 if start is None else start],
                          [INT64_MAX if end is None else end], [0])

    def dim(self, x: str, axis: int) -> str:
        """x.shape[axis] as a 1-element int64 vector."""
        return self.shape_of(x, axis, axis + 1 if axis != -1 else None)

    # -- finishing ---------------------------------------------------------------------------------
    def prune(self, outputs: list) -> None:
        """Drops the nodes and initializers no output depends on."""
        needed = set(outputs)
        kept = []
        for node in reversed(self.nodes):
            if any(o in needed for o in node.output):
                kept.append(node)
                needed.update(i for i in node.input if i)
        self.nodes = kept[::-1]
        self.initializers = {k: v for k, v in self.initializers.items() if k in needed}
