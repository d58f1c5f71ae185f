"""Fused recurrent kernels: a whole LSTM, GRU or simple-RNN sequence in one primitive.

A recurrent layer built from small ops costs one Python call per op per time step, forward and
backward. These kernels run the whole sequence in one NumPy loop instead (the `cudnn`-style
kernels TensorFlow dispatches to on a GPU, here on the CPU):

- the input projection of every step is ONE matmul up front, `(batch*time, input) @ kernel`;
- each step then does one `h @ recurrent_kernel` and the gate arithmetic, in place;
- the forward saves what the backward needs as extra outputs (gates, states; "residuals": they
  are not meant to be used, and their gradients are ignored);
- the gradient is another primitive running backpropagation through time in one loop, which
  keeps the gradient of every step's pre-activations; the gradients of the kernels, the bias and
  the inputs are then one matmul (or sum) each over all the steps.

Gate layouts are Keras's: LSTM kernel columns (i, f, c, o); GRU (z, r, h), with `reset_after`
(GRU's bias of shape (2, 3*units): input bias, then recurrent bias) or not (bias (3*units,)).
The activations are the defaults of those layers: tanh, and sigmoid for the gates. A sigmoid is
computed as `(1 + tanh(z / 2)) / 2`, which never overflows: the gate columns of the weights are
halved once per call (exact in floating point), so one `tanh` over all the gate columns of a step
gives every gate.

Masks (batch, time) follow Keras's recurrent loop: a masked step keeps the previous states, and
its output is the previous output (zeros before any step was kept), or zeros with
`zero_output_for_mask`. `go_backwards` processes the sequence from its end and returns the
outputs in that (reversed) order, as Keras does. These kernels are not differentiable twice.
"""
from __future__ import annotations

import numpy as np

from tensorweave.framework import dtypes
from tensorweave.framework.convert import convert_to_tensor
from tensorweave.framework.errors import InvalidArgumentError, op_error
from tensorweave.framework.op_registry import execute, primitive
from tensorweave.framework.tensor_spec import TensorSpec

_FLOATS = (dtypes.float16, dtypes.bfloat16, dtypes.float32, dtypes.float64)


# -- shared helpers --------------------------------------------------------------------------------
def _work_dtype(dtype: np.dtype) -> np.dtype:
    """float16 / bfloat16 run in float32; float32 and float64 as they are."""
    return np.dtype(np.float32) if dtype.itemsize < 4 else dtype


def _cast_all(arrays, dtype):
    return tuple(a if a.dtype == dtype else a.astype(dtype) for a in arrays)


def _gate_affine(units: int, n_sigmoid: int, n_tanh_at: int, n_gates: int, dtype):
    """(scale, shift) per gate column: sigmoid columns use tanh(z/2) * 1/2 + 1/2, the tanh column
    (block `n_tanh_at`, or none when -1) is left as it is."""
    scale = np.full(n_gates * units, 0.5, dtype)
    shift = np.full(n_gates * units, 0.5, dtype)
    if n_tanh_at >= 0:
        scale[n_tanh_at * units:(n_tanh_at + 1) * units] = 1
        shift[n_tanh_at * units:(n_tanh_at + 1) * units] = 0
    return scale, shift


# OpenBLAS runs a gemm of m*n*k multiply-adds up to this on one thread, larger ones on several.
# A step's small product split in row blocks under it stays on one thread: waking the other
# threads for a few microseconds of work costs more than it saves, and far more on a busy machine.
_ONE_THREAD_WORK = 65536 * 4


