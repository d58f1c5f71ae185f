"""Linear algebra: matrix products, einsum, decompositions, solvers, diagonals, norms.

Matrix ops work on the last two axes; leading axes are batch axes. Gradients are written with
matmul's adjoint flags where a formula needs A^H, so that they need no separate transpose op.
"""
from __future__ import annotations

import collections
import collections.abc
import functools
import numbers
import string

import numpy as np

from tensorweave.framework import dtypes
from tensorweave.framework.convert import convert_to_tensor, dtype_mismatch, unsupported_dtype
from tensorweave.framework.errors import (
    FailedPreconditionError, InvalidArgumentError, NotFoundError, op_error)
from tensorweave.framework.indexed_slices import IndexedSlices
from tensorweave.framework.op_registry import execute, primitive
from tensorweave.framework.tensor import Tensor
from tensorweave.framework.tensor_shape import TensorShape, broadcast_static_shape
from tensorweave.framework.tensor_spec import TensorSpec
from tensorweave.ops import array_ops, math_ops, reduction_ops
from tensorweave.ops.broadcast_grad import unbroadcast

_E = dtypes._enums
_F16, _BF16 = dtypes.float16._enum, dtypes.bfloat16._enum
# Kernels TensorFlow has on CPU; a dtype in an op's attr list without a kernel gives NotFoundError.
_MATMUL_T = dtypes.FLOATING | dtypes.COMPLEX | _E(dtypes.int32, dtypes.int64)
_BATCH_MATMUL_T = _MATMUL_T | _E(dtypes.int16)
_MATMUL_NO_KERNEL = _E(dtypes.uint8, dtypes.uint16, dtypes.uint32, dtypes.uint64)
_LAPACK_T = _E(dtypes.float32, dtypes.float64) | dtypes.COMPLEX
_LAPACK_ATTR_T = _LAPACK_T | _E(dtypes.float16)


def _no_kernel(op_name: str, dtype: dtypes.DType):
    return op_error(NotFoundError, op_name, f"Could not find device for node: {{{{node {op_name}}}}} = "
                                            f"{op_name}[T=DT_{dtype.name.upper()}]")


def _fail(op_name: str, message: str, cls=InvalidArgumentError):
    return op_error(cls, op_name, message)


def _dims(spec):
    """A spec's dims as a list, or None for unknown rank."""
    return None if spec.shape.rank is None else spec.shape.as_list()


def _shape_text(shape) -> str:
    return "[" + ",".join(str(d) for d in shape) + "]"


def _is_inexact(t) -> bool:
    return t.dtype.is_floating or t.dtype.is_complex


# == matmul ==================================================================================
def _make_matmul_forward(op_name: str, batch: bool):
    flags = (lambda x, y: f" {int(x)} {int(y)}") if batch else (lambda x, y: "")
    rank_suffix = (lambda a: f": {a.ndim}") if batch else (lambda a: "")

    def forward(a, b, adj_x=False, adj_y=False):
        if a.ndim < 2 or b.ndim < 2:
            index = 0 if a.ndim < 2 else 1
            bad = b if index else a
            raise _fail(op_name, f"In[{index}] ndims must be >= 2{rank_suffix(bad)}")
        if (a.shape[-2] if adj_x else a.shape[-1]) != (b.shape[-1] if adj_y else b.shape[-2]):
            raise _fail(op_name, f"Matrix size-incompatible: In[0]: {_shape_text(a.shape)}, "
                                 f"In[1]: {_shape_text(b.shape)}{flags(adj_x, adj_y)}")
        x, y = a, b
        if adj_x:
            x = np.swapaxes(x, -1, -2)
            if x.dtype.kind == "c":
                x = x.conj()
        if adj_y:
            y = np.swapaxes(y, -1, -2)
            if y.dtype.kind == "c":
                y = y.conj()
        try:
            out = np.matmul(x, y)
        except ValueError:  # the inner sizes agree, so the batch dimensions do not broadcast
            raise _fail(op_name, f"In[0] and In[1] must have compatible batch dimensions: "
                                 f"{_shape_text(a.shape)} vs. {_shape_text(b.shape)}") from None
        if out.dtype != a.dtype:  # NumPy multiplies bfloat16 matrices into float32
            out = out.astype(a.dtype)
        return out
    return forward


def _matmul_abstract(a, b, adj_x=False, adj_y=False):
    da, db = _dims(a), _dims(b)
    if da is None or db is None:
        return TensorSpec(None, a.dtype)
    rows = da[-1] if adj_x else da[-2]
    cols = db[-2] if adj_y else db[-1]
    inner_a = da[-2] if adj_x else da[-1]
    inner_b = db[-1] if adj_y else db[-2]
    if inner_a is not None and inner_b is not None and inner_a != inner_b:
        raise ValueError(f"Dimensions must be equal, but are {inner_a} and {inner_b} for "
                         f"MatMul with input shapes: {a.shape}, {b.shape}.")
    batch = broadcast_static_shape(da[:-2], db[:-2])
    if batch.rank is None:
        return TensorSpec(None, a.dtype)
    return TensorSpec(batch.as_list() + [rows, cols], a.dtype)


def _matmul_grad(op, dy):
    a, b = op.inputs
    adj_x, adj_y = op.attrs["adj_x"], op.attrs["adj_y"]
    if not adj_x and not adj_y:      # C = A B
        da, db = (dy, b, False, True), (a, dy, True, False)
    elif adj_x and not adj_y:        # C = A^H B
        da, db = (b, dy, False, True), (a, dy, False, False)
    elif not adj_x:                  # C = A B^H
        da, db = (dy, b, False, False), (dy, a, True, False)
    else:                            # C = A^H B^H
        da, db = (b, dy, True, True), (dy, a, True, True)
    # A product is skipped when nothing watched depends on its input (x in x @ W, say).
    da = _mm(*da) if op.needs_gradient(0) else None
    db = _mm(*db) if op.needs_gradient(1) else None
    if len(a.shape) > 2 or len(b.shape) > 2:  # batch dimensions may have been broadcast
        da = None if da is None else unbroadcast(da, a)
        db = None if db is None else unbroadcast(db, b)
    return da, db


MATMUL = primitive("MatMul", _make_matmul_forward("MatMul", False), _matmul_grad, _matmul_abstract)
BATCH_MATMUL = primitive("BatchMatMulV2", _make_matmul_forward("BatchMatMulV2", True), _matmul_grad,
                         _matmul_abstract)


_matmul_v3_forward = _make_matmul_forward("BatchMatMulV3", True)


def _int8_matmul_forward(a, b, adj_x=False, adj_y=False, output_type=None):
    out = _matmul_v3_forward(a.astype(np.int32), b.astype(np.int32), adj_x, adj_y)
    return out.astype(output_type.as_numpy_dtype, copy=False)


# Integer products with a wider result (int8 x int8 -> int32): not differentiable.
BATCH_MATMUL_V3 = primitive(
    "BatchMatMulV3", _int8_matmul_forward, None,
    lambda a, b, adj_x=False, adj_y=False, output_type=None:
        TensorSpec(_matmul_abstract(a, b, adj_x, adj_y).shape, output_type))


def _mm(a, b, adj_x: bool, adj_y: bool):
    """a @ b on tensors of one dtype, with conjugate-transpose flags (used by gradients)."""
    prim = BATCH_MATMUL if len(a.shape) > 2 or len(b.shape) > 2 else MATMUL
    return execute(prim, (a, b), {"adj_x": adj_x, "adj_y": adj_y})


def matmul(a, b, transpose_a=False, transpose_b=False, adjoint_a=False, adjoint_b=False,
           a_is_sparse=False, b_is_sparse=False, output_type=None, grad_a=False, grad_b=False,
           name=None):
    """The matrix product of `a` and `b` over their last two axes; batch axes broadcast.

    `transpose_*` transposes, `adjoint_*` conjugate-transposes an operand first; the
    `*_is_sparse` and `grad_*` hints change nothing here.
    """
    if transpose_a and adjoint_a:
        raise ValueError("Only one of `transpose_a` and `adjoint_a` can be True. "
                         f"Received `transpose_a`={transpose_a}, `adjoint_a`={adjoint_a}.")
    if transpose_b and adjoint_b:
        raise ValueError("Only one of `transpose_b` and `adjoint_b` can be True. "
                         f"Received `transpose_b`={transpose_b}, `adjoint_b`={adjoint_b}.")
    if type(a) is not Tensor:
        a = convert_to_tensor(a)
    if type(b) is not Tensor:
        b = convert_to_tensor(b, dtype_hint=a._dtype)
    prim = BATCH_MATMUL if a._value.ndim > 2 or b._value.ndim > 2 else MATMUL
    dtype = a._dtype
    if b._dtype is not dtype:
        raise dtype_mismatch(prim.name, 1, dtype, b._dtype)
    if output_type is not None and dtypes.as_dtype(output_type) is not dtype:
        return _matmul_v3(a, b, transpose_a or adjoint_a, transpose_b or adjoint_b,
                          dtypes.as_dtype(output_type))
    allowed = _BATCH_MATMUL_T if prim is BATCH_MATMUL else _MATMUL_T
    if dtype._enum not in allowed:
        if dtype._enum in _MATMUL_NO_KERNEL:
            raise _no_kernel(prim.name, dtype)
        raise unsupported_dtype(prim.name, dtype)
    if dtype._kind == "c":  # a plain transpose of a complex operand: conjugate, then adjoint
        if transpose_a:
            a = math_ops.conj(a)
        if transpose_b:
            b = math_ops.conj(b)
    return execute(prim, (a, b), {"adj_x": bool(transpose_a or adjoint_a),
                                  "adj_y": bool(transpose_b or adjoint_b)})


