"""The fused recurrent kernels (tensorweave.ops.rnn_ops): outputs against a NumPy step-by-step
recurrence, gradients against central finite differences, abstract evaluation against the real
outputs, masks / go_backwards / zero outputs, float32 kept, graph mode, errors."""
import numpy as np
import pytest

import tensorweave as tf
from tensorweave.ops import rnn_ops
from tests.harness import check_abstract, check_grad

RNG = np.random.default_rng(7)
B, T, D, U = 3, 5, 4, 2
MASK = np.array([[False, False, True, False, True],   # masked first steps, then a gap
                 [True, True, True, True, True],
                 [True, False, False, True, False]])


# -- NumPy references: Keras's recurrence written step by step -----------------------------------
def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def reference(cell, x, states, mask=None, go_backwards=False, zero_output=False):
    """(outputs in step order, final states) of Keras's loop over time with `cell`."""
    steps = range(x.shape[1] - 1, -1, -1) if go_backwards else range(x.shape[1])
    states = [s.copy() for s in states]
    prev = np.zeros_like(states[0])
    outputs = []
    for t in steps:
        out, new = cell(x[:, t], states)
        if mask is not None:
            keep = mask[:, t][:, None]
            new = [np.where(keep, n, s) for n, s in zip(new, states)]
            out = np.where(keep, out, 0 if zero_output else prev)
        states, prev = new, out
        outputs.append(out)
    return np.stack(outputs, 1), states


def lstm_cell(w, r, b):
    u = r.shape[0]

    def cell(x, states):
        h, c = states
        z = x @ w + h @ r + b
        i, f = _sigmoid(z[:, :u]), _sigmoid(z[:, u:2 * u])
        g, o = np.tanh(z[:, 2 * u:3 * u]), _sigmoid(z[:, 3 * u:])
        c = f * c + i * g
        h = o * np.tanh(c)
        return h, [h, c]
    return cell


def gru_cell(w, r, b, reset_after):
    u = r.shape[0]

    def cell(x, states):
        (h,) = states
        if reset_after:
            mx, mh = x @ w + b[0], h @ r + b[1]
            z = _sigmoid(mx[:, :u] + mh[:, :u])
            rr = _sigmoid(mx[:, u:2 * u] + mh[:, u:2 * u])
            hh = np.tanh(mx[:, 2 * u:] + rr * mh[:, 2 * u:])
        else:
            mx, mh = x @ w + b, h @ r[:, :2 * u]
            z = _sigmoid(mx[:, :u] + mh[:, :u])
            rr = _sigmoid(mx[:, u:2 * u] + mh[:, u:2 * u])
            hh = np.tanh(mx[:, 2 * u:] + (rr * h) @ r[:, 2 * u:])
        h = z * h + (1 - z) * hh
        return h, [h]
    return cell


def simple_cell(w, r, b):
    def cell(x, states):
        h = np.tanh(x @ w + states[0] @ r + b)
        return h, [h]
    return cell


def _arrays(gates, bias_shape=None):
    x = RNG.standard_normal((B, T, D))
    h0, c0 = RNG.standard_normal((B, U)), RNG.standard_normal((B, U))
    w = RNG.standard_normal((D, gates * U))
    r = RNG.standard_normal((U, gates * U)) * 0.7
    b = RNG.standard_normal(bias_shape or (gates * U,))
    return x, h0, c0, w, r, b


OPTIONS = [(mask, backwards, zero) for mask in (None, MASK) for backwards in (False, True)
           for zero in (False, True) if mask is not None or not zero]


def _name(option):
    mask, backwards, zero = option
    return f"{'mask' if mask is not None else 'nomask'}-{'back' if backwards else 'fwd'}" \
        f"{'-zero' if zero else ''}"