def _row_blocks(rows: int, n: int, k: int):
    """Row ranges of a (rows, k) @ (k, n) product that each stay on one BLAS thread (None: one)."""
    per = max(1, _ONE_THREAD_WORK // max(1, n * k))
    if rows <= per:
        return None
    count = -(-rows // per)
    size = -(-rows // count)
    return [(s, min(s + size, rows)) for s in range(0, rows, size)]


def _step_matmul(a, b, out, blocks):
    if blocks is None:
        np.matmul(a, b, out=out)
    else:
        for s, e in blocks:
            np.matmul(a[s:e], b, out=out[s:e])
    return out


def _steps(x, mask, go_backwards: bool):
    """The inputs time-major in the order the steps run, (time, batch, input), and the mask as
    (time, batch, 1) "dropped" flags (None without a mask)."""
    xs = x.transpose(1, 0, 2)
    if go_backwards:
        xs = xs[::-1]
    drop = None
    if mask is not None:
        m = np.asarray(mask).astype(bool, copy=False).T
        if go_backwards:
            m = m[::-1]
        drop = np.logical_not(m)[:, :, None]
    return np.ascontiguousarray(xs), drop


def _project(xs, kernel, bias):
    """xs @ kernel + bias for every step at once: (time, batch, input) -> (time, batch, gates)."""
    t, b, d = xs.shape
    out = np.matmul(xs.reshape(t * b, d), kernel).reshape(t, b, kernel.shape[1])
    if bias is not None:
        out += bias
    return out


def _batch_major(seq, go_backwards: bool = False):
    """(time, batch, ...) in step order -> (batch, time, ...) in input order (a view)."""
    if go_backwards:
        seq = seq[::-1]
    return seq.transpose(1, 0, 2)


def _mask_forward(t: int, drop, states, y) -> None:
    """Masked rows of step `t`: states[k][t + 1] keep states[k][t]; the output keeps the
    previous output (zeros at the first step), or zeros when `y` is (Y, True)."""
    drop_t = drop[t]
    for s in states:
        np.copyto(s[t + 1], s[t], where=drop_t)
    out, zero_output = y
    if zero_output or t == 0:
        np.copyto(out[t], 0, where=drop_t)
    else:
        np.copyto(out[t], out[t - 1], where=drop_t)


class _MaskedBackprop:
    """The mask's part of one backward step (the same for every kernel).

    Forward, for keep k in {0, 1}: state_t = k ? candidate : state_{t-1};
    output_t = k ? candidate_h : (zero_output ? 0 : output_{t-1}).
    """

    def __init__(self, drop, dtype, zero_output: bool, units: int, batch: int):
        self.keep = np.logical_not(drop).astype(dtype)
        self.dropped = drop.astype(dtype)
        self.zero_output = zero_output
        self.carry = np.zeros((batch, units), dtype)  # gradient reaching output_{t-1} via output_t

    def enter(self, t: int, dy_t, dh, extra=()):
        """(gradient of the candidate h, of the candidate extra states) at step `t`."""
        k = self.keep[t]
        self.gy = dy_t + self.carry
        d_candidate = (self.gy + dh) * k
        return d_candidate, tuple(d * k for d in extra)

    def leave(self, t: int, through_cell, previous):
        """The gradient of a state at step t - 1: through the cell, plus what a masked step
        passes through unchanged."""
        return through_cell + previous * self.dropped[t]

    def done(self, t: int) -> None:
        if not self.zero_output:
            self.carry = self.gy * self.dropped[t]


def _finish(xs, dpre, kernel, go_backwards: bool, need_dx: bool):
    """(d inputs (batch, time, input), d kernel) from the pre-activation gradients of every step
    (time, batch, gates) and the step-ordered inputs (time, batch, input)."""
    t, b, d = xs.shape
    flat = dpre.reshape(t * b, dpre.shape[2])
    d_kernel = np.matmul(xs.reshape(t * b, d).T, flat)
    if not need_dx:  # a zero gradient nobody asked for: a broadcast view, nothing allocated
        return np.broadcast_to(np.zeros((), xs.dtype), (b, t, d)), d_kernel
    dx = np.matmul(flat, kernel.T).reshape(t, b, d)
    return _batch_major(dx, go_backwards), d_kernel


def _column_sum(flat):
    """Sum over rows, as a matrix-vector product (BLAS; faster than a reduction here)."""
    return np.matmul(np.ones(flat.shape[0], flat.dtype), flat)


def _previous_states(hs):
    """The states entering each step, (time*batch, units), from (time + 1, batch, units)."""
    t1, b, u = hs.shape
    return hs[:t1 - 1].reshape((t1 - 1) * b, u)


# -- abstract evaluation ---------------------------------------------------------------------------
def _dims(spec, n: int) -> list:
    shape = spec.shape
    if shape.rank is None:
        return [None] * n
    return list(shape.as_list())


def _plus_one(d):
    return None if d is None else d + 1


def _sequence_specs(x, h0, recurrent_kernel):
    """(batch, time, units) as far as the specs of the inputs, the initial state and the
    recurrent kernel tell them."""
    b, t, _ = _dims(x, 3)
    hb, u = _dims(h0, 2)
    b = b if b is not None else hb
    if u is None:
        u = _dims(recurrent_kernel, 2)[0]
    return b, t, u


# -- LSTM ------------------------------------------------------------------------------------------
# residuals, all time-major in step order: the inputs (T, B, D), the gates after their activations
# (T, B, 4U), the cell states (T + 1, B, U) and h states (T + 1, B, U) from the initial ones, and
# tanh of each step's candidate cell state (T, B, U).
def _lstm_forward(x, h0, c0, kernel, recurrent_kernel, bias, *mask, go_backwards,
                  zero_output_for_mask):
    dtype = x.dtype
    work = _work_dtype(dtype)
    x, h0, c0, kernel, recurrent_kernel, bias = _cast_all(
        (x, h0, c0, kernel, recurrent_kernel, bias), work)
    b, t, _ = x.shape
    u = recurrent_kernel.shape[0]
    u2, u3 = 2 * u, 3 * u
    xs, drop = _steps(x, mask[0] if mask else None, go_backwards)
    scale, shift = _gate_affine(u, 3, 2, 4, work)
    xp = _project(xs, kernel * scale, bias * scale)
    r = recurrent_kernel * scale
    blocks = _row_blocks(b, 4 * u, u)
    gates = np.empty((t, b, 4 * u), work)
    hs = np.empty((t + 1, b, u), work)
    cs = np.empty((t + 1, b, u), work)
    tanh_c = np.empty((t, b, u), work)
    hs[0] = h0
    cs[0] = c0
    y = hs[1:] if drop is None else np.empty((t, b, u), work)
    z = np.empty((b, 4 * u), work)
    ig = np.empty((b, u), work)
    for step in range(t):
        _step_matmul(hs[step], r, z, blocks)
        z += xp[step]
        np.tanh(z, out=z)
        g = gates[step]
        np.multiply(z, scale, out=g)
        g += shift
        c = cs[step + 1]
        np.multiply(g[:, u:u2], cs[step], out=c)
        np.multiply(g[:, :u], g[:, u2:u3], out=ig)
        c += ig
        tc = np.tanh(c, out=tanh_c[step])
        if drop is None:
            np.multiply(g[:, u3:], tc, out=hs[step + 1])
        else:
            np.multiply(g[:, u3:], tc, out=y[step])
            hs[step + 1] = y[step]
            _mask_forward(step, drop, (hs, cs), (y, zero_output_for_mask))
    outs = (_batch_major(y), hs[t], cs[t], xs, gates, cs, hs, tanh_c)
    return _cast_all(outs, dtype) if work != dtype else outs


def _lstm_abstract(x, h0, c0, kernel, recurrent_kernel, bias, *mask, go_backwards,
                   zero_output_for_mask):
    b, t, u = _sequence_specs(x, h0, recurrent_kernel)
    d = _dims(x, 3)[2]
    u4 = None if u is None else 4 * u
    dt = x.dtype
    return (TensorSpec([b, t, u], dt), TensorSpec([b, u], dt), TensorSpec([b, u], dt),
            TensorSpec([t, b, d], dt), TensorSpec([t, b, u4], dt),
            TensorSpec([_plus_one(t), b, u], dt), TensorSpec([_plus_one(t), b, u], dt),
            TensorSpec([t, b, u], dt))


def _lstm_backward(kernel, recurrent_kernel, *rest, go_backwards, zero_output_for_mask,
                   has_mask, need_dx):
    if has_mask:
        mask, xs, gates, cs, hs, tanh_c, dy, dh_t, dc_t = rest
    else:
        mask = None
        xs, gates, cs, hs, tanh_c, dy, dh_t, dc_t = rest
    dtype = xs.dtype
    work = _work_dtype(dtype)
    kernel, recurrent_kernel, xs, gates, cs, hs, tanh_c, dy, dh_t, dc_t = _cast_all(
        (kernel, recurrent_kernel, xs, gates, cs, hs, tanh_c, dy, dh_t, dc_t), work)
    t, b, _ = xs.shape
    u = recurrent_kernel.shape[0]
    u2, u3 = 2 * u, 3 * u
    drop = _steps(xs[:0].transpose(1, 0, 2), mask, go_backwards)[1]
    dy = dy.transpose(1, 0, 2)
    has_dy = bool(dy.any())  # without return_sequences the outputs' gradient is all zeros  # step order is the outputs' order
    # activation derivatives of every step at once: s (1 - s) for the sigmoid gates, 1 - g^2
    deriv = gates * (1 - gates)
    g_gate = gates[:, :, u2:u3]
    np.multiply(g_gate, g_gate, out=deriv[:, :, u2:u3])
    np.subtract(1, deriv[:, :, u2:u3], out=deriv[:, :, u2:u3])
    # d c / d h = o (1 - tanh(c)^2); the (i, f, c) gate gradients are dc times (g, c_prev, i)
    o_dtanh = gates[:, :, u3:] * (1 - tanh_c * tanh_c)
    gci = np.empty((t, b, 3, u), work)
    gci[:, :, 0] = g_gate
    gci[:, :, 1] = cs[:t]
    gci[:, :, 2] = gates[:, :, :u]
    forget = gates[:, :, u:u2]
    dpre = np.empty((t, b, 4 * u), work)
    dpre4 = dpre.reshape(t, b, 4, u)
    rt = np.ascontiguousarray(recurrent_kernel.T)
    blocks = _row_blocks(b, u, 4 * u)
    dh = np.array(dh_t, copy=True)
    dc = np.array(dc_t, copy=True)
    masked = None if drop is None else _MaskedBackprop(drop, work, zero_output_for_mask, u, b)
    for step in range(t - 1, -1, -1):
        if masked is None:
            if has_dy:
                dh += dy[step]
            dht, dc_in = dh, dc
        else:
            dht, (dc_in,) = masked.enter(step, dy[step], dh, (dc,))
        dct = dht * o_dtanh[step]
        dct += dc_in
        np.multiply(gci[step], dct[:, None, :], out=dpre4[step, :, :3])
        np.multiply(dht, tanh_c[step], out=dpre4[step, :, 3])
        dz = dpre[step]
        dz *= deriv[step]
        dc_cell = dct * forget[step]
        dh_cell = _step_matmul(dz, rt, np.empty((b, u), work), blocks)
        if masked is None:
            dh, dc = dh_cell, dc_cell
        else:
            dh = masked.leave(step, dh_cell, dh)
            dc = masked.leave(step, dc_cell, dc)
            masked.done(step)
    dx, d_kernel = _finish(xs, dpre, kernel, go_backwards, need_dx)
    flat = dpre.reshape(t * b, 4 * u)
    d_recurrent = np.matmul(_previous_states(hs).T, flat)
    d_bias = _column_sum(flat)
    outs = (dx, dh, dc, d_kernel, d_recurrent, d_bias)
    return _cast_all(outs, dtype) if work != dtype else outs


def _input_spec_of(xs):
    t, b, d = _dims(xs, 3)
    return TensorSpec([b, t, d], xs.dtype)


def _lstm_backward_abstract(kernel, recurrent_kernel, *rest, go_backwards,
                            zero_output_for_mask, has_mask, need_dx):
    xs, dh_t = rest[-8], rest[-2]
    dt = xs.dtype
    _, u4 = _dims(kernel, 2)
    return (_input_spec_of(xs), TensorSpec(dh_t.shape, dt), TensorSpec(dh_t.shape, dt),
            TensorSpec(kernel.shape, dt), TensorSpec(recurrent_kernel.shape, dt),
            TensorSpec([u4], dt))


def _no_second_derivative(op, dys):
    """The BPTT kernels are first derivatives only: a gradient through one is refused (as
    TensorFlow refuses one through cuDNN's backprop) rather than silently left out."""
    raise LookupError(f"No gradient defined for operation '{op.prim.name}': the fused recurrent "
                      f"kernel has first derivatives only. Build the layer with "
                      f"use_cudnn=False (the step-by-step loop) to take higher derivatives.")


LSTM_SEQUENCE_GRAD = primitive("LSTMSequenceGrad", _lstm_backward, _no_second_derivative,
                               _lstm_backward_abstract, multi_output=True)


def _lstm_grad(op, dys):
    dy, dh_t, dc_t = dys[0], dys[1], dys[2]
    kernel, recurrent_kernel = op.inputs[3], op.inputs[4]
    mask = tuple(op.inputs[6:])
    attrs = dict(op.attrs, has_mask=bool(mask), need_dx=op.needs_gradient(0))
    dx, dh0, dc0, dk, dr, db = execute(
        LSTM_SEQUENCE_GRAD, (kernel, recurrent_kernel) + mask + tuple(op.outputs[3:]) +
        (dy, dh_t, dc_t), attrs)
    return (dx if op.needs_gradient(0) else None, dh0, dc0, dk, dr, db) + (None,) * len(mask)


LSTM_SEQUENCE = primitive("LSTMSequence", _lstm_forward, _lstm_grad, _lstm_abstract,
                          multi_output=True)


# -- GRU -------------------------------------------------------------------------------------------
# residuals (time-major, step order): the inputs (T, B, D), the update and reset gates (T, B, 2U),
# the candidates hh (T, B, U), the h states (T + 1, B, U), and with `reset_after` the recurrent
# candidate pre-activation h_prev @ R_h + b_h (T, B, U), else r * h_prev (T, B, U).
def _gru_forward(x, h0, kernel, recurrent_kernel, bias, *mask, go_backwards,
                 zero_output_for_mask, reset_after):
    dtype = x.dtype
    work = _work_dtype(dtype)
    x, h0, kernel, recurrent_kernel, bias = _cast_all((x, h0, kernel, recurrent_kernel, bias),
                                                      work)
    b, t, _ = x.shape
    u = recurrent_kernel.shape[0]
    u2 = 2 * u
    xs, drop = _steps(x, mask[0] if mask else None, go_backwards)
    scale, _ = _gate_affine(u, 2, 2, 3, work)
    input_bias = bias[0] if reset_after else bias
    xp = _project(xs, kernel * scale, input_bias * scale)
    r = recurrent_kernel * scale
    zr = np.empty((t, b, u2), work)
    cand = np.empty((t, b, u), work)
    hs = np.empty((t + 1, b, u), work)
    saved = np.empty((t, b, u), work)
    hs[0] = h0
    y = hs[1:] if drop is None else np.empty((t, b, u), work)
    diff = np.empty((b, u), work)
    if reset_after:
        recurrent_bias = bias[1] * scale
        a = np.empty((b, 3 * u), work)
        blocks = _row_blocks(b, 3 * u, u)
    else:
        r_zr = np.ascontiguousarray(r[:, :u2])
        r_h = np.ascontiguousarray(r[:, u2:])
        a = np.empty((b, u2), work)
        blocks = _row_blocks(b, u2, u)
        blocks_h = _row_blocks(b, u, u)
    for step in range(t):
        hp = hs[step]
        gate = zr[step]
        hh = cand[step]
        if reset_after:
            _step_matmul(hp, r, a, blocks)
            a += recurrent_bias
            np.add(a[:, :u2], xp[step, :, :u2], out=gate)
            saved[step] = a[:, u2:]
        else:
            _step_matmul(hp, r_zr, a, blocks)
            np.add(a, xp[step, :, :u2], out=gate)
        np.tanh(gate, out=gate)
        gate *= 0.5
        gate += 0.5
        if reset_after:
            np.multiply(gate[:, u:], a[:, u2:], out=hh)
        else:
            rh = saved[step]
            np.multiply(gate[:, u:], hp, out=rh)
            _step_matmul(rh, r_h, hh, blocks_h)
        hh += xp[step, :, u2:]
        np.tanh(hh, out=hh)
        # h = z * h_prev + (1 - z) * hh = hh + z * (h_prev - hh)
        np.subtract(hp, hh, out=diff)
        diff *= gate[:, :u]
        if drop is None:
            np.add(hh, diff, out=hs[step + 1])
        else:
            np.add(hh, diff, out=y[step])
            hs[step + 1] = y[step]
            _mask_forward(step, drop, (hs,), (y, zero_output_for_mask))
    outs = (_batch_major(y), hs[t], xs, zr, cand, hs, saved)
    return _cast_all(outs, dtype) if work != dtype else outs


def _gru_abstract(x, h0, kernel, recurrent_kernel, bias, *mask, go_backwards,
                  zero_output_for_mask, reset_after):
    b, t, u = _sequence_specs(x, h0, recurrent_kernel)
    d = _dims(x, 3)[2]
    u2 = None if u is None else 2 * u
    dt = x.dtype
    return (TensorSpec([b, t, u], dt), TensorSpec([b, u], dt), TensorSpec([t, b, d], dt),
            TensorSpec([t, b, u2], dt), TensorSpec([t, b, u], dt),
            TensorSpec([_plus_one(t), b, u], dt), TensorSpec([t, b, u], dt))


def _gru_backward(kernel, recurrent_kernel, *rest, go_backwards, zero_output_for_mask,
                  reset_after, has_mask, need_dx):
    if has_mask:
        mask, xs, zr, cand, hs, saved, dy, dh_t = rest
    else:
        mask = None
        xs, zr, cand, hs, saved, dy, dh_t = rest
    dtype = xs.dtype
    work = _work_dtype(dtype)
    kernel, recurrent_kernel, xs, zr, cand, hs, saved, dy, dh_t = _cast_all(
        (kernel, recurrent_kernel, xs, zr, cand, hs, saved, dy, dh_t), work)
    t, b, _ = xs.shape
    u = recurrent_kernel.shape[0]
    u2 = 2 * u
    drop = _steps(xs[:0].transpose(1, 0, 2), mask, go_backwards)[1]
    dy = dy.transpose(1, 0, 2)
    has_dy = bool(dy.any())  # without return_sequences the outputs' gradient is all zeros
    update = zr[:, :, :u]
    reset = zr[:, :, u:]
    h_prev = hs[:t]
    d_zr = zr * (1 - zr)
    prev_minus_cand = h_prev - cand
    # d h / d hh = 1 - z and d hh / d a_h = 1 - hh^2, for every step at once
    d_cand = (1 - update) * (1 - cand * cand)
    dpre = np.empty((t, b, 3 * u), work)  # gradients of the input pre-activations
    if reset_after:
        rt = np.ascontiguousarray(recurrent_kernel.T)
        d_rec = np.empty((t, b, 3 * u), work)  # of the recurrent pre-activations (with bias)
        blocks = _row_blocks(b, u, 3 * u)
    else:
        rt_zr = np.ascontiguousarray(recurrent_kernel[:, :u2].T)
        rt_h = np.ascontiguousarray(recurrent_kernel[:, u2:].T)
        blocks = _row_blocks(b, u, u2)
        blocks_h = _row_blocks(b, u, u)
    dh = np.array(dh_t, copy=True)
    masked = None if drop is None else _MaskedBackprop(drop, work, zero_output_for_mask, u, b)
    for step in range(t - 1, -1, -1):
        if masked is None:
            if has_dy:
                dh += dy[step]
            dht = dh
        else:
            dht, _ = masked.enter(step, dy[step], dh)
        gate = dpre[step]
        np.multiply(dht, prev_minus_cand[step], out=gate[:, :u])  # d z
        da_h = gate[:, u2:]
        np.multiply(dht, d_cand[step], out=da_h)
        dh_cell = dht * update[step]
        if reset_after:
            np.multiply(da_h, saved[step], out=gate[:, u:u2])  # d r
            gate[:, :u2] *= d_zr[step]
            rec = d_rec[step]
            rec[:, :u2] = gate[:, :u2]
            np.multiply(da_h, reset[step], out=rec[:, u2:])
            dh_cell += _step_matmul(rec, rt, np.empty((b, u), work), blocks)
        else:
            d_rh = _step_matmul(da_h, rt_h, np.empty((b, u), work), blocks_h)
            np.multiply(d_rh, h_prev[step], out=gate[:, u:u2])  # d r
            gate[:, :u2] *= d_zr[step]
            d_rh *= reset[step]
            dh_cell += d_rh
            dh_cell += _step_matmul(gate[:, :u2], rt_zr, np.empty((b, u), work), blocks)
        if masked is None:
            dh = dh_cell
        else:
            dh = masked.leave(step, dh_cell, dh)
            masked.done(step)
    dx, d_kernel = _finish(xs, dpre, kernel, go_backwards, need_dx)
    flat = dpre.reshape(t * b, 3 * u)
    prev = _previous_states(hs)
    if reset_after:
        rec_flat = d_rec.reshape(t * b, 3 * u)
        d_recurrent = np.matmul(prev.T, rec_flat)
        d_bias = np.stack([_column_sum(flat), _column_sum(rec_flat)])
    else:
        d_recurrent = np.concatenate(
            [np.matmul(prev.T, flat[:, :u2]),
             np.matmul(saved.reshape(t * b, u).T, flat[:, u2:])], axis=1)
        d_bias = _column_sum(flat)
    outs = (dx, dh, d_kernel, d_recurrent, d_bias)
    return _cast_all(outs, dtype) if work != dtype else outs


def _gru_backward_abstract(kernel, recurrent_kernel, *rest, go_backwards,
                           zero_output_for_mask, reset_after, has_mask, need_dx):
    xs, dh_t = rest[-7], rest[-1]
    dt = xs.dtype
    _, u3 = _dims(kernel, 2)
    bias_shape = [2, u3] if reset_after else [u3]
    return (_input_spec_of(xs), TensorSpec(dh_t.shape, dt), TensorSpec(kernel.shape, dt),
            TensorSpec(recurrent_kernel.shape, dt), TensorSpec(bias_shape, dt))


GRU_SEQUENCE_GRAD = primitive("GRUSequenceGrad", _gru_backward, _no_second_derivative,
                              _gru_backward_abstract, multi_output=True)


def _gru_grad(op, dys):
    dy, dh_t = dys[0], dys[1]
    kernel, recurrent_kernel = op.inputs[2], op.inputs[3]
    mask = tuple(op.inputs[5:])
    attrs = dict(op.attrs, has_mask=bool(mask), need_dx=op.needs_gradient(0))
    dx, dh0, dk, dr, db = execute(
        GRU_SEQUENCE_GRAD, (kernel, recurrent_kernel) + mask + tuple(op.outputs[2:]) +
        (dy, dh_t), attrs)
    return (dx if op.needs_gradient(0) else None, dh0, dk, dr, db) + (None,) * len(mask)


GRU_SEQUENCE = primitive("GRUSequence", _gru_forward, _gru_grad, _gru_abstract,
                         multi_output=True)


# -- simple RNN ------------------------------------------------------------------------------------
# residuals (time-major, step order): the inputs (T, B, D), the h states (T + 1, B, U) and each
# step's candidate tanh(...) (T, B, U) (the same as the states without a mask).
def _simple_forward(x, h0, kernel, recurrent_kernel, bias, *mask, go_backwards,
                    zero_output_for_mask):
    dtype = x.dtype
    work = _work_dtype(dtype)
    x, h0, kernel, recurrent_kernel, bias = _cast_all((x, h0, kernel, recurrent_kernel, bias),
                                                      work)
    b, t, _ = x.shape
    u = recurrent_kernel.shape[0]
    xs, drop = _steps(x, mask[0] if mask else None, go_backwards)
    xp = _project(xs, kernel, bias)
    blocks = _row_blocks(b, u, u)
    hs = np.empty((t + 1, b, u), work)
    hs[0] = h0
    if drop is None:
        y = cand = hs[1:]
    else:
        y = np.empty((t, b, u), work)
        cand = np.empty((t, b, u), work)
    a = np.empty((b, u), work)
    for step in range(t):
        _step_matmul(hs[step], recurrent_kernel, a, blocks)
        a += xp[step]
        if drop is None:
            np.tanh(a, out=hs[step + 1])
        else:
            np.tanh(a, out=cand[step])
            y[step] = cand[step]
            hs[step + 1] = cand[step]
            _mask_forward(step, drop, (hs,), (y, zero_output_for_mask))
    outs = (_batch_major(y), hs[t], xs, hs, cand)
    return _cast_all(outs, dtype) if work != dtype else outs


def _simple_abstract(x, h0, kernel, recurrent_kernel, bias, *mask, go_backwards,
                     zero_output_for_mask):
    b, t, u = _sequence_specs(x, h0, recurrent_kernel)
    d = _dims(x, 3)[2]
    dt = x.dtype
    return (TensorSpec([b, t, u], dt), TensorSpec([b, u], dt), TensorSpec([t, b, d], dt),
            TensorSpec([_plus_one(t), b, u], dt), TensorSpec([t, b, u], dt))


def _simple_backward(kernel, recurrent_kernel, *rest, go_backwards, zero_output_for_mask,
                     has_mask, need_dx):
    if has_mask:
        mask, xs, hs, cand, dy, dh_t = rest
    else:
        mask = None
        xs, hs, cand, dy, dh_t = rest
    dtype = xs.dtype
    work = _work_dtype(dtype)
    kernel, recurrent_kernel, xs, hs, cand, dy, dh_t = _cast_all(
        (kernel, recurrent_kernel, xs, hs, cand, dy, dh_t), work)
    t, b, _ = xs.shape
    u = recurrent_kernel.shape[0]
    drop = _steps(xs[:0].transpose(1, 0, 2), mask, go_backwards)[1]
    dy = dy.transpose(1, 0, 2)
    has_dy = bool(dy.any())  # without return_sequences the outputs' gradient is all zeros
    dtanh = 1 - cand * cand
    dpre = np.empty((t, b, u), work)
    rt = np.ascontiguousarray(recurrent_kernel.T)
    blocks = _row_blocks(b, u, u)
    dh = np.array(dh_t, copy=True)
    masked = None if drop is None else _MaskedBackprop(drop, work, zero_output_for_mask, u, b)
    for step in range(t - 1, -1, -1):
        if masked is None:
            if has_dy:
                dh += dy[step]
            dht = dh
        else:
            dht, _ = masked.enter(step, dy[step], dh)
        da = dpre[step]
        np.multiply(dht, dtanh[step], out=da)
        dh_cell = _step_matmul(da, rt, np.empty((b, u), work), blocks)
        if masked is None:
            dh = dh_cell
        else:
            dh = masked.leave(step, dh_cell, dh)
            masked.done(step)
    dx, d_kernel = _finish(xs, dpre, kernel, go_backwards, need_dx)
    flat = dpre.reshape(t * b, u)
    d_recurrent = np.matmul(_previous_states(hs).T, flat)
    d_bias = _column_sum(flat)
    outs = (dx, dh, d_kernel, d_recurrent, d_bias)
    return _cast_all(outs, dtype) if work != dtype else outs


def _simple_backward_abstract(kernel, recurrent_kernel, *rest, go_backwards,
                              zero_output_for_mask, has_mask, need_dx):
    xs, dh_t = rest[-5], rest[-1]
    dt = xs.dtype
    _, u = _dims(kernel, 2)
    return (_input_spec_of(xs), TensorSpec(dh_t.shape, dt), TensorSpec(kernel.shape, dt),
            TensorSpec(recurrent_kernel.shape, dt), TensorSpec([u], dt))


SIMPLE_RNN_SEQUENCE_GRAD = primitive("SimpleRNNSequenceGrad", _simple_backward,
                                     _no_second_derivative, _simple_backward_abstract,
                                     multi_output=True)


def _simple_grad(op, dys):
    dy, dh_t = dys[0], dys[1]
    kernel, recurrent_kernel = op.inputs[2], op.inputs[3]
    mask = tuple(op.inputs[5:])
    attrs = dict(op.attrs, has_mask=bool(mask), need_dx=op.needs_gradient(0))
    dx, dh0, dk, dr, db = execute(
        SIMPLE_RNN_SEQUENCE_GRAD, (kernel, recurrent_kernel) + mask + tuple(op.outputs[2:]) +
        (dy, dh_t), attrs)
    return (dx if op.needs_gradient(0) else None, dh0, dk, dr, db) + (None,) * len(mask)


SIMPLE_RNN_SEQUENCE = primitive("SimpleRNNSequence", _simple_forward, _simple_grad,
                                _simple_abstract, multi_output=True)


# -- public functions ------------------------------------------------------------------------------
def _check(op_name: str, x, named: dict):
    """Converts the float arguments to one dtype and checks their ranks."""
    x = convert_to_tensor(x)
    if x.dtype not in _FLOATS:
        raise op_error(InvalidArgumentError, op_name,
                       f"inputs must be a floating tensor, got {x.dtype.name}")
    if x.shape.rank is not None and x.shape.rank != 3:
        raise op_error(InvalidArgumentError, op_name,
                       f"inputs must be of rank 3 (batch, time, features), got shape {x.shape}")
    out = [x]
    for name, (value, rank) in named.items():
        t = convert_to_tensor(value, dtype=x.dtype)
        if t.dtype != x.dtype:
            raise op_error(InvalidArgumentError, op_name,
                           f"{name} must have the dtype of the inputs ({x.dtype.name}), got "
                           f"{t.dtype.name}")
        if t.shape.rank is not None and t.shape.rank != rank:
            raise op_error(InvalidArgumentError, op_name,
                           f"{name} must be of rank {rank}, got shape {t.shape}")
        out.append(t)
    return out


def _mask_input(mask):
    if mask is None:
        return ()
    from tensorweave.ops import math_ops
    mask = convert_to_tensor(mask)
    if mask.dtype != dtypes.bool:
        mask = math_ops.cast(mask, dtypes.bool)
    return (mask,)


def _zero_bias(like, shape):
    from tensorweave.ops import array_ops
    return array_ops.zeros(shape, dtype=like.dtype)


def lstm_sequence(inputs, initial_h, initial_c, kernel, recurrent_kernel, bias=None, mask=None,
                  go_backwards=False, zero_output_for_mask=False):
    """A whole LSTM sequence (Keras's LSTM with tanh / sigmoid): returns (outputs of every step
    (batch, time, units), final h, final c). `bias` None means no bias."""
    units = recurrent_kernel.shape[0]
    if bias is None:
        bias = _zero_bias(convert_to_tensor(inputs), [4 * units])
    x, h0, c0, k, r, b = _check("LSTMSequence", inputs, {
        "initial_h": (initial_h, 2), "initial_c": (initial_c, 2), "kernel": (kernel, 2),
        "recurrent_kernel": (recurrent_kernel, 2), "bias": (bias, 1)})
    outs = execute(LSTM_SEQUENCE, (x, h0, c0, k, r, b) + _mask_input(mask),
                   {"go_backwards": bool(go_backwards),
                    "zero_output_for_mask": bool(zero_output_for_mask)})
    return outs[0], outs[1], outs[2]


def gru_sequence(inputs, initial_h, kernel, recurrent_kernel, bias=None, mask=None,
                 go_backwards=False, zero_output_for_mask=False, reset_after=True):
    """A whole GRU sequence (Keras's GRU with tanh / sigmoid): returns (outputs, final h).
    `bias` is (2, 3*units) with `reset_after`, else (3*units,); None means no bias."""
    units = recurrent_kernel.shape[0]
    bias_shape = [2, 3 * units] if reset_after else [3 * units]
    if bias is None:
        bias = _zero_bias(convert_to_tensor(inputs), bias_shape)
    x, h0, k, r, b = _check("GRUSequence", inputs, {
        "initial_h": (initial_h, 2), "kernel": (kernel, 2),
        "recurrent_kernel": (recurrent_kernel, 2), "bias": (bias, len(bias_shape))})
    outs = execute(GRU_SEQUENCE, (x, h0, k, r, b) + _mask_input(mask),
                   {"go_backwards": bool(go_backwards),
                    "zero_output_for_mask": bool(zero_output_for_mask),
                    "reset_after": bool(reset_after)})
    return outs[0], outs[1]


def simple_rnn_sequence(inputs, initial_h, kernel, recurrent_kernel, bias=None, mask=None,
                        go_backwards=False, zero_output_for_mask=False):
    """A whole simple-RNN sequence with tanh: returns (outputs, final h)."""
    units = recurrent_kernel.shape[0]
    if bias is None:
        bias = _zero_bias(convert_to_tensor(inputs), [units])
    x, h0, k, r, b = _check("SimpleRNNSequence", inputs, {
        "initial_h": (initial_h, 2), "kernel": (kernel, 2),
        "recurrent_kernel": (recurrent_kernel, 2), "bias": (bias, 1)})
    outs = execute(SIMPLE_RNN_SEQUENCE, (x, h0, k, r, b) + _mask_input(mask),
                   {"go_backwards": bool(go_backwards),
                    "zero_output_for_mask": bool(zero_output_for_mask)})
    return outs[0], outs[1]