def _matmul_v3(a, b, adj_x, adj_y, output_type):
    int8 = (dtypes.int8._enum, dtypes.uint8._enum)
    if a._dtype._enum not in int8 or output_type is not dtypes.int32:
        raise op_error(NotFoundError, "BatchMatMulV3",
                       f"Could not find device for node: {{{{node BatchMatMulV3}}}} = BatchMatMulV3"
                       f"[Ta=DT_{a._dtype.name.upper()}, Tb=DT_{b._dtype.name.upper()}, "
                       f"Tout=DT_{output_type.name.upper()}]")
    return execute(BATCH_MATMUL_V3, (a, b), {"adj_x": bool(adj_x), "adj_y": bool(adj_y),
                                             "output_type": output_type})


def matvec(a, b, transpose_a=False, adjoint_a=False, a_is_sparse=False, b_is_sparse=False,
           name=None):
    """The product of matrices `a` [..., M, N] and vectors `b` [..., N]: shape [..., M]."""
    if type(a) is not Tensor:
        a = convert_to_tensor(a)
    if type(b) is not Tensor:
        b = convert_to_tensor(b, dtype_hint=a._dtype)
    product = matmul(a, array_ops.expand_dims(b, -1), transpose_a=transpose_a, adjoint_a=adjoint_a)
    return array_ops.squeeze(product, axis=-1)


# == einsum ==================================================================================
_ELLIPSIS = "..."
_LETTERS = string.ascii_letters


def _tokens(spec: str, equation: str) -> tuple:
    out, i = [], 0
    while i < len(spec):
        if spec.startswith(_ELLIPSIS, i):
            if _ELLIPSIS in out:
                raise ValueError(f"Ellipsis appears more than once in subscript '{spec}' of "
                                 f"equation '{equation}'")
            out.append(_ELLIPSIS)
            i += 3
        elif spec[i] in _LETTERS:
            out.append(spec[i])
            i += 1
        else:
            raise ValueError(f"Invalid character '{spec[i]}' in einsum equation '{equation}'")
    return tuple(out)


@functools.lru_cache(maxsize=1024)
def _parse_equation(equation: str, num_inputs: int):
    """(label tuples of the inputs, label tuple of the output), '...' being one label.

    An equation without '->' gets the implicit output: '...' if any input has it, then the
    labels used exactly once, in alphabetical order.
    """
    eq = equation.replace(" ", "")
    if eq.count("->") > 1:
        raise ValueError(f"Equation '{equation}' contains more than one '->'")
    lhs, arrow, rhs = eq.partition("->")
    specs = lhs.split(",")
    if len(specs) != num_inputs:
        raise ValueError(f'Got {num_inputs} inputs for equation "{equation}", expecting {len(specs)}')
    inputs = tuple(_tokens(s, equation) for s in specs)
    if arrow:
        output = _tokens(rhs, equation)
        for label in output:
            if output.count(label) > 1:
                raise ValueError(f"Output subscripts contain the label {label} more than once.")
            if label != _ELLIPSIS and not any(label in labels for labels in inputs):
                raise ValueError(f"Output subscripts contain the label {label} not present in the "
                                 "input subscripts.")
    else:
        counts = collections.Counter(lab for labels in inputs for lab in labels if lab != _ELLIPSIS)
        lead = (_ELLIPSIS,) if any(_ELLIPSIS in labels for labels in inputs) else ()
        output = lead + tuple(sorted(lab for lab, n in counts.items() if n == 1))
    return inputs, output


def _join(inputs, output) -> str:
    return ",".join("".join(labels) for labels in inputs) + "->" + "".join(output)


def _einsum_forward(*arrays, equation):
    inputs, output = _parse_equation(equation, len(arrays))
    sizes = {}
    broadcast_rank = 0
    for index, (labels, arr) in enumerate(zip(inputs, arrays)):
        named = len(labels) - (_ELLIPSIS in labels)
        if _ELLIPSIS in labels:
            if arr.ndim < named:
                raise _fail("Einsum", f"Expected input {index} to have rank at least {named} but "
                                      f"got: {arr.ndim}")
        elif arr.ndim != named:
            raise _fail("Einsum", f"Expected input {index} to have rank {named} but got: {arr.ndim}")
        axis = 0
        for label in labels:
            if label == _ELLIPSIS:
                axis += arr.ndim - named
                broadcast_rank = max(broadcast_rank, arr.ndim - named)
                continue
            size = arr.shape[axis]
            expected = sizes.setdefault(label, size)
            if expected != size:  # NumPy would broadcast a 1 here; TensorFlow refuses
                raise _fail("Einsum", f"Expected dimension {expected} at axis {axis} of the input "
                                      f"shaped {_shape_text(arr.shape)} but got dimension {size}")
            axis += 1
    if broadcast_rank and _ELLIPSIS not in output:
        raise _fail("Einsum", f"Output contains {broadcast_rank} broadcasting dimension(s) but no "
                              "ellipsis (...) was found in the output subscripts.")
    # NumPy's path optimizer routes big contractions to BLAS; for small ones it costs more.
    optimize = len(arrays) > 1 and max(a.size for a in arrays) > 2048
    if arrays[0].dtype == dtypes.bfloat16.as_numpy_dtype:  # NumPy's einsum has no bfloat16
        wide = [a.astype(np.float32) for a in arrays]
        return np.einsum(equation, *wide, optimize=optimize).astype(arrays[0].dtype)
    return np.einsum(equation, *arrays, optimize=optimize)


def _einsum_abstract(*specs, equation):
    inputs, output = _parse_equation(equation, len(specs))
    sizes = {}
    ellipsis = TensorShape([])
    for labels, spec in zip(inputs, specs):
        dims = _dims(spec)
        if dims is None:
            if _ELLIPSIS in labels:
                ellipsis = TensorShape(None)
            continue
        extra = len(dims) - (len(labels) - (_ELLIPSIS in labels))
        axis = 0
        for label in labels:
            if label == _ELLIPSIS:
                ellipsis = broadcast_static_shape(ellipsis, dims[axis:axis + extra])
                axis += extra
                continue
            if dims[axis] is not None:
                sizes[label] = dims[axis]
            axis += 1
    if _ELLIPSIS in output and ellipsis.rank is None:
        return TensorSpec(None, specs[0].dtype)
    out = []
    for label in output:
        if label == _ELLIPSIS:
            out.extend(ellipsis.as_list())
        else:
            out.append(sizes.get(label))
    return TensorSpec(out, specs[0].dtype)


def _fit_ellipsis(g, num_named: int, x_ellipsis: tuple):
    """`g` shaped [broadcast ellipsis..., named...] summed or broadcast to x's ellipsis dims."""
    g_shape = tuple(g.shape)
    g_ellipsis = g_shape[:len(g_shape) - num_named]
    rest = g_shape[len(g_ellipsis):]
    if g_ellipsis == x_ellipsis:
        return g
    if len(g_ellipsis) < len(x_ellipsis):
        pad = (1,) * (len(x_ellipsis) - len(g_ellipsis))
        g = array_ops.reshape(g, pad + g_shape)
        g_ellipsis = pad + g_ellipsis
    lead = len(g_ellipsis) - len(x_ellipsis)
    reduced = tuple(1 if xd == 1 else gd for xd, gd in zip(x_ellipsis, g_ellipsis[lead:])) + rest
    g = unbroadcast(g, TensorSpec(reduced))  # unbroadcast reads only the target's .shape
    if reduced != x_ellipsis + rest:
        g = array_ops.broadcast_to(g, x_ellipsis + rest)
    return g


def _einsum_input_grad(index, inputs, output, tensors, dy, used: set):
    """The gradient of one einsum operand: an einsum of dy with the other operands.

    A label repeated in the operand (a diagonal) gets a fresh label tied to it by an identity
    matrix; a label found only in the operand (summed out) gets a vector of ones.
    """
    x = tensors[index]
    labels = inputs[index]
    x_shape = tuple(x.shape)
    ellipsis_rank = len(x_shape) - (len(labels) - (_ELLIPSIS in labels))
    fresh = iter(c for c in _LETTERS if c not in used)
    sub = [output] + [inputs[j] for j in range(len(tensors)) if j != index]
    operands = [dy] + [tensors[j] for j in range(len(tensors)) if j != index]
    new_labels, size_of, axis, ellipsis_at = [], {}, 0, 0
    for label in labels:
        if label == _ELLIPSIS:
            new_labels.append(label)
            ellipsis_at = axis
            axis += ellipsis_rank
            continue
        size = x_shape[axis]
        axis += 1
        if label in new_labels:
            alias = next(fresh)
            sub.append((label, alias))
            operands.append(eye(size, dtype=x.dtype))
            label = alias
        new_labels.append(label)
        size_of[label] = size
    present = {lab for labels_ in sub for lab in labels_}
    for label in new_labels:
        if label != _ELLIPSIS and label not in present:
            sub.append((label,))
            operands.append(array_ops.ones([size_of[label]], dtype=x.dtype))
    named = tuple(lab for lab in new_labels if lab != _ELLIPSIS)
    # NumPy sums no ellipsis dims implicitly: keep them in front, then fit them to x's.
    any_ellipsis = any(_ELLIPSIS in labels_ for labels_ in sub)
    target = ((_ELLIPSIS,) if any_ellipsis else ()) + named
    g = execute(EINSUM, tuple(operands), {"equation": _join(sub, target)})
    if any_ellipsis:
        g = _fit_ellipsis(g, len(named), x_shape[ellipsis_at:ellipsis_at + ellipsis_rank])
        if tuple(new_labels) != target and _ELLIPSIS in labels:
            g = execute(EINSUM, (g,), {"equation": _join([target], new_labels)})
    return g


