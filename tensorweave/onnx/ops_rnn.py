"""Translators of the fused recurrent kernels (tensorweave/ops/rnn_ops.py) to ONNX LSTM, GRU, RNN.

Keras lays the gates out as column blocks of the kernels: LSTM (i, f, c, o), GRU (z, r, h).
ONNX wants LSTM (i, o, f, c) and GRU (z, r, h), each weight as (gates * units, inputs), one
direction per leading axis, and the input time-major. Keras's GRU with `reset_after` (the
default) applies the reset gate after the recurrent product: ONNX's `linear_before_reset=1`.
`go_backwards` returns the steps in processing order (last input first): ONNX's reverse direction
keeps the input order, so its outputs are reversed along time. Masks have no ONNX equivalent
(Keras carries the state over a masked step anywhere in the sequence) and are refused.
"""
from __future__ import annotations

import numpy as np

from tensorweave.onnx.builder import INT64_MIN
from tensorweave.onnx.registry import Unsupported, dims, np_dtype, translates

_LSTM_ORDER = (0, 3, 1, 2)  # ONNX's (i, o, f, c) as Keras block numbers of (i, f, c, o)


def _gates(b, w: str, units: int, order, n: int) -> str:
    """A Keras weight (rows, n * units) with its column blocks in `order`, transposed for ONNX
    to (n * units, rows) and given a leading direction axis."""
    known = b.value(w)
    if known is not None:
        blocks = [known[..., k * units:(k + 1) * units] for k in order]
        out = np.concatenate(blocks, axis=-1)
        out = out.T if out.ndim == 2 else out
        return b.const(out[None], hint="rnn_weight")
    if list(order) == list(range(n)):
        ordered = w
    else:
        parts = b.add("Split", [w, b.i64([units] * n)], outputs=n, axis=-1)
        ordered = b.concat([parts[k] for k in order], -1)
    return b.unsqueeze(b.transpose(ordered, [1, 0]), [0])


def _check(node, has_mask: bool):
    if has_mask:
        raise Unsupported("a masked recurrent layer (ONNX's recurrent ops have no masks; "
                          "export the model without Masking / mask_zero)")


def _time_major(b, x: str) -> str:
    return b.transpose(x, [1, 0, 2])


def _outputs(b, node, y: str, y_h: str) -> tuple:
    """Keras's (batch, time, units) sequence from ONNX's Y (time, 1, batch, units)."""
    y = b.squeeze(y, [1])
    if node.attrs["go_backwards"]:
        y = b.slice(y, [-1], [INT64_MIN], [0], [-1])
    return b.transpose(y, [1, 0, 2]), b.squeeze(y_h, [0])


def _units(node) -> int:
    units = dims(node.inputs[3 if node.type == "LSTMSequence" else 2])[1]
    n = 4 if node.type == "LSTMSequence" else (3 if node.type == "GRUSequence" else 1)
    if units is None:
        raise Unsupported("a recurrent kernel of unknown size")
    return units // n


def _direction(node) -> str:
    return "reverse" if node.attrs["go_backwards"] else "forward"


@translates("LSTMSequence")
def _lstm(b, node, ins):
    _check(node, len(ins) > 6)
    x, h0, c0, kernel, recurrent, bias = ins[:6]
    u = _units(node)
    w = _gates(b, kernel, u, _LSTM_ORDER, 4)
    r = _gates(b, recurrent, u, _LSTM_ORDER, 4)
    wb = _gates(b, b.unsqueeze(bias, [0]), u, _LSTM_ORDER, 4)  # (1, 4u, 1)
    wb = b.reshape(wb, [1, 4 * u])
    bias8 = b.concat([wb, b.const(np.zeros((1, 4 * u), np_dtype(node.inputs[0])))], 1)
    y, y_h, y_c = b.add("LSTM", [_time_major(b, x), w, r, bias8, "", b.unsqueeze(h0, [0]),
                                 b.unsqueeze(c0, [0])], outputs=3, hidden_size=u,
                        direction=_direction(node))
    seq, h = _outputs(b, node, y, y_h)
    return [seq, h, b.squeeze(y_c, [0])] + [None] * 5


@translates("GRUSequence")
def _gru(b, node, ins):
    _check(node, len(ins) > 5)
    x, h0, kernel, recurrent, bias = ins[:5]
    u = _units(node)
    order = (0, 1, 2)
    w = _gates(b, kernel, u, order, 3)
    r = _gates(b, recurrent, u, order, 3)
    dt = np_dtype(node.inputs[0])
    reset_after = bool(node.attrs["reset_after"])
    if reset_after:  # bias (2, 3u): input bias, recurrent bias
        bias6 = b.reshape(bias, [1, 6 * u])
    else:
        bias6 = b.concat([b.reshape(bias, [1, 3 * u]), b.const(np.zeros((1, 3 * u), dt))], 1)
    y, y_h = b.add("GRU", [_time_major(b, x), w, r, bias6, "", b.unsqueeze(h0, [0])],
                   outputs=2, hidden_size=u, direction=_direction(node),
                   linear_before_reset=1 if reset_after else 0)
    seq, h = _outputs(b, node, y, y_h)
    return [seq, h] + [None] * 5


@translates("SimpleRNNSequence")
def _simple_rnn(b, node, ins):
    _check(node, len(ins) > 5)
    x, h0, kernel, recurrent, bias = ins[:5]
    u = _units(node)
    w = _gates(b, kernel, u, (0,), 1)
    r = _gates(b, recurrent, u, (0,), 1)
    dt = np_dtype(node.inputs[0])
    bias2 = b.concat([b.reshape(bias, [1, u]), b.const(np.zeros((1, u), dt))], 1)
    y, y_h = b.add("RNN", [_time_major(b, x), w, r, bias2, "", b.unsqueeze(h0, [0])],
                   outputs=2, hidden_size=u, direction=_direction(node),
                   activations=["Tanh"])
    seq, h = _outputs(b, node, y, y_h)
    return [seq, h] + [None] * 3