# -- forward values --------------------------------------------------------------------------------
@pytest.mark.parametrize("option", OPTIONS, ids=_name)
def test_lstm_matches_numpy_recurrence(option):
    mask, backwards, zero = option
    x, h0, c0, w, r, b = _arrays(4)
    y, h, c = rnn_ops.lstm_sequence(x, h0, c0, w, r, b, mask=mask, go_backwards=backwards,
                                    zero_output_for_mask=zero)
    ry, (rh, rc) = reference(lstm_cell(w, r, b), x, [h0, c0], mask, backwards, zero)
    np.testing.assert_allclose(y.numpy(), ry, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(h.numpy(), rh, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(c.numpy(), rc, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("reset_after", [True, False])
@pytest.mark.parametrize("option", OPTIONS, ids=_name)
def test_gru_matches_numpy_recurrence(option, reset_after):
    mask, backwards, zero = option
    x, h0, _, w, r, b = _arrays(3, (2, 3 * U) if reset_after else None)
    y, h = rnn_ops.gru_sequence(x, h0, w, r, b, mask=mask, go_backwards=backwards,
                                zero_output_for_mask=zero, reset_after=reset_after)
    ry, (rh,) = reference(gru_cell(w, r, b, reset_after), x, [h0], mask, backwards, zero)
    np.testing.assert_allclose(y.numpy(), ry, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(h.numpy(), rh, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("option", OPTIONS, ids=_name)
def test_simple_rnn_matches_numpy_recurrence(option):
    mask, backwards, zero = option
    x, h0, _, w, r, b = _arrays(1)
    y, h = rnn_ops.simple_rnn_sequence(x, h0, w, r, b, mask=mask, go_backwards=backwards,
                                       zero_output_for_mask=zero)
    ry, (rh,) = reference(simple_cell(w, r, b), x, [h0], mask, backwards, zero)
    np.testing.assert_allclose(y.numpy(), ry, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(h.numpy(), rh, rtol=1e-12, atol=1e-12)


def test_no_bias_means_zero_bias():
    x, h0, c0, w, r, _ = _arrays(4)
    y, h, c = rnn_ops.lstm_sequence(x, h0, c0, w, r)
    ry, _ = reference(lstm_cell(w, r, np.zeros(4 * U)), x, [h0, c0])
    np.testing.assert_allclose(y.numpy(), ry, rtol=1e-12)
    x, h0, _, w, r, _ = _arrays(3)
    y, _ = rnn_ops.gru_sequence(x, h0, w, r, reset_after=True)
    ry, _ = reference(gru_cell(w, r, np.zeros((2, 3 * U)), True), x, [h0])
    np.testing.assert_allclose(y.numpy(), ry, rtol=1e-12)


def test_float32_stays_float32_and_saturated_gates_stay_finite():
    x, h0, c0, w, r, b = (a.astype(np.float32) for a in _arrays(4))
    y, h, c = rnn_ops.lstm_sequence(x * 1e4, h0, c0, w, r, b)  # sigmoid(+-1e4): no overflow
    assert y.dtype == tf.float32 and h.dtype == tf.float32 and c.dtype == tf.float32
    assert np.isfinite(y.numpy()).all()
    ry, _ = reference(lstm_cell(w.astype(np.float64), r.astype(np.float64), b.astype(np.float64)),
                      x.astype(np.float64), [h0.astype(np.float64), c0.astype(np.float64)])
    y, _, _ = rnn_ops.lstm_sequence(x, h0, c0, w, r, b)
    np.testing.assert_allclose(y.numpy(), ry, rtol=1e-5, atol=1e-6)


def test_float16_inputs_run_in_float32_and_come_back_float16():
    x, h0, _, w, r, b = (a.astype(np.float16) for a in _arrays(1))
    y, h = rnn_ops.simple_rnn_sequence(x, h0, w, r, b)
    assert y.dtype == tf.float16
    ry, _ = reference(simple_cell(*(a.astype(np.float32) for a in (w, r, b))),
                      x.astype(np.float32), [h0.astype(np.float32)])
    np.testing.assert_allclose(y.numpy().astype(np.float32), ry, rtol=2e-3, atol=2e-3)


# -- gradients (finite differences in float64) ---------------------------------------------------
def _flat(*tensors):
    return tf.concat([tf.reshape(t, [-1]) for t in tensors], 0)


@pytest.mark.parametrize("option", OPTIONS, ids=_name)
def test_lstm_gradients(option):
    mask, backwards, zero = option
    x, h0, c0, w, r, b = _arrays(4)
    check_grad(lambda *a: _flat(*rnn_ops.lstm_sequence(
        *a, mask=mask, go_backwards=backwards, zero_output_for_mask=zero)), x, h0, c0, w, r, b)


@pytest.mark.parametrize("reset_after", [True, False])
@pytest.mark.parametrize("option", OPTIONS, ids=_name)
def test_gru_gradients(option, reset_after):
    mask, backwards, zero = option
    x, h0, _, w, r, b = _arrays(3, (2, 3 * U) if reset_after else None)
    check_grad(lambda *a: _flat(*rnn_ops.gru_sequence(
        *a, mask=mask, go_backwards=backwards, zero_output_for_mask=zero,
        reset_after=reset_after)), x, h0, w, r, b)


@pytest.mark.parametrize("option", OPTIONS, ids=_name)
def test_simple_rnn_gradients(option):
    mask, backwards, zero = option
    x, h0, _, w, r, b = _arrays(1)
    check_grad(lambda *a: _flat(*rnn_ops.simple_rnn_sequence(
        *a, mask=mask, go_backwards=backwards, zero_output_for_mask=zero)), x, h0, w, r, b)


def test_gradient_of_last_state_only_and_unwatched_inputs():
    arrays = _arrays(4)
    x, h0, c0, _, r, b = (tf.constant(a) for a in arrays)
    w = arrays[3]
    kernel = tf.Variable(w)
    with tf.GradientTape() as tape:  # x is not watched: no input gradient is computed
        _, h, _ = rnn_ops.lstm_sequence(x, h0, c0, kernel, r, b)
        loss = tf.reduce_sum(h * h)
    (dk,) = tape.gradient(loss, [kernel])

    def loss_of(k):
        _, h, _ = rnn_ops.lstm_sequence(x, h0, c0, k, r, b)
        return float(tf.reduce_sum(h * h))
    eps, numeric = 1e-6, np.zeros_like(w)
    for idx in np.ndindex(w.shape):
        plus, minus = w.copy(), w.copy()
        plus[idx] += eps
        minus[idx] -= eps
        numeric[idx] = (loss_of(plus) - loss_of(minus)) / (2 * eps)
    np.testing.assert_allclose(dk.numpy(), numeric, rtol=1e-5, atol=1e-7)


# -- abstract evaluation and graphs --------------------------------------------------------------
def test_abstract_evaluation_of_forward_and_gradient_kernels():
    def run(x, h0, c0, w, r, b):
        with tf.GradientTape() as tape:
            tape.watch([x, h0, c0, w, r, b])
            outs = rnn_ops.lstm_sequence(x, h0, c0, w, r, b, mask=MASK)
            loss = tf.reduce_sum(_flat(*outs))
        return tape.gradient(loss, [x, h0, c0, w, r, b])
    check_abstract(run, *(tf.constant(a) for a in _arrays(4)))

    def run_gru(x, h0, w, r, b):
        with tf.GradientTape() as tape:
            tape.watch([x, h0, w, r, b])
            loss = tf.reduce_sum(_flat(*rnn_ops.gru_sequence(x, h0, w, r, b, go_backwards=True)))
        return tape.gradient(loss, [x, h0, w, r, b])
    x, h0, _, w, r, b = _arrays(3, (2, 3 * U))
    check_abstract(run_gru, *(tf.constant(a) for a in (x, h0, w, r, b)))

    def run_simple(x, h0, w, r, b):
        with tf.GradientTape() as tape:
            tape.watch([x, h0, w, r, b])
            loss = tf.reduce_sum(_flat(*rnn_ops.simple_rnn_sequence(x, h0, w, r, b, mask=MASK)))
        return tape.gradient(loss, [x, h0, w, r, b])
    x, h0, _, w, r, b = _arrays(1)
    check_abstract(run_simple, *(tf.constant(a) for a in (x, h0, w, r, b)))


def test_in_a_tf_function_with_unknown_batch_and_time():
    x, h0, c0, w, r, b = (a.astype(np.float32) for a in _arrays(4))

    @tf.function(input_signature=[tf.TensorSpec([None, None, D], tf.float32),
                                  tf.TensorSpec([None, U], tf.float32)])
    def grads(x, h0):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y, h, _ = rnn_ops.lstm_sequence(x, h0, tf.zeros_like(h0), w, r, b)
            loss = tf.reduce_sum(y) + tf.reduce_sum(h)
        return y, tape.gradient(loss, x)

    y, dx = grads(x, h0)
    expected_y, _, _ = rnn_ops.lstm_sequence(x, h0, np.zeros_like(h0), w, r, b)
    np.testing.assert_allclose(y.numpy(), expected_y.numpy(), rtol=1e-6)
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        ey, eh, _ = rnn_ops.lstm_sequence(xt, h0, np.zeros_like(h0), w, r, b)
        loss = tf.reduce_sum(ey) + tf.reduce_sum(eh)
    np.testing.assert_allclose(dx.numpy(), tape.gradient(loss, xt).numpy(), rtol=1e-5, atol=1e-7)


def test_errors():
    x, h0, c0, w, r, b = (a.astype(np.float32) for a in _arrays(4))
    with pytest.raises(tf.errors.InvalidArgumentError, match="rank 3"):
        rnn_ops.lstm_sequence(x[0], h0, c0, w, r, b)
    with pytest.raises(tf.errors.InvalidArgumentError, match="floating"):
        rnn_ops.simple_rnn_sequence(np.ones((2, 3, 4), np.int32), h0, w[:, :U], r[:, :U],
                                    b[:U])
    with pytest.raises(tf.errors.InvalidArgumentError, match="kernel"):
        rnn_ops.lstm_sequence(x, h0, c0, w[0], r, b)