def _einsum_grad(op, dy):
    equation = op.attrs["equation"]
    inputs, output = _parse_equation(equation, len(op.inputs))
    used = set(equation)
    return tuple(_einsum_input_grad(i, inputs, output, op.inputs, dy, used)
                 if _is_inexact(t) else None for i, t in enumerate(op.inputs))


EINSUM = primitive("Einsum", _einsum_forward, _einsum_grad, _einsum_abstract)
_EINSUM_T = dtypes.FLOATING | dtypes.COMPLEX | _E(dtypes.int32, dtypes.int64)


def einsum(equation, *inputs, **kwargs):
    """Tensor contraction described by an equation: `einsum('ij,jk->ik', a, b)` is a @ b.

    Supports implicit outputs ('ij,jk'), '...' for broadcast batch axes, repeated labels
    (diagonals: 'ii->i') and any number of operands.
    """
    unknown = set(kwargs) - {"name", "optimize"}
    if unknown:
        raise TypeError(f"Invalid keyword arguments for this function: {', '.join(sorted(unknown))}. "
                        "Expected: name, optimize")
    if len(inputs) == 1 and isinstance(inputs[0], (list, tuple)):
        inputs = tuple(inputs[0])
    canonical = _join(*_parse_equation(equation, len(inputs)))
    tensors = tuple(t if type(t) is Tensor else convert_to_tensor(t) for t in inputs)
    dtype = tensors[0]._dtype
    for i, t in enumerate(tensors[1:], 1):
        if t._dtype is not dtype:
            raise dtype_mismatch("Einsum", i, dtype, t._dtype)
    if dtype._enum not in _EINSUM_T:
        if dtype is dtypes.string:
            raise unsupported_dtype("Einsum", dtype)
        raise _no_kernel("Einsum", dtype)
    return execute(EINSUM, tensors, {"equation": canonical})


def _axes_list(axes, rank: int, what: str) -> list:
    if isinstance(axes, Tensor):
        axes = axes.numpy().tolist()
    axes = [axes] if isinstance(axes, numbers.Integral) else [int(a) for a in axes]
    for a in axes:
        if not -rank <= a < rank:
            raise ValueError(f"Axis {a} is out of range for tensor `{what}` of rank {rank}.")
    return [a % rank for a in axes]


def tensordot(a, b, axes, name=None):
    """Sums the products of `a` and `b` over the given axes.

    `axes` is an int N (the last N axes of a with the first N of b) or a pair of axis lists.
    """
    if type(a) is not Tensor:
        a = convert_to_tensor(a)
    if type(b) is not Tensor:
        b = convert_to_tensor(b, dtype_hint=a._dtype)
    ra, rb = a._value.ndim, b._value.ndim
    if a._dtype is b._dtype and a._dtype._enum not in _MATMUL_T:  # TensorFlow uses MatMul
        if a._dtype._enum in _MATMUL_NO_KERNEL:
            raise _no_kernel("MatMul", a._dtype)
        raise unsupported_dtype("MatMul", a._dtype)
    if isinstance(axes, Tensor):
        axes = axes.numpy().tolist()
    if isinstance(axes, numbers.Integral):
        n = int(axes)
        if n < 0:
            raise ValueError(f"`axes` must be at least 0. Received: {n}.")
        if n > ra or n > rb:
            raise ValueError(f"`axes` must not be larger than the number of dimensions of tensor "
                             f"{'a' if n > ra else 'b'}. Received {n}, vs tensor dimensions "
                             f"{ra if n > ra else rb}.")
        a_axes, b_axes = list(range(ra - n, ra)), list(range(n))
    else:
        axes = list(axes)
        if len(axes) != 2:
            raise ValueError(f"`axes` must be an integer or have length 2. Received {axes}.")
        a_axes, b_axes = _axes_list(axes[0], ra, "a"), _axes_list(axes[1], rb, "b")
        if len(a_axes) != len(b_axes):
            raise ValueError(f"Different number of contraction axes `a` and `b`, "
                             f"{len(a_axes)} != {len(b_axes)}.")
    a_labels = list(_LETTERS[:ra])
    b_labels = list(_LETTERS[ra:ra + rb])
    for i, j in zip(a_axes, b_axes):
        b_labels[j] = a_labels[i]
    out = [a_labels[i] for i in range(ra) if i not in a_axes] + \
          [b_labels[j] for j in range(rb) if j not in b_axes]
    return einsum(f"{''.join(a_labels)},{''.join(b_labels)}->{''.join(out)}", a, b)


# == helpers for the LAPACK-style ops ========================================================
def _lapack_input(x, op_name: str, half_kernel: bool = False) -> Tensor:
    """x as a tensor of a dtype the op has a kernel for (float32/64, complex; half for some)."""
    if type(x) is not Tensor:
        x = convert_to_tensor(x)
    enum = x._dtype._enum
    if enum in _LAPACK_T or (half_kernel and enum == _F16):
        return x
    if enum in _LAPACK_ATTR_T:
        raise _no_kernel(op_name, x._dtype)
    raise unsupported_dtype(op_name, x._dtype)


def _up(a):
    """NumPy's linalg has no float16: compute in float32 and cast the result back."""
    return a.astype(np.float32) if a.dtype == np.float16 else a


def _check_square(op_name: str, x, index: int = 0):
    if x.ndim < 2:
        raise _fail(op_name, f"Input tensor {index} must have rank >= 2, got {x.ndim}")
    if x.shape[-1] != x.shape[-2]:
        raise _fail(op_name, "Input matrix must be square.")


def _square_abstract(x, **attrs):
    return TensorSpec(x.shape, x.dtype)


def _batch_of(spec):
    """The batch dims of a matrix spec (list), or None for unknown rank."""
    dims = _dims(spec)
    return None if dims is None else dims[:-2]


def _scale_matrices(scalars, matrices):
    """scalars[...] * matrices[..., i, j], broadcasting the batch axes."""
    return execute(EINSUM, (scalars, matrices), {"equation": "...,...ij->...ij"})


def _scale_columns(matrices, vectors):
    """matrices[..., i, j] * vectors[..., j]."""
    return execute(EINSUM, (matrices, vectors), {"equation": "...ij,...j->...ij"})


def _scale_rows(vectors, matrices):
    """vectors[..., i] * matrices[..., i, j]."""
    return execute(EINSUM, (vectors, matrices), {"equation": "...i,...ij->...ij"})


def _pairwise_inverse_gaps(values):
    """F[..., i, j] = 1 / (values[j] - values[i]) off the diagonal, 0 on it.

    Adding the identity before the division keeps the diagonal finite (1 / 1), and subtracting
    it afterwards zeroes it, with elementwise ops only.
    """
    n = values.shape[-1]
    ones = array_ops.ones([n, n], dtype=values.dtype)
    cols = execute(EINSUM, (values, ones), {"equation": "...j,ij->...ij"})
    rows = execute(EINSUM, (values, ones), {"equation": "...i,ij->...ij"})
    identity = eye(n, dtype=values.dtype)
    gaps = math_ops.add(math_ops.subtract(cols, rows), identity)
    return math_ops.subtract(math_ops.divide(array_ops.ones_like(gaps), gaps), identity)


# == inverse, determinants ===================================================================
def _inv_forward(x, adjoint=False):
    _check_square("MatrixInverse", x)
    a = _up(x)
    if adjoint:
        a = np.swapaxes(a, -1, -2).conj()
    try:
        out = np.linalg.inv(a)
    except np.linalg.LinAlgError:
        raise _fail("MatrixInverse", "Input is not invertible.") from None
    return out.astype(x.dtype, copy=False)


def _inv_grad(op, dy):
    y = op.outputs[0]
    if op.attrs["adjoint"]:  # Y = A^-H: dA = -Y dY^H Y
        return math_ops.negative(_mm(_mm(y, dy, False, True), y, False, False))
    return math_ops.negative(_mm(_mm(y, dy, True, False), y, False, True))  # -Y^H dY Y^H


MATRIX_INVERSE = primitive("MatrixInverse", _inv_forward, _inv_grad, _square_abstract)


def inv(input, adjoint=False, name=None):  # noqa: A002 - TensorFlow's argument name
    """The inverse of each square matrix (of its adjoint if `adjoint`)."""
    x = _lapack_input(input, "MatrixInverse", half_kernel=True)
    return execute(MATRIX_INVERSE, (x,), {"adjoint": bool(adjoint)})


def _det_forward(x):
    _check_square("MatrixDeterminant", x)
    with np.errstate(invalid="ignore"):
        return np.asarray(np.linalg.det(x), dtype=x.dtype)[()]


def _det_grad(op, dy):
    # d det(A) = det(A) tr(A^-1 dA): dA = dy det(A) A^-H
    adj_inv = execute(MATRIX_INVERSE, (op.inputs[0],), {"adjoint": True})
    return _scale_matrices(math_ops.multiply(dy, op.outputs[0]), adj_inv)


def _batch_abstract(x, **attrs):
    batch = _batch_of(x)
    return TensorSpec(batch, x.dtype)


MATRIX_DETERMINANT = primitive("MatrixDeterminant", _det_forward, _det_grad, _batch_abstract)


def det(input, name=None):  # noqa: A002
    """The determinant of each square matrix."""
    x = _lapack_input(input, "MatrixDeterminant")
    return execute(MATRIX_DETERMINANT, (x,))


def _slogdet_forward(x):
    _check_square("LogMatrixDeterminant", x)
    with np.errstate(invalid="ignore"):
        sign, logabs = np.linalg.slogdet(x)
    sign = np.where(np.isnan(logabs), np.nan, sign)  # TensorFlow: a NaN determinant has NaN sign
    return (np.asarray(sign, dtype=x.dtype)[()], np.asarray(logabs).astype(x.dtype)[()])


def _slogdet_grad(op, dys):
    # Only log|det| carries a gradient: dA = dy A^-H.
    adj_inv = execute(MATRIX_INVERSE, (op.inputs[0],), {"adjoint": True})
    return _scale_matrices(dys[1], adj_inv)


LOG_MATRIX_DETERMINANT = primitive(
    "LogMatrixDeterminant", _slogdet_forward, _slogdet_grad,
    lambda x: (_batch_abstract(x), _batch_abstract(x)), multi_output=True)

LogMatrixDeterminant = collections.namedtuple("LogMatrixDeterminant", ["sign", "log_abs_determinant"])


def slogdet(input, name=None):  # noqa: A002
    """(sign, log|det|) of each square matrix: stable where det itself over- or underflows."""
    x = _lapack_input(input, "LogMatrixDeterminant")
    return LogMatrixDeterminant(*execute(LOG_MATRIX_DETERMINANT, (x,)))


def logdet(matrix, name=None):
    """log(det(matrix)) of Hermitian positive-definite matrices, through their Cholesky factor."""
    chol = cholesky(matrix)
    diag = diag_part(chol)
    if chol.dtype.is_complex:
        diag = math_ops.real(diag)
    return math_ops.multiply(
        reduction_ops.reduce_sum(math_ops.log(diag), axis=-1),
        convert_to_tensor(2, dtype=diag.dtype))


# == solvers =================================================================================
def _solve_forward(matrix, rhs, adjoint=False):
    if matrix.ndim != rhs.ndim:
        raise _fail("MatrixSolve", "All input tensors must have the same rank.")
    _check_square("MatrixSolve", matrix)
    if matrix.shape[:-2] != rhs.shape[:-2]:
        raise _fail("MatrixSolve", "All input tensors must have the same outer dimensions.")
    if matrix.shape[-1] != rhs.shape[-2]:
        raise _fail("MatrixSolve", "Input matrix and rhs are incompatible.")
    a = _up(matrix)
    if adjoint:
        a = np.swapaxes(a, -1, -2).conj()
    try:
        out = np.linalg.solve(a, _up(rhs))
    except np.linalg.LinAlgError:
        raise _fail("MatrixSolve", "Input matrix is not invertible.") from None
    return out.astype(rhs.dtype, copy=False)


def _solve_grad(op, dy):
    matrix, _ = op.inputs
    x = op.outputs[0]
    adjoint = op.attrs["adjoint"]
    d_rhs = execute(MATRIX_SOLVE, (matrix, dy), {"adjoint": not adjoint})
    if adjoint:  # A^H X = B: dA = -X dB^H
        d_matrix = math_ops.negative(_mm(x, d_rhs, False, True))
    else:        # A X = B: dA = -dB X^H
        d_matrix = math_ops.negative(_mm(d_rhs, x, False, True))
    return d_matrix, d_rhs


MATRIX_SOLVE = primitive("MatrixSolve", _solve_forward, _solve_grad,
                         lambda matrix, rhs, adjoint=False: TensorSpec(rhs.shape, rhs.dtype))


def solve(matrix, rhs, adjoint=False, name=None):
    """X with matrix @ X = rhs (adjoint(matrix) @ X = rhs if `adjoint`), for each batch entry."""
    matrix = _lapack_input(matrix, "MatrixSolve")
    rhs = convert_to_tensor(rhs, dtype_hint=matrix._dtype)
    if rhs._dtype is not matrix._dtype:
        raise dtype_mismatch("MatrixSolve", 1, matrix._dtype, rhs._dtype)
    return execute(MATRIX_SOLVE, (matrix, rhs), {"adjoint": bool(adjoint)})


def _substitute(a, b, lower: bool):
    """Forward or back substitution, row by row, vectorized over the batch (inf/nan where the
    matrix is singular, as TensorFlow gives)."""
    n = a.shape[-1]
    x = np.zeros(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + b.shape[-2:],
                 dtype=np.result_type(a, b))
    order = range(n) if lower else range(n - 1, -1, -1)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for i in order:
            partial = np.matmul(a[..., i:i + 1, :], x)[..., 0, :]
            x[..., i, :] = (b[..., i, :] - partial) / a[..., i, i:i + 1]
    return x


def _triangular_solve_forward(matrix, rhs, lower=True, adjoint=False):
    op_name = "MatrixTriangularSolve"
    for i, t in enumerate((matrix, rhs)):
        if t.ndim < 2:
            raise _fail(op_name, f"Input tensor {i} must have rank >= 2, got {t.ndim}")
    _check_square(op_name, matrix)
    if matrix.shape[-1] != rhs.shape[-2]:
        raise _fail(op_name, "Input matrix and rhs are incompatible.")
    try:
        np.broadcast_shapes(matrix.shape[:-2], rhs.shape[:-2])
    except ValueError:
        raise _fail(op_name, f"Incompatible batch dimensions: {_shape_text(matrix.shape)} vs. "
                             f"{_shape_text(rhs.shape)}") from None
    a = np.tril(matrix) if lower else np.triu(matrix)
    if adjoint:
        a = np.swapaxes(a, -1, -2).conj()
        lower = not lower
    out = _substitute(a, rhs, lower)
    return out.astype(rhs.dtype, copy=False)


def _band(x, num_lower: int, num_upper: int):
    return execute(MATRIX_BAND_PART, (x,), {"num_lower": num_lower, "num_upper": num_upper})


def _triangular_solve_grad(op, dy):
    matrix, rhs = op.inputs
    x = op.outputs[0]
    lower, adjoint = op.attrs["lower"], op.attrs["adjoint"]
    d_rhs = execute(TRIANGULAR_SOLVE, (matrix, dy), {"lower": lower, "adjoint": not adjoint})
    if adjoint:
        d_matrix = math_ops.negative(_mm(x, d_rhs, False, True))
    else:
        d_matrix = math_ops.negative(_mm(d_rhs, x, False, True))
    d_matrix = _band(d_matrix, -1, 0) if lower else _band(d_matrix, 0, -1)
    return unbroadcast(d_matrix, matrix), unbroadcast(d_rhs, rhs)


def _triangular_solve_abstract(matrix, rhs, lower=True, adjoint=False):
    mb, rd = _batch_of(matrix), _dims(rhs)
    if mb is None or rd is None:
        return TensorSpec(None, rhs.dtype)
    return TensorSpec(broadcast_static_shape(mb, rd[:-2]).as_list() + rd[-2:], rhs.dtype)


TRIANGULAR_SOLVE = primitive("MatrixTriangularSolve", _triangular_solve_forward,
                             _triangular_solve_grad, _triangular_solve_abstract)


def triangular_solve(matrix, rhs, lower=True, adjoint=False, name=None):
    """X with matrix @ X = rhs for triangular matrices (only the `lower` or upper triangle is
    read); batch axes broadcast."""
    if type(matrix) is not Tensor:
        matrix = convert_to_tensor(matrix)
    if matrix._dtype is dtypes.bfloat16:  # in the op's dtypes, without a CPU kernel
        raise _no_kernel("MatrixTriangularSolve", matrix._dtype)
    matrix = _lapack_input(matrix, "MatrixTriangularSolve")
    rhs = convert_to_tensor(rhs, dtype_hint=matrix._dtype)
    if rhs._dtype is not matrix._dtype:
        raise dtype_mismatch("MatrixTriangularSolve", 1, matrix._dtype, rhs._dtype)
    return execute(TRIANGULAR_SOLVE, (matrix, rhs), {"lower": bool(lower), "adjoint": bool(adjoint)})


def cholesky_solve(chol, rhs, name=None):
    """X with A @ X = rhs, given the Cholesky factor `chol` of A."""
    y = triangular_solve(chol, rhs, lower=True, adjoint=False)
    return triangular_solve(chol, y, lower=True, adjoint=True)


# == decompositions ==========================================================================
def _cholesky_forward(x):
    _check_square("Cholesky", x)
    a = _up(x)
    try:
        out = np.linalg.cholesky(a)
    except np.linalg.LinAlgError:
        # TensorFlow does not raise: a matrix that is not positive definite gets NaN in its
        # lower triangle (its kernel leaves the upper triangle unset; zeros here).
        n = a.shape[-1]
        flat = a.reshape((-1, n, n))
        out = np.zeros_like(flat)
        nan_lower = np.where(np.tri(n, dtype=bool), np.nan, 0).astype(a.dtype)
        for i, m in enumerate(flat):
            try:
                out[i] = np.linalg.cholesky(m)
            except np.linalg.LinAlgError:
                out[i] = nan_lower
        out = out.reshape(a.shape)
    return out.astype(x.dtype, copy=False)


def _cholesky_grad(op, dl):
    # Murray (2016): with P = L^H dL and Phi(P) its lower triangle with the diagonal halved,
    # dA = 1/2 L^-H (Phi(P) + Phi(P)^H) L^-1. Phi(P)^H is built from P^H = dL^H L directly.
    chol = op.outputs[0]
    n = chol.shape[-1]
    l_inv = execute(TRIANGULAR_SOLVE, (chol, eye(n, dtype=chol.dtype)),
                    {"lower": True, "adjoint": False})
    p = _mm(chol, dl, True, False)
    p_h = _mm(dl, chol, True, False)
    half = convert_to_tensor(0.5, dtype=chol.dtype)
    middle = math_ops.subtract(math_ops.add(_band(p, -1, 0), _band(p_h, 0, -1)),
                               math_ops.multiply(half, math_ops.add(_band(p, 0, 0), _band(p_h, 0, 0))))
    return math_ops.multiply(half, _mm(_mm(l_inv, middle, True, False), l_inv, False, False))


CHOLESKY = primitive("Cholesky", _cholesky_forward, _cholesky_grad, _square_abstract)


def cholesky(input, name=None):  # noqa: A002
    """The lower-triangular L with L @ L^H = input, for Hermitian positive-definite matrices.

    Only the lower triangle of `input` is read. A matrix that is not positive definite gives
    NaN (TensorFlow's CPU kernel does not raise).
    """
    x = _lapack_input(input, "Cholesky")
    return execute(CHOLESKY, (x,))


def _qr_forward(x, full_matrices=False):
    if x.ndim < 2:
        raise _fail("Qr", f"Input tensor 0 must have rank >= 2, got {x.ndim}")
    q, r = np.linalg.qr(_up(x), mode="complete" if full_matrices else "reduced")
    return q.astype(x.dtype, copy=False), r.astype(x.dtype, copy=False)


def _qr_abstract(x, full_matrices=False):
    dims = _dims(x)
    if dims is None:
        return TensorSpec(None, x.dtype), TensorSpec(None, x.dtype)
    m, n = dims[-2:]
    k = None if m is None or n is None else min(m, n)
    inner = m if full_matrices else k
    return TensorSpec(dims[:-2] + [m, inner], x.dtype), TensorSpec(dims[:-2] + [inner, n], x.dtype)


def _qr_grad_tall(q, r, dq, dr):
    """The QR gradient for m >= n (Q [m, n], R [n, n]), as TensorFlow computes it:
    with M = R dR^H - dQ^H Q, dA = (dQ + Q copyltu(M)) R^-H, copyltu(M) being the lower
    triangle of M mirrored; written with Q^H dQ and R dR^H and their adjoints."""
    n = r.shape[-1]
    qdq = _mm(q, dq, True, False)
    qdq_h = _mm(dq, q, True, False)
    rdr = _mm(r, dr, False, True)
    rdr_h = _mm(dr, r, False, True)  # (R dR^H)^H = dR R^H
    lower = _band(math_ops.add(math_ops.subtract(qdq, qdq_h), math_ops.subtract(rdr, rdr_h)), -1, 0)
    r_inv = execute(TRIANGULAR_SOLVE, (r, eye(n, dtype=r.dtype)), {"lower": False, "adjoint": False})
    grad_a = _mm(q, math_ops.add(dr, _mm(lower, r_inv, False, True)), False, False)
    grad_b = _mm(math_ops.subtract(dq, _mm(q, qdq, False, False)), r_inv, False, True)
    return math_ops.add(grad_a, grad_b)


def _qr_grad(op, dys):
    a = op.inputs[0]
    q, r = op.outputs
    dq, dr = dys
    m, n = a.shape[-2], a.shape[-1]
    if op.attrs["full_matrices"] and m != n:
        raise NotImplementedError("QrGrad not implemented when full_matrices is true and "
                                  "nrows != ncols.")
    if m >= n:
        return _qr_grad_tall(q, r, dq, dr)
    # Wide A = [X | Y] with X square: X = Q U and Y = Q V where R = [U | V].
    y, u, v_grad, u_grad = a[..., :, m:], r[..., :, :m], dr[..., :, m:], dr[..., :, :m]
    dx = _qr_grad_tall(q, u, math_ops.add(dq, _mm(y, v_grad, False, True)), u_grad)
    return array_ops.concat([dx, _mm(q, v_grad, False, False)], axis=-1)


QR = primitive("Qr", _qr_forward, _qr_grad, _qr_abstract, multi_output=True)
Qr = collections.namedtuple("Qr", ["q", "r"])


def qr(input, full_matrices=False, name=None):  # noqa: A002
    """The QR decomposition input = q @ r of each matrix: q orthonormal columns, r upper
    triangular. Returns the namedtuple (q, r)."""
    x = _lapack_input(input, "Qr", half_kernel=True)
    return Qr(*execute(QR, (x,), {"full_matrices": bool(full_matrices)}))


def _svd_forward(x, full_matrices=False, compute_uv=True):
    if x.ndim < 2:
        raise _fail("Svd", f"Input tensor 0 must have rank >= 2, got {x.ndim}")
    real = np.finfo(x.dtype).dtype
    # A matrix with an inf or NaN gets NaN in every output, as TensorFlow gives (NumPy would
    # raise, or return finite vectors beside NaN values).
    bad = ~np.isfinite(x).all(axis=(-2, -1))
    if bad.any():
        x = np.where(bad[..., None, None], np.zeros((), x.dtype), x)
    if not compute_uv:
        s = np.linalg.svd(x, compute_uv=False).astype(real, copy=False)
        return (_nan_where(s, bad),)
    u, s, vh = np.linalg.svd(x, full_matrices=full_matrices)
    v = np.swapaxes(vh, -1, -2)
    if v.dtype.kind == "c":
        v = v.conj()
    return (_nan_where(s.astype(real, copy=False), bad),
            _nan_where(u.astype(x.dtype, copy=False), bad),
            _nan_where(v.astype(x.dtype, copy=False), bad))


def _nan_where(out, bad):
    """`out` with the results of the batch entries flagged in `bad` set to NaN."""
    if not bad.any():
        return out
    out = out.copy()
    out[bad] = np.nan
    return out


def _svd_abstract(x, full_matrices=False, compute_uv=True):
    real = x.dtype.real_dtype
    dims = _dims(x)
    if dims is None:
        specs = (TensorSpec(None, real), TensorSpec(None, x.dtype), TensorSpec(None, x.dtype))
        return specs if compute_uv else specs[:1]
    m, n = dims[-2:]
    k = None if m is None or n is None else min(m, n)
    batch = dims[:-2]
    s = TensorSpec(batch + [k], real)
    if not compute_uv:
        return (s,)
    return (s, TensorSpec(batch + [m, m if full_matrices else k], x.dtype),
            TensorSpec(batch + [n, n if full_matrices else k], x.dtype))


def _svd_grad(op, dys):
    # Townsend (2016), for real matrices with distinct non-zero singular values, k = min(m, n):
    # dA = U [F o (U^T dU - dU^T U) S + diag(ds) + S F o (V^T dV - dV^T V)] V^T
    #      + (I - U U^T) dU S^-1 V^T + U S^-1 dV^T (I - V V^T),   F_ij = 1 / (s_j^2 - s_i^2).
    a = op.inputs[0]
    if a.dtype.is_complex:
        raise NotImplementedError("The SVD gradient is implemented for real matrices only.")
    m, n = a.shape[-2], a.shape[-1]
    if not op.attrs["compute_uv"]:  # one output: the tape passes its gradient alone
        dys = dys if isinstance(dys, tuple) else (dys,)
        s, u, v = execute(SVD, (a,), {"full_matrices": False, "compute_uv": True})
        return _mm(_scale_columns(u, dys[0]), v, False, True)
    if op.attrs["full_matrices"] and m != n:
        raise NotImplementedError("SVD gradient has not been implemented for input with unequal "
                                  "number of columns and rows when full_matrices is True.")
    s, u, v = op.outputs
    ds, du, dv = dys
    f = _pairwise_inverse_gaps(math_ops.multiply(s, s))
    j = math_ops.multiply(f, math_ops.subtract(_mm(u, du, True, False), _mm(du, u, True, False)))
    k = math_ops.multiply(f, math_ops.subtract(_mm(v, dv, True, False), _mm(dv, v, True, False)))
    inner = math_ops.add(math_ops.add(_scale_columns(j, s), diag(ds)), _scale_rows(s, k))
    grad = _mm(_mm(u, inner, False, False), v, False, True)
    s_inv = math_ops.divide(array_ops.ones_like(s), s)
    if m > n:  # U's columns do not span the whole space
        du_s = _scale_columns(du, s_inv)
        outside = math_ops.subtract(du_s, _mm(u, _mm(u, du_s, True, False), False, False))
        grad = math_ops.add(grad, _mm(outside, v, False, True))
    if n > m:
        outside = math_ops.subtract(dv, _mm(v, _mm(v, dv, True, False), False, False))
        grad = math_ops.add(grad, _mm(_scale_columns(u, s_inv), outside, False, True))
    return grad


SVD = primitive("Svd", _svd_forward, _svd_grad, _svd_abstract, multi_output=True)


def svd(tensor, full_matrices=False, compute_uv=True, name=None):
    """The singular value decomposition tensor = u @ diag(s) @ adjoint(v).

    Returns (s, u, v) - note the order, and v rather than v^H - or s alone if not `compute_uv`.
    Singular values are in decreasing order.
    """
    x = _lapack_input(tensor, "Svd")
    out = execute(SVD, (x,), {"full_matrices": bool(full_matrices), "compute_uv": bool(compute_uv)})
    return out if compute_uv else out[0]


def _float_matrix(a) -> Tensor:
    """`a` for pinv and matrix_rank: a real floating (batch) matrix, checked as TensorFlow's
    Python code checks it."""
    x = a if type(a) is Tensor else convert_to_tensor(a)
    if not x._dtype.is_floating:
        raise TypeError(f"Input `a` must have `float`-like `dtype` (saw {x._dtype.name}).")
    if len(x.shape) < 2:
        raise ValueError(f"Input `a` must have at least 2 dimensions (saw: {len(x.shape)}).")
    return x


def pinv(a, rcond=None, validate_args=False, name=None):
    """The Moore-Penrose pseudo-inverse, from the SVD; singular values at most
    rcond * max(s) are treated as zero (rcond defaults to 10 * max(M, N) * eps)."""
    x = _float_matrix(a)
    if x._dtype is dtypes.bfloat16:  # TensorFlow's pinv asks NumPy for bfloat16's epsilon
        raise ValueError(f"data type {x._dtype.as_numpy_dtype} not inexact")
    return _pinv(_lapack_input(x, "Svd"), rcond)


def _pinv(x, rcond=None):
    s, u, v = svd(x)
    m, n = x.shape[-2], x.shape[-1]
    if rcond is None:
        rcond = 10 * max(m, n) * float(np.finfo(s.dtype.as_numpy_dtype).eps)
    cutoff = math_ops.multiply(convert_to_tensor(rcond, dtype=s.dtype),
                               reduction_ops.reduce_max(s, axis=-1, keepdims=True))
    keep = math_ops.greater(s, cutoff)
    # 1/s only where s is kept, so that neither the value nor the gradient sees 1/0.
    safe = array_ops.where(keep, s, array_ops.ones_like(s))
    s_inv = array_ops.where(keep, math_ops.divide(array_ops.ones_like(s), safe), array_ops.zeros_like(s))
    if x.dtype.is_complex:
        s_inv = math_ops.cast(s_inv, x.dtype)
    return _mm(_scale_columns(v, s_inv), u, False, True)


def matrix_rank(a, tol=None, validate_args=False, name=None):
    """The number of singular values above `tol` (default eps * max(M, N) * max(s)), as int32."""
    a = _float_matrix(a)
    s = svd(a, compute_uv=False)
    if tol is None:
        x_shape = a.shape
        eps = float(np.finfo(s.dtype.as_numpy_dtype).eps)
        tol = math_ops.multiply(convert_to_tensor(eps * max(x_shape[-2], x_shape[-1]), dtype=s.dtype),
                                reduction_ops.reduce_max(s, axis=-1, keepdims=True))
    else:
        tol = convert_to_tensor(tol, dtype_hint=s.dtype)
    return reduction_ops.reduce_sum(math_ops.cast(math_ops.greater(s, tol), dtypes.int32), axis=-1)


def lstsq(matrix, rhs, l2_regularizer=0.0, fast=True, name=None):
    """The least-squares solution X of matrix @ X = rhs, with an optional L2 (ridge) penalty.

    fast=True solves the regularized normal equations by Cholesky; fast=False uses the
    pseudo-inverse (the minimum-norm solution, also for rank-deficient matrices).
    """
    a = _lapack_input(matrix, "MatrixSolveLs")
    b = convert_to_tensor(rhs, dtype_hint=a._dtype)
    if b._dtype is not a._dtype:
        raise dtype_mismatch("MatrixSolveLs", 1, a._dtype, b._dtype)
    if not fast:
        # TensorFlow's fast=False kernel solves without the regularizer, whatever its value, and
        # takes operands of one rank with equal batch dimensions.
        if len(a.shape) != len(b.shape):
            raise _fail("MatrixSolveLs", "All input tensors must have the same rank.")
        if tuple(a.shape[:-2]) != tuple(b.shape[:-2]):
            raise _fail("MatrixSolveLs", "All input tensors must have the same outer dimensions.")
        return matmul(_pinv(a), b)
    m, n = a.shape[-2], a.shape[-1]
    reg = math_ops.cast(convert_to_tensor(l2_regularizer, dtype_hint=a.dtype), a.dtype)
    if m >= n:  # (A^H A + l2 I) X = A^H B
        gram = math_ops.add(_mm(a, a, True, False), math_ops.multiply(reg, eye(n, dtype=a.dtype)))
        return cholesky_solve(cholesky(gram), matmul(a, b, adjoint_a=True))
    # X = A^H (A A^H + l2 I)^-1 B: the minimum-norm solution of an underdetermined system
    gram = math_ops.add(_mm(a, a, False, True), math_ops.multiply(reg, eye(m, dtype=a.dtype)))
    return matmul(a, cholesky_solve(cholesky(gram), b), adjoint_a=True)


def _eigh_forward(x, compute_v=True):
    _check_square("SelfAdjointEigV2", x)
    if np.isnan(np.tril(x)).any():  # the lower triangle is what is read
        raise _fail("SelfAdjointEigV2", "Self-adjoint eigen decomposition was not successful. The "
                                        "input might not be valid.")
    if not compute_v:
        return (np.linalg.eigvalsh(x).astype(x.dtype),)
    e, v = np.linalg.eigh(x)  # reads the lower triangle, as TensorFlow does
    return e.astype(x.dtype), v.astype(x.dtype, copy=False)


def _eigh_abstract(x, compute_v=True):
    dims = _dims(x)
    if dims is None:
        specs = (TensorSpec(None, x.dtype), TensorSpec(None, x.dtype))
    else:
        specs = (TensorSpec(dims[:-1], x.dtype), TensorSpec(dims, x.dtype))
    return specs if compute_v else specs[:1]


def _eigh_grad(op, dys):
    # G = V (diag(de) + F o (V^H dV)) V^H with F_ij = 1 / (e_j - e_i); the op reads only the
    # lower triangle, so the gradient is lower(G + G^H) with the diagonal halved.
    a = op.inputs[0]
    if not op.attrs["compute_v"]:  # one output: the tape passes its gradient alone
        dys = dys if isinstance(dys, tuple) else (dys,)
        e, v = execute(SELF_ADJOINT_EIG, (a,), {"compute_v": True})
        inner = diag(dys[0])
    else:
        e, v = op.outputs
        de, dv = dys
        f = _pairwise_inverse_gaps(e)
        inner = math_ops.add(diag(de), math_ops.multiply(f, _mm(v, dv, True, False)))
    g = _mm(_mm(v, inner, False, False), v, False, True)
    g_h = _mm(_mm(v, inner, False, True), v, False, True)
    half = convert_to_tensor(0.5, dtype=a.dtype)
    return math_ops.subtract(math_ops.add(_band(g, -1, 0), _band(g_h, -1, 0)),
                             math_ops.multiply(half, math_ops.add(_band(g, 0, 0), _band(g_h, 0, 0))))


SELF_ADJOINT_EIG = primitive("SelfAdjointEigV2", _eigh_forward, _eigh_grad, _eigh_abstract,
                             multi_output=True)


def eigh(tensor, name=None):
    """(e, v): the eigenvalues (ascending) and eigenvectors (columns) of self-adjoint matrices.
    Only the lower triangle is read."""
    x = _lapack_input(tensor, "SelfAdjointEigV2")
    return execute(SELF_ADJOINT_EIG, (x,), {"compute_v": True})


def eigvalsh(tensor, name=None):
    """The eigenvalues (ascending) of self-adjoint matrices."""
    x = _lapack_input(tensor, "SelfAdjointEigV2")
    return execute(SELF_ADJOINT_EIG, (x,), {"compute_v": False})[0]


# == diagonals and bands =====================================================================
def _k_attr(k) -> int:
    if isinstance(k, Tensor):
        k = k.numpy().tolist()
    if isinstance(k, (list, tuple)):
        if len(k) == 2 and int(k[0]) == int(k[1]):
            return int(k[0])
        raise NotImplementedError("tensorweave supports one diagonal at a time: `k` must be an "
                                  f"int or a pair of equal ints, got {k}")
    return int(k)


def _diag_size(diag_len: int, k: int, num_rows: int, num_cols: int):
    """The (rows, cols) of a matrix with `diag_len` values on diagonal k, as MatrixDiagV3 infers."""
    min_rows = diag_len - min(k, 0)
    min_cols = diag_len + max(k, 0)
    if num_rows == -1 and num_cols == -1:
        num_rows = num_cols = max(min_rows, min_cols)
    elif num_rows == -1:
        num_rows = min_rows
    elif num_cols == -1:
        num_cols = min_cols
    return num_rows, num_cols, min_rows, min_cols


def _diag_forward(diagonal, k=0, num_rows=-1, num_cols=-1, padding_value=0):
    if diagonal.ndim < 1:
        raise _fail("MatrixDiagV3", "diagonal must be at least 1-dim, received shape: []")
    n = diagonal.shape[-1]
    rows, cols, min_rows, min_cols = _diag_size(n, k, num_rows, num_cols)
    if rows < min_rows:
        raise _fail("MatrixDiagV3", "The number of rows is too small.")
    if cols < min_cols:
        raise _fail("MatrixDiagV3", "The number of columns is too small.")
    if rows != min_rows and cols != min_cols:
        raise _fail("MatrixDiagV3", "The number of rows or columns is not consistent with the "
                                    "specified d_lower, d_upper, and diagonal.")
    out = np.full(diagonal.shape[:-1] + (rows, cols), padding_value, dtype=diagonal.dtype)
    idx = np.arange(n)
    out[..., idx + max(-k, 0), idx + max(k, 0)] = diagonal
    return out


def _diag_abstract(diagonal, k=0, num_rows=-1, num_cols=-1, padding_value=0):
    dims = _dims(diagonal)
    if dims is None:
        return TensorSpec(None, diagonal.dtype)
    n = dims[-1]
    if n is None:
        rows = num_rows if num_rows != -1 else None
        cols = num_cols if num_cols != -1 else None
    else:
        rows, cols = _diag_size(n, k, num_rows, num_cols)[:2]
    return TensorSpec(dims[:-1] + [rows, cols], diagonal.dtype)


def _diag_grad(op, dy):
    return execute(MATRIX_DIAG_PART, (dy,), {"k": op.attrs["k"], "padding_value": 0})


MATRIX_DIAG = primitive("MatrixDiagV3", _diag_forward, _diag_grad, _diag_abstract)


def _diag_part_len(rows, cols, k):
    if rows is None or cols is None:
        return None
    return max(0, min(rows, cols - k) if k >= 0 else min(rows + k, cols))


def _check_k(op_name, x, k):
    if x.ndim < 2:
        raise _fail(op_name, f"input must be at least 2-dim, received shape: {_shape_text(x.shape)}")
    rows, cols = x.shape[-2:]
    if not -rows <= k <= cols:
        raise _fail(op_name, f"lower_diag_index is out of bound: {k}. It must be between "
                             f"{-rows} and {cols}")


def _diag_part_forward(x, k=0, padding_value=0):
    _check_k("MatrixDiagPartV3", x, k)
    return np.diagonal(x, k, -2, -1).copy()


def _diag_part_abstract(x, k=0, padding_value=0):
    dims = _dims(x)
    if dims is None:
        return TensorSpec(None, x.dtype)
    return TensorSpec(dims[:-2] + [_diag_part_len(dims[-2], dims[-1], k)], x.dtype)


def _diag_part_grad(op, dy):
    x = op.inputs[0]
    rows, cols = x.shape[-2], x.shape[-1]
    if _diag_part_len(rows, cols, op.attrs["k"]) == 0:
        return array_ops.zeros_like(x)
    return execute(MATRIX_DIAG, (dy,), {"k": op.attrs["k"], "num_rows": rows, "num_cols": cols,
                                        "padding_value": 0})


MATRIX_DIAG_PART = primitive("MatrixDiagPartV3", _diag_part_forward, _diag_part_grad,
                             _diag_part_abstract)


def _set_diag_forward(x, diagonal, k=0):
    _check_k("MatrixSetDiagV3", x, k)
    rows, cols = x.shape[-2:]
    n = _diag_part_len(rows, cols, k)
    expected = x.shape[:-2] + (n,)
    if diagonal.shape != expected:
        raise _fail("MatrixSetDiagV3",
                    "Either first dimensions of diagonal don't match input.shape[:-2], or "
                    "diagonal.shape[:-1] is not equal to the longests diagonal in range "
                    f"[lower_diag_index:upper_diag_index].\nInput shape: {_shape_text(x.shape)}\n"
                    f"Diagonal shape: {_shape_text(diagonal.shape)}\n"
                    f"Expected diagonal shape: {_shape_text(expected)}")
    out = x.copy()
    idx = np.arange(n)
    out[..., idx + max(-k, 0), idx + max(k, 0)] = diagonal
    return out


def _set_diag_grad(op, dy):
    k = op.attrs["k"]
    zeros = array_ops.zeros_like(op.inputs[1])
    return (execute(MATRIX_SET_DIAG, (dy, zeros), {"k": k}),
            execute(MATRIX_DIAG_PART, (dy,), {"k": k, "padding_value": 0}))


MATRIX_SET_DIAG = primitive("MatrixSetDiagV3", _set_diag_forward, _set_diag_grad,
                            lambda x, diagonal, k=0: TensorSpec(x.shape, x.dtype))


def _padding(value, dtype, from_python: bool):
    """A padding value as a NumPy scalar of `dtype`. The default 0 is the zero of a tensor's
    dtype (False for bool), but TensorFlow converts it strictly (TypeError for bool) when the
    input is a Python list; other Python values must convert to `dtype`."""
    if type(value) in (int, float) and value == 0 and not from_python:
        return np.zeros((), dtype=dtype.as_numpy_dtype)[()] if dtype is not dtypes.string else b""
    return convert_to_tensor(value, dtype=dtype).numpy()


def diag(diagonal, name="diag", k=0, num_rows=-1, num_cols=-1, padding_value=0, align="RIGHT_LEFT"):
    """A batch of matrices with `diagonal` [..., N] on diagonal `k` and `padding_value`
    elsewhere; the matrix size is inferred unless `num_rows`/`num_cols` are given."""
    d = diagonal if type(diagonal) is Tensor else convert_to_tensor(diagonal)
    pad = _padding(padding_value, d._dtype, isinstance(diagonal, (list, tuple)))
    return execute(MATRIX_DIAG, (d,), {"k": _k_attr(k), "num_rows": int(num_rows),
                                       "num_cols": int(num_cols), "padding_value": pad})


def diag_part(input, name="diag_part", k=0, padding_value=0, align="RIGHT_LEFT"):  # noqa: A002
    """Diagonal `k` of each matrix of `input` [..., M, N]."""
    x = input if type(input) is Tensor else convert_to_tensor(input)
    pad = _padding(padding_value, x._dtype, isinstance(input, (list, tuple)))
    return execute(MATRIX_DIAG_PART, (x,), {"k": _k_attr(k), "padding_value": pad})


def set_diag(input, diagonal, name="set_diag", k=0, align="RIGHT_LEFT"):  # noqa: A002
    """`input` with diagonal `k` of each matrix replaced by `diagonal`."""
    x = input if type(input) is Tensor else convert_to_tensor(input)
    if isinstance(diagonal, Tensor):
        if diagonal._dtype is not x._dtype:
            raise dtype_mismatch("MatrixSetDiagV3", 1, x._dtype, diagonal._dtype)
        d = diagonal
    else:
        d = convert_to_tensor(diagonal, dtype=x._dtype)
    return execute(MATRIX_SET_DIAG, (x, d), {"k": _k_attr(k)})


@functools.lru_cache(maxsize=256)
def _band_mask(rows: int, cols: int, num_lower: int, num_upper: int):
    offset = np.arange(cols)[None, :] - np.arange(rows)[:, None]  # j - i
    keep = np.ones((rows, cols), dtype=bool)
    if num_lower >= 0:
        keep &= offset >= -num_lower
    if num_upper >= 0:
        keep &= offset <= num_upper
    return keep


def _band_part_forward(x, num_lower, num_upper):
    if x.ndim < 2:
        raise _fail("MatrixBandPart", f"input must be at least 2-dim, received shape: "
                                      f"{_shape_text(x.shape)}")
    rows, cols = x.shape[-2:]
    if num_lower > rows:
        raise _fail("MatrixBandPart", f"num_lower must be negative or less or equal to number of "
                                      f"rows ({rows}) got: {num_lower}")
    if num_upper > cols:
        raise _fail("MatrixBandPart", f"num_upper must be negative or less or equal to number of "
                                      f"columns ({cols}) got: {num_upper}")
    return np.where(_band_mask(rows, cols, num_lower, num_upper), x, np.zeros((), dtype=x.dtype))


MATRIX_BAND_PART = primitive(
    "MatrixBandPart", _band_part_forward,
    lambda op, dy: _band(dy, op.attrs["num_lower"], op.attrs["num_upper"]),
    lambda x, num_lower, num_upper: TensorSpec(x.shape, x.dtype))


def band_part(input, num_lower, num_upper, name=None):  # noqa: A002
    """Keeps a band of each matrix: `num_lower` subdiagonals and `num_upper` superdiagonals
    (-1: all of them); zeros elsewhere. `band_part(x, -1, 0)` is the lower triangle."""
    x = input if type(input) is Tensor else convert_to_tensor(input)
    return execute(MATRIX_BAND_PART, (x,), {"num_lower": int(num_lower), "num_upper": int(num_upper)})


def trace(x, name=None):
    """The sum of the main diagonal of each matrix of x [..., M, N]."""
    return reduction_ops.reduce_sum(diag_part(x), axis=-1)


def _dim_value(value, what: str) -> int:
    if isinstance(value, Tensor):
        value = value.numpy()
    if isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, bool):
        return int(value)
    raise TypeError(what)


def eye(num_rows, num_columns=None, batch_shape=None, dtype=dtypes.float32, name=None):
    """Identity matrices [*batch_shape, num_rows, num_columns] (ones on the main diagonal)."""
    dtype = dtypes.as_dtype(dtype)
    shown_cols = num_rows if num_columns is None else num_columns
    message = ("Arguments `num_rows` and `num_columns` must be positive integer values. "
               f"Received: num_rows={num_rows}, num_columns={shown_cols}")
    rows = _dim_value(num_rows, message)
    cols = rows if num_columns is None else _dim_value(num_columns, message)
    batch = [] if batch_shape is None else list(array_ops.shape_attr(batch_shape))
    ones = array_ops.ones(batch + [min(rows, cols)], dtype=dtype)
    return execute(MATRIX_DIAG, (ones,), {"k": 0, "num_rows": rows, "num_cols": cols,
                                          "padding_value": np.zeros((), dtype.as_numpy_dtype)[()]})


def matrix_transpose(a, name="matrix_transpose", conjugate=False):
    """Transposes the last two axes of `a` (conjugating if asked)."""
    return array_ops.matrix_transpose(a, conjugate=conjugate)


def adjoint(matrix, name=None):
    """The conjugate transpose of the last two axes."""
    return array_ops.matrix_transpose(matrix, conjugate=True)


# == cross product ===========================================================================
def _cross_forward(a, b):
    if a.shape != b.shape:
        raise _fail("Cross", f"Both inputs must be of same shape: {_shape_text(a.shape)} vs. "
                             f"{_shape_text(b.shape)}")
    if a.ndim < 1 or a.shape[-1] != 3:
        raise _fail("Cross", "Cross-products are only defined for 3-element vectors.",
                    FailedPreconditionError)
    return np.cross(a, b)


CROSS = primitive("Cross", _cross_forward,
                  lambda op, dy: (execute(CROSS, (op.inputs[1], dy)), execute(CROSS, (dy, op.inputs[0]))),
                  lambda a, b: TensorSpec(a.shape.merge_with(b.shape)
                                          if a.shape.is_compatible_with(b.shape) else a.shape, a.dtype))


def cross(a, b, name=None):
    """The cross product of 3-element vectors along the last axis."""
    a = a if type(a) is Tensor else convert_to_tensor(a)
    b = b if type(b) is Tensor else convert_to_tensor(b, dtype_hint=a._dtype)
    if b._dtype is not a._dtype:
        raise dtype_mismatch("Cross", 1, a._dtype, b._dtype)
    if a._dtype._enum not in dtypes.REAL_NUMBER:
        raise unsupported_dtype("Cross", a._dtype)
    return execute(CROSS, (a, b))


# == norms and clipping ======================================================================
def _is_int(value) -> bool:
    return isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, bool)


def _sum_squares(x, axis, keepdims: bool):
    """sum(x * conj(x)) over axis."""
    other = math_ops.conj(x) if x.dtype.is_complex else x
    return reduction_ops.reduce_sum(math_ops.multiply(x, other), axis=axis, keepdims=keepdims)


def _check_numeric(x):
    if x._dtype is dtypes.bool or x._dtype is dtypes.string:
        raise TypeError(f"Expected numeric or variant tensor, got dtype {x._dtype!r}.")


def norm(tensor, ord="euclidean", axis=None, keepdims=None, name=None):  # noqa: A002
    """The vector norm (axis None or an int) or matrix norm (axis a pair) of `tensor`.

    ord: 'euclidean' (the default; 'fro' for matrices), 1, 2, np.inf, or any p > 0 for vectors.
    The Euclidean norm is sqrt(sum(x * conj(x))), so its gradient is NaN at zero, as in TF.
    """
    keepdims = bool(keepdims)
    matrix = isinstance(axis, (list, tuple)) and len(axis) == 2
    if matrix:
        axis = tuple(axis)
        if not (_is_int(axis[0]) and _is_int(axis[1])) or axis[0] == axis[1]:
            raise ValueError("'axis' must be None, an integer, or a tuple of 2 unique integers, "
                             f"got {axis}")
        if isinstance(ord, str):
            ok = ord in ("euclidean", "fro")
        else:
            ok = isinstance(ord, numbers.Real) and not isinstance(ord, bool) and ord in (1, 2, np.inf)
        if not ok:
            raise ValueError("'ord' must be a supported matrix norm in ['euclidean', 'fro', 1, 2, "
                             f"inf], got {ord}")
    else:
        if not (axis is None or _is_int(axis)):
            raise ValueError("'axis' must be None, an integer, or a tuple of 2 unique integers, "
                             f"got {axis}")
        if isinstance(ord, str):
            ok = ord == "euclidean"
        else:
            ok = isinstance(ord, numbers.Real) and not isinstance(ord, bool) and ord > 0
        if not ok:
            raise ValueError(f"'ord' must be a supported vector norm, got {ord}")
    x = tensor if type(tensor) is Tensor else convert_to_tensor(tensor)
    if not matrix:
        axis = None if axis is None else int(axis)
        if ord in ("euclidean", 2):
            _check_numeric(x)
            return math_ops.sqrt(_sum_squares(x, axis, keepdims))
        magnitude = math_ops.abs(x)
        if ord == 1:
            return reduction_ops.reduce_sum(magnitude, axis=axis, keepdims=keepdims)
        if ord == np.inf:
            return reduction_ops.reduce_max(magnitude, axis=axis, keepdims=keepdims)
        p = convert_to_tensor(ord, dtype=magnitude.dtype)
        summed = reduction_ops.reduce_sum(math_ops.pow(magnitude, p), axis=axis, keepdims=keepdims)
        return math_ops.pow(summed, math_ops.divide(convert_to_tensor(1, dtype=p.dtype), p))
    rank = len(x.shape)
    rows_axis, cols_axis = (int(a) for a in axis)
    for a in (rows_axis, cols_axis):
        if not -rank <= a < rank:
            raise _fail("Sum", f"Invalid reduction dimension ({a} for input with {rank} dimension(s)")
    rows_axis, cols_axis = rows_axis % rank, cols_axis % rank
    if rows_axis == cols_axis:
        raise ValueError("'axis' must be None, an integer, or a tuple of 2 unique integers, "
                         f"got {axis}")
    if ord in ("euclidean", "fro"):
        _check_numeric(x)
        return math_ops.sqrt(_sum_squares(x, [rows_axis, cols_axis], keepdims))
    if ord == 2:
        others = [i for i in range(rank) if i not in (rows_axis, cols_axis)]
        moved = array_ops.transpose(x, others + [rows_axis, cols_axis])
        result = reduction_ops.reduce_max(svd(moved, compute_uv=False), axis=-1)
    else:
        magnitude = math_ops.abs(x)
        summed_axis, max_axis = (rows_axis, cols_axis) if ord == 1 else (cols_axis, rows_axis)
        sums = reduction_ops.reduce_sum(magnitude, axis=summed_axis, keepdims=True)
        result = reduction_ops.reduce_max(sums, axis=max_axis, keepdims=True)
        if keepdims:
            return result
        return array_ops.squeeze(result, axis=[rows_axis, cols_axis])
    if keepdims:
        for a in sorted((rows_axis, cols_axis)):
            result = array_ops.expand_dims(result, a)
    return result


def normalize(tensor, ord="euclidean", axis=None, name=None):  # noqa: A002
    """(tensor / norm, norm), the norm computed with `keepdims=True`."""
    x = tensor if type(tensor) is Tensor else convert_to_tensor(tensor)
    n = norm(x, ord=ord, axis=axis, keepdims=True)
    return math_ops.divide(x, n), n


def l2_normalize(x, axis=None, epsilon=1e-12, name=None, dim=None):
    """x / sqrt(max(sum(x**2, axis), epsilon)): unit L2 norm along `axis` (all axes if None)."""
    if dim is not None:
        if axis is not None:
            raise ValueError("Cannot specify both 'axis' and 'dim'")
        axis = dim
    x = x if type(x) is Tensor else convert_to_tensor(x)
    if x.dtype.is_complex:
        re, im = math_ops.real(x), math_ops.imag(x)
        square_sum = reduction_ops.reduce_sum(
            math_ops.add(math_ops.square(re), math_ops.square(im)), axis=axis, keepdims=True)
        inv_norm = math_ops.rsqrt(math_ops.maximum(
            square_sum, convert_to_tensor(epsilon, dtype=square_sum.dtype)))
        return math_ops.complex(math_ops.multiply(re, inv_norm), math_ops.multiply(im, inv_norm))
    square_sum = reduction_ops.reduce_sum(math_ops.square(x), axis=axis, keepdims=True)
    inv_norm = math_ops.rsqrt(math_ops.maximum(
        square_sum, convert_to_tensor(epsilon, dtype=square_sum.dtype)))
    return math_ops.multiply(x, inv_norm)


def _require_sequence(t_list):
    if isinstance(t_list, (Tensor, str, bytes)) or not isinstance(t_list, collections.abc.Sequence):
        raise TypeError(f"`t_list` should be a sequence of tensors. Received {type(t_list)}.")


def global_norm(t_list, name=None):
    """sqrt(sum of the squared L2 norms of the tensors of `t_list`); None entries are skipped."""
    _require_sequence(t_list)
    from tensorweave.ops import nn_ops
    halves = [nn_ops.l2_loss(t.values if isinstance(t, IndexedSlices) else convert_to_tensor(t))
              for t in t_list if t is not None]
    if not halves:
        return convert_to_tensor(0.0)
    total = reduction_ops.reduce_sum(array_ops.stack(halves))
    return math_ops.sqrt(math_ops.multiply(total, convert_to_tensor(2, dtype=total.dtype)))


def clip_by_global_norm(t_list, clip_norm, use_norm=None, name=None):
    """Scales every tensor of `t_list` by clip_norm / max(global_norm, clip_norm).

    Returns (list of clipped tensors, global norm); an infinite norm makes every value NaN.
    None entries stay None; IndexedSlices have their values scaled.
    """
    _require_sequence(t_list)
    if use_norm is None:
        use_norm = global_norm(t_list)
    else:
        use_norm = convert_to_tensor(use_norm)
    dtype = use_norm.dtype
    clip_norm = math_ops.cast(convert_to_tensor(clip_norm, dtype_hint=dtype), dtype)
    one = convert_to_tensor(1, dtype=dtype)
    scale = math_ops.multiply(clip_norm, math_ops.minimum(math_ops.divide(one, use_norm),
                                                          math_ops.divide(one, clip_norm)))
    # Adding (norm - norm) turns the scale into NaN when the norm is infinite or NaN.
    scale = math_ops.add(scale, math_ops.subtract(use_norm, use_norm))
    clipped = []
    for t in t_list:
        if t is None:
            clipped.append(None)
            continue
        if isinstance(t, IndexedSlices):
            values = math_ops.multiply(t.values, math_ops.cast(scale, t.dtype))
            clipped.append(IndexedSlices(array_ops.identity(values), t.indices, t.dense_shape))
            continue
        t = convert_to_tensor(t)
        clipped.append(array_ops.identity(math_ops.multiply(t, math_ops.cast(scale, t.dtype))))
    return clipped, use_norm


def clip_by_norm(t, clip_norm, axes=None, name=None):
    """t * clip_norm / max(l2norm(t, axes), clip_norm): the L2 norm along `axes` is at most
    clip_norm. The gradient stays finite where the norm is zero."""
    if isinstance(t, IndexedSlices):  # clips the values; the indices stay
        return IndexedSlices(clip_by_norm(t.values, clip_norm, axes), t.indices, t.dense_shape)
    values = t if type(t) is Tensor else convert_to_tensor(t)
    clip_norm = math_ops.cast(convert_to_tensor(clip_norm, dtype_hint=values.dtype), values.dtype)
    l2sum = reduction_ops.reduce_sum(math_ops.multiply(values, values), axis=axes, keepdims=True)
    positive = math_ops.greater(l2sum, convert_to_tensor(0, dtype=l2sum.dtype))
    # sqrt only of positive sums: sqrt's gradient at 0 is infinite, and 0 * inf would be NaN.
    safe = array_ops.where(positive, l2sum, array_ops.ones_like(l2sum))
    l2norm = array_ops.where(positive, math_ops.sqrt(safe), l2sum)
    scaled = math_ops.multiply(values, clip_norm)
    return array_ops.identity(math_ops.divide(scaled, math_ops.maximum(l2norm, clip_norm)))
