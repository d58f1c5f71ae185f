"""keras.optimizers: each algorithm against a plain NumPy re-implementation of its published
update (a loop over the steps with explicit bias corrections, in float64), eagerly and inside
tf.function; the options of the base (clipping, weight decay, moving averages, accumulation,
loss scaling, constraints, schedules); slots, configs, lookups and errors."""
import json
import warnings

import numpy as np
import pytest

import tensorweave as tf
from tensorweave import keras

RNG = np.random.default_rng(3)
SHAPES = [(3, 4), (4,), (), (2, 3)]
DTYPES = [np.float32, np.float32, np.float32, np.float64]
INITIAL = [RNG.normal(size=s).astype(d) for s, d in zip(SHAPES, DTYPES)]
STEPS = 4
# Gradients per step; the second variable has none at step 1 (its slots then stay as they are).
GRADS = [[None if (t == 1 and i == 1) else RNG.normal(size=s).astype(d)
          for i, (s, d) in enumerate(zip(SHAPES, DTYPES))] for t in range(STEPS)]


# -- the published updates, one step of one variable, in float64 ---------------------------------
# Each takes (w, g, state dict, t = the 1-based global step) and returns the new w.
def sgd_ref(lr, momentum=0.0, nesterov=False):
    def step(w, g, s, t):
        if momentum == 0:
            return w - lr * g
        s["v"] = momentum * s.get("v", 0.0) - lr * g
        return w + momentum * s["v"] - lr * g if nesterov else w + s["v"]
    return step


def adam_ref(lr, b1=0.9, b2=0.999, eps=1e-7, amsgrad=False, weight_decay=None):
    def step(w, g, s, t):
        if weight_decay is not None:
            w = w - lr * weight_decay * w
        s["m"] = b1 * s.get("m", 0.0) + (1 - b1) * g
        s["v"] = b2 * s.get("v", 0.0) + (1 - b2) * g * g
        v = s["v"]
        if amsgrad:
            s["vmax"] = v = np.maximum(s.get("vmax", 0.0), v)
        m_hat = s["m"] / (1 - b1 ** t)
        v_hat = v / (1 - b2 ** t)
        # Keras's epsilon is Kingma & Ba's "epsilon hat": it is added to sqrt(v), not sqrt(v_hat)
        return w - lr * m_hat / (np.sqrt(v_hat) + eps / np.sqrt(1 - b2 ** t))
    return step


def adamax_ref(lr, b1=0.9, b2=0.999, eps=1e-7):
    def step(w, g, s, t):
        s["m"] = b1 * s.get("m", 0.0) + (1 - b1) * g
        s["u"] = np.maximum(b2 * s.get("u", 0.0), np.abs(g))
        return w - lr / (1 - b1 ** t) * s["m"] / (s["u"] + eps)
    return step


def nadam_ref(lr, b1=0.9, b2=0.999, eps=1e-7):
    def mu(t):
        return b1 * (1 - 0.5 * 0.96 ** t)

    def step(w, g, s, t):
        product = np.prod([mu(i) for i in range(1, t + 1)])
        s["m"] = b1 * s.get("m", 0.0) + (1 - b1) * g
        s["v"] = b2 * s.get("v", 0.0) + (1 - b2) * g * g
        m_hat = mu(t + 1) * s["m"] / (1 - product * mu(t + 1)) + (1 - mu(t)) * g / (1 - product)
        v_hat = s["v"] / (1 - b2 ** t)
        return w - lr * m_hat / (np.sqrt(v_hat) + eps)
    return step


def rmsprop_ref(lr, rho=0.9, momentum=0.0, eps=1e-7, centered=False):
    def step(w, g, s, t):
        s["ms"] = rho * s.get("ms", 0.0) + (1 - rho) * g * g
        variance = s["ms"]
        if centered:
            s["mg"] = rho * s.get("mg", 0.0) + (1 - rho) * g
            variance = variance - s["mg"] ** 2
        change = lr * g / np.sqrt(variance + eps)
        if momentum > 0:
            s["mom"] = change = momentum * s.get("mom", 0.0) + change
        return w - change
    return step


def adagrad_ref(lr, initial=0.1, eps=1e-7):
    def step(w, g, s, t):
        s["acc"] = s.get("acc", initial) + g * g
        return w - lr * g / np.sqrt(s["acc"] + eps)
    return step


def adadelta_ref(lr, rho=0.95, eps=1e-7):
    def step(w, g, s, t):
        s["eg"] = rho * s.get("eg", 0.0) + (1 - rho) * g * g
        delta = -np.sqrt(s.get("ed", 0.0) + eps) / np.sqrt(s["eg"] + eps) * g
        s["ed"] = rho * s.get("ed", 0.0) + (1 - rho) * delta * delta
        return w + lr * delta
    return step


def ftrl_ref(lr, power=-0.5, initial=0.1, l1=0.0, l2=0.0, shrinkage=0.0, beta=0.0):
    p = -power

    def step(w, g, s, t):  # McMahan et al. (2013), Algorithm 1, with a general power
        n = s.get("n", initial)
        n_new = n + g * g
        sigma = (n_new ** p - n ** p) / lr
        s["z"] = s.get("z", 0.0) + (g + 2 * shrinkage * w) - sigma * w
        s["n"] = n_new
        z = s["z"]
        return np.where(np.abs(z) <= l1, 0.0,
                        (np.sign(z) * l1 - z) / ((beta + n_new ** p) / lr + 2 * l2))
    return step


def lion_ref(lr, b1=0.9, b2=0.99):
    def step(w, g, s, t):
        m = s.get("m", 0.0)
        s["m"] = b2 * m + (1 - b2) * g
        return w - lr * np.sign(b1 * m + (1 - b1) * g)
    return step


def lamb_ref(lr, b1=0.9, b2=0.999, eps=1e-7):
    def step(w, g, s, t):
        s["m"] = b1 * s.get("m", 0.0) + (1 - b1) * g
        s["v"] = b2 * s.get("v", 0.0) + (1 - b2) * g * g
        r = (s["m"] / (1 - b1 ** t)) / (np.sqrt(s["v"] / (1 - b2 ** t)) + eps)
        w_norm, r_norm = np.linalg.norm(w), np.linalg.norm(r)
        trust = w_norm / r_norm if w_norm > 0 and r_norm > 0 else 1.0
        return w - lr * trust * r
    return step


def adafactor_ref(lr, decay=-0.8, eps1=1e-30, eps2=1e-3, clip=1.0, relative=True):
    def rms(x):
        return np.sqrt(np.mean(np.square(x)))

    def step(w, g, s, t):  # Shazeer & Stern (2018), Algorithms 4 and 5
        rho = min(lr, 1 / np.sqrt(t))
        alpha = max(eps2, rms(w)) * rho
        beta2 = 1 - t ** decay
        G = g * g + eps1
        if np.ndim(w) >= 2:
            s["r"] = beta2 * s.get("r", 0.0) + (1 - beta2) * G.mean(axis=-1)
            s["c"] = beta2 * s.get("c", 0.0) + (1 - beta2) * G.mean(axis=-2)
            v = np.outer(s["r"] / s["r"].mean(), s["c"])
        else:
            s["v"] = v = beta2 * s.get("v", 0.0) + (1 - beta2) * G
        u = g / np.sqrt(v)
        return w - alpha * u / max(1.0, rms(u) / clip)
    return step


# name -> (making the optimizer, the reference step)
ALGORITHMS = {
    "sgd": (lambda: keras.optimizers.SGD(0.1), sgd_ref(0.1)),
    "sgd_momentum": (lambda: keras.optimizers.SGD(0.1, momentum=0.9), sgd_ref(0.1, 0.9)),
    "sgd_nesterov": (lambda: keras.optimizers.SGD(0.05, momentum=0.5, nesterov=True),
                     sgd_ref(0.05, 0.5, True)),
    "rmsprop": (lambda: keras.optimizers.RMSprop(0.01), rmsprop_ref(0.01)),
    "rmsprop_centered_momentum": (
        lambda: keras.optimizers.RMSprop(0.01, rho=0.8, momentum=0.5, centered=True),
        rmsprop_ref(0.01, rho=0.8, momentum=0.5, centered=True)),
    "adam": (lambda: keras.optimizers.Adam(0.01), adam_ref(0.01)),
    "adam_amsgrad": (lambda: keras.optimizers.Adam(0.02, beta_1=0.8, amsgrad=True),
                     adam_ref(0.02, b1=0.8, amsgrad=True)),
    "adamw": (lambda: keras.optimizers.AdamW(0.01, weight_decay=0.1),
              adam_ref(0.01, weight_decay=0.1)),
    "adamax": (lambda: keras.optimizers.Adamax(0.01), adamax_ref(0.01)),
    "nadam": (lambda: keras.optimizers.Nadam(0.01), nadam_ref(0.01)),
    "adagrad": (lambda: keras.optimizers.Adagrad(0.1), adagrad_ref(0.1)),
    "adadelta": (lambda: keras.optimizers.Adadelta(1.0), adadelta_ref(1.0)),
    "ftrl": (lambda: keras.optimizers.Ftrl(0.1), ftrl_ref(0.1)),
    "ftrl_regularized": (
        lambda: keras.optimizers.Ftrl(0.1, learning_rate_power=-0.7,
                                      l1_regularization_strength=0.01,
                                      l2_regularization_strength=0.02,
                                      l2_shrinkage_regularization_strength=0.03, beta=0.5),
        ftrl_ref(0.1, power=-0.7, l1=0.01, l2=0.02, shrinkage=0.03, beta=0.5)),
    "lion": (lambda: keras.optimizers.Lion(0.01), lion_ref(0.01)),
    "lamb": (lambda: keras.optimizers.Lamb(0.01), lamb_ref(0.01)),
    "adafactor": (lambda: keras.optimizers.Adafactor(0.1), adafactor_ref(0.1)),
}


def reference(step_fn, grads=GRADS, initial=INITIAL, transform=None):
    """The final weights after the steps, in float64 (`transform(grads, t)` edits a step's
    gradients first)."""
    weights = [w.astype(np.float64) for w in initial]
    states = [{} for _ in weights]
    for t, step_grads in enumerate(grads, start=1):
        step_grads = [None if g is None else g.astype(np.float64) for g in step_grads]
        if transform is not None:
            step_grads = transform(step_grads, t)
        for i, g in enumerate(step_grads):
            if g is not None:
                weights[i] = step_fn(weights[i], g, states[i], t)
    return weights


def _variables(initial=INITIAL):
    return [tf.Variable(w, name=f"w{i}") for i, w in enumerate(initial)]


def run_eager(optimizer, variables, grads=GRADS):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for step_grads in grads:
            optimizer.apply_gradients(
                [(None if g is None else tf.constant(g), v) for g, v in zip(step_grads, variables)])
    return variables


def run_graph(optimizer, variables, grads=GRADS):
    @tf.function
    def full(gs):
        optimizer.apply_gradients(zip(gs, variables))

    @tf.function
    def partial(gs, missing):
        optimizer.apply_gradients([(None if i == missing else gs[i], v)
                                   for i, v in enumerate(variables)])

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for step_grads in grads:
            missing = [i for i, g in enumerate(step_grads) if g is None]
            if missing:
                partial([np.zeros(1) if g is None else g for g in step_grads], missing[0])
            else:
                full(list(step_grads))
    return variables


def assert_weights(variables, expected, rtol=2e-6):
    for v, e in zip(variables, expected):
        np.testing.assert_allclose(v.numpy(), e, rtol=rtol, atol=1e-7)


@pytest.mark.parametrize("name", sorted(ALGORITHMS))
def test_algorithm_matches_published_update_eagerly_and_in_tf_function(name):
    make, step_fn = ALGORITHMS[name]
    expected = reference(step_fn)
    eager = run_eager(make(), _variables())
    assert_weights(eager, expected)
    assert [v.dtype for v in eager] == [tf.float32, tf.float32, tf.float32, tf.float64]
    graph = run_graph(make(), _variables())
    for a, b in zip(graph, eager):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", ["adam", "sgd_momentum", "ftrl", "adafactor"])
def test_slots_are_created_once_and_keep_the_variable_dtype(name):
    optimizer = ALGORITHMS[name][0]()
    variables = _variables()
    run_eager(optimizer, variables, GRADS[:1])
    count = len(optimizer.variables)
    run_eager(optimizer, variables, GRADS[1:])
    assert len(optimizer.variables) == count
    assert optimizer.iterations.numpy() == STEPS
    assert optimizer.iterations.dtype == tf.int64
    assert optimizer.variables[0] is optimizer.iterations
    for slot in optimizer.variables[2:]:
        assert slot.trainable is False
    if name in ("adam", "sgd_momentum", "ftrl"):  # slots follow their variable's dtype
        assert [v.dtype for v in optimizer.variables[2:]][-1] == tf.float64
        assert [v.dtype for v in optimizer.variables[2:]][0] == tf.float32


def test_slot_names_follow_the_variable_paths():
    layer = keras.layers.Dense(2, name="dense")
    layer.build((None, 3))
    optimizer = keras.optimizers.Adam(name="opt")
    optimizer.build(layer.trainable_variables)
    assert [v.path for v in optimizer.variables] == [
        "opt/iteration", "opt/learning_rate", "opt/dense_kernel_momentum",
        "opt/dense_kernel_velocity", "opt/dense_bias_momentum", "opt/dense_bias_velocity"]
    plain = tf.Variable([1.0], name="plain")
    optimizer = keras.optimizers.SGD(momentum=0.5)
    optimizer.build([plain])
    assert optimizer.variables[-1].name == "plain_0_momentum"


# -- options of the base -----------------------------------------------------------------------
def _clip_norm(c):
    return lambda gs, t: [None if g is None else g * min(1.0, c / np.linalg.norm(g)) for g in gs]


def _clip_global(c):
    def transform(gs, t):
        norm = np.sqrt(sum(np.sum(g * g) for g in gs if g is not None))
        return [None if g is None else g * c / max(norm, c) for g in gs]
    return transform


def test_clipnorm_clips_each_gradient():
    expected = reference(sgd_ref(0.1), transform=_clip_norm(0.5))
    assert_weights(run_eager(keras.optimizers.SGD(0.1, clipnorm=0.5), _variables()), expected)


def test_clipvalue_clips_each_element():
    expected = reference(sgd_ref(0.1), transform=lambda gs, t: [
        None if g is None else np.clip(g, -0.3, 0.3) for g in gs])
    assert_weights(run_eager(keras.optimizers.SGD(0.1, clipvalue=0.3), _variables()), expected)


def test_global_clipnorm_scales_all_gradients_together():
    initial, grads = INITIAL[:3], [g[:3] for g in GRADS]  # one dtype: the norms are summed
    expected = reference(sgd_ref(0.1), grads, initial, _clip_global(1.0))
    optimizer = keras.optimizers.SGD(0.1, global_clipnorm=1.0)
    assert_weights(run_eager(optimizer, _variables(initial), grads), expected)
    graph = run_graph(keras.optimizers.SGD(0.1, global_clipnorm=1.0), _variables(initial), grads)
    assert_weights(graph, expected)


def test_loss_scale_factor_divides_the_gradients():
    expected = reference(sgd_ref(0.1), transform=lambda gs, t: [
        None if g is None else g / 8.0 for g in gs])
    optimizer = keras.optimizers.SGD(0.1, loss_scale_factor=8.0)
    assert_weights(run_eager(optimizer, _variables()), expected)
    assert float(optimizer.scale_loss(tf.constant(2.0))) == 16.0
    assert float(keras.optimizers.SGD().scale_loss(tf.constant(2.0))) == 2.0


def test_weight_decay_and_its_exclusions():
    def decayed(skip):
        base = sgd_ref(0.1)

        def step(w, g, s, t):
            return base(w if skip(w) else w - 0.1 * 0.05 * w, g, s, t)
        return step

    expected = reference(decayed(lambda w: False))
    assert_weights(run_eager(keras.optimizers.SGD(0.1, weight_decay=0.05), _variables()),
                   expected)
    variables = _variables()
    optimizer = keras.optimizers.SGD(0.1, weight_decay=0.05)
    optimizer.exclude_from_weight_decay(var_list=[variables[0]], var_names=["w3"])
    expected = reference(decayed(lambda w: w.shape in ((3, 4), (2, 3))))
    assert_weights(run_eager(optimizer, variables), expected)


def test_ema_keeps_moving_averages_and_finalize_writes_them():
    variables = _variables()
    optimizer = keras.optimizers.SGD(0.1, use_ema=True, ema_momentum=0.7)
    weights = [w.astype(np.float64) for w in INITIAL]
    averages = [None] * len(weights)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for t, step_grads in enumerate(GRADS):
            optimizer.apply_gradients([(None if g is None else tf.constant(g), v)
                                       for g, v in zip(step_grads, variables)])
            for i, g in enumerate(step_grads):
                if g is not None:
                    weights[i] = weights[i] - 0.1 * g
                # the first step copies the weights; later ones move the average toward them
                averages[i] = weights[i] if t == 0 else 0.7 * averages[i] + 0.3 * weights[i]
    assert_weights(variables, weights)
    optimizer.finalize_variable_values(variables)
    assert_weights(variables, averages)


def test_ema_overwrite_frequency_writes_the_averages_periodically():
    variable = tf.Variable([1.0, -1.0])
    optimizer = keras.optimizers.SGD(0.5, use_ema=True, ema_momentum=0.5,
                                     ema_overwrite_frequency=2)
    w, average = np.array([1.0, -1.0]), None
    for t in range(1, 5):
        optimizer.apply_gradients([(tf.constant([1.0, 2.0]), variable)])
        w = w - 0.5 * np.array([1.0, 2.0])
        average = w if t == 1 else 0.5 * average + 0.5 * w
        if t % 2 == 0:
            w = average
        np.testing.assert_allclose(variable.numpy(), w, rtol=1e-6)


def test_gradient_accumulation_applies_the_mean_every_n_steps():
    variables = _variables()
    optimizer = keras.optimizers.Adam(0.01, gradient_accumulation_steps=2)
    grads = [[g if g is not None else np.zeros_like(INITIAL[1]) for g in step] for step in GRADS]
    merged = [[(a + b) / 2 for a, b in zip(grads[2 * k], grads[2 * k + 1])]
              for k in range(STEPS // 2)]
    expected = reference(adam_ref(0.01), merged)
    run_eager(optimizer, variables, grads[:1])
    assert_weights(variables, INITIAL)  # only accumulated so far
    run_eager(optimizer, variables, grads[1:])
    assert_weights(variables, expected)
    assert int(optimizer.iterations) == STEPS // 2
    assert int(optimizer._iterations.numpy()) == STEPS
    graph = run_graph(keras.optimizers.Adam(0.01, gradient_accumulation_steps=2), _variables(),
                      grads)
    assert_weights(graph, expected)


def test_constraints_are_applied_after_each_update():
    non_negative = tf.Variable([0.5, -0.5, 1.0], constraint=lambda x: tf.maximum(x, 0.0))
    layer = keras.layers.Dense(2, kernel_constraint=keras.constraints.NonNeg())
    layer.build((None, 2))
    optimizer = keras.optimizers.SGD(1.0)
    optimizer.apply_gradients([(tf.constant([1.0, -1.0, 0.5]), non_negative),
                               (tf.ones((2, 2)), layer.kernel)])
    np.testing.assert_allclose(non_negative.numpy(), [0.0, 0.5, 0.5])
    assert (layer.kernel.numpy() >= 0).all()


def test_indexed_slices_gradient_equals_its_dense_form():
    dense = tf.Variable(np.ones((4, 2), np.float32))
    sparse = tf.Variable(np.ones((4, 2), np.float32))
    values = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], np.float32)
    indices = np.array([2, 0, 2], np.int32)
    as_dense = np.zeros((4, 2), np.float32)
    np.add.at(as_dense, indices, values)
    a, b = keras.optimizers.Adam(0.1), keras.optimizers.Adam(0.1)
    for _ in range(2):
        a.apply_gradients([(tf.constant(as_dense), dense)])
        b.apply_gradients([(tf.IndexedSlices(tf.constant(values), tf.constant(indices),
                                             tf.constant([4, 2])), sparse)])
    np.testing.assert_allclose(sparse.numpy(), dense.numpy(), rtol=1e-7)


# -- the learning rate -------------------------------------------------------------------------
def test_learning_rate_variable_setter_and_schedule():
    optimizer = keras.optimizers.SGD(0.1)
    assert optimizer.learning_rate.dtype == tf.float32
    assert optimizer.learning_rate.path.endswith("/learning_rate")
    optimizer.learning_rate = 0.5
    assert float(optimizer.learning_rate) == 0.5
    variable = tf.Variable([1.0])
    optimizer.apply_gradients([(tf.constant([1.0]), variable)])
    np.testing.assert_allclose(variable.numpy(), [0.5])
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, 1, 0.5)
    optimizer.learning_rate = schedule
    assert all(v.name != "learning_rate" for v in optimizer.variables)
    np.testing.assert_allclose(float(optimizer.learning_rate), 0.05)  # at iterations == 1
    with pytest.raises(TypeError, match="not settable"):
        optimizer.learning_rate = 0.1


def test_schedule_is_evaluated_at_each_step_before_it_counts():
    schedule = keras.optimizers.schedules.PiecewiseConstantDecay([1, 2], [0.1, 0.01, 0.001])
    variable = tf.Variable([0.0])
    optimizer = keras.optimizers.SGD(schedule)
    step = tf.function(lambda: optimizer.apply_gradients([(tf.constant([1.0]), variable)]))
    for _ in range(4):
        step()
    np.testing.assert_allclose(variable.numpy(), [-(0.1 + 0.1 + 0.01 + 0.001)], rtol=1e-6)


def test_callable_learning_rate_is_called_each_step():
    rates = iter([0.5, 0.25])
    variable = tf.Variable([0.0])
    optimizer = keras.optimizers.SGD(lambda: next(rates))
    optimizer.apply_gradients([(tf.constant([1.0]), variable)])
    optimizer.apply_gradients([(tf.constant([1.0]), variable)])
    np.testing.assert_allclose(variable.numpy(), [-0.75])


# -- API ---------------------------------------------------------------------------------------
def test_minimize_with_a_callable_loss_or_a_tape():
    variable = tf.Variable(10.0)
    optimizer = keras.optimizers.RMSprop(0.1)
    optimizer.minimize(lambda: variable ** 2 / 2.0, [variable])
    np.testing.assert_allclose(variable.numpy(), 10.0 - 0.1 * 10.0 / np.sqrt(0.1 * 100 + 1e-7),
                               rtol=1e-6)
    other = tf.Variable(3.0)
    with tf.GradientTape() as tape:
        loss = other * other
    keras.optimizers.SGD(0.1).minimize(loss, [other], tape=tape)
    np.testing.assert_allclose(other.numpy(), 3.0 - 0.1 * 6.0)
    with pytest.raises(ValueError, match="`tape` is required"):
        keras.optimizers.SGD(0.1).minimize(tf.constant(1.0), [other])


def test_apply_without_variables_uses_the_built_list():
    variables = [tf.Variable([1.0]), tf.Variable([2.0])]
    optimizer = keras.optimizers.SGD(1.0)
    with pytest.raises(ValueError, match="must already be built"):
        optimizer.apply([tf.constant([1.0])])
    optimizer.build(variables)
    optimizer.apply([tf.constant([1.0]), tf.constant([1.0])])
    assert [float(v.numpy()[0]) for v in variables] == [0.0, 1.0]
    with pytest.raises(ValueError, match="one-to-on"):
        optimizer.apply([tf.constant([1.0])])
    assert optimizer.apply([]) is None
    assert int(optimizer.iterations) == 1


def test_an_optimizer_serves_only_the_variables_it_was_built_with():
    first, second = tf.Variable([1.0]), tf.Variable([2.0])
    optimizer = keras.optimizers.Adam()
    optimizer.apply_gradients([(tf.constant([1.0]), first)])
    with pytest.raises(ValueError, match="Unknown variable"):
        optimizer.apply_gradients([(tf.constant([1.0]), second)])
    # two optimizers for two groups (the wide & deep pattern) are fine
    wide, deep = keras.optimizers.SGD(0.1), keras.optimizers.Adam(0.1)
    for _ in range(2):
        wide.apply_gradients([(tf.constant([1.0]), first)])
        deep.apply_gradients([(tf.constant([1.0]), second)])
    assert int(wide.iterations) == int(deep.iterations) == 2


def test_missing_gradients_warn_and_all_missing_raise():
    variables = [tf.Variable([1.0], name="a"), tf.Variable([1.0], name="b")]
    optimizer = keras.optimizers.SGD(1.0)
    with pytest.warns(UserWarning, match=r"Gradients do not exist for variables \['b:0'\]"):
        optimizer.apply_gradients([(tf.constant([1.0]), variables[0]), (None, variables[1])])
    with pytest.raises(ValueError, match="No gradients provided for any variable"):
        optimizer.apply_gradients([(None, v) for v in variables])


def test_custom_optimizer_with_its_own_update_step():
    class SignSGD(keras.optimizers.Optimizer):
        def __init__(self, learning_rate=0.1, **kwargs):
            super().__init__(learning_rate=learning_rate, **kwargs)

        def build(self, variables):
            super().build(variables)
            self.counts = self.add_optimizer_variables(variables, "count")

        def update_step(self, gradient, variable, learning_rate):
            lr = tf.cast(learning_rate, variable.dtype)
            self.assign_sub(variable, lr * tf.sign(gradient))
            self.assign_add(self.counts[self._get_variable_index(variable)],
                            tf.ones_like(variable))

    variable = tf.Variable([1.0, -2.0])
    optimizer = SignSGD(0.5, weight_decay=0.1)
    for fn in (lambda f: f, tf.function):
        fn(lambda: optimizer.apply_gradients([(tf.constant([3.0, -1.0]), variable)]))()
    expected = np.array([1.0, -2.0])
    for _ in range(2):
        expected = expected - 0.5 * 0.1 * expected - 0.5 * np.sign([3.0, -1.0])
    np.testing.assert_allclose(variable.numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(optimizer.counts[0].numpy(), [2.0, 2.0])
    with pytest.raises(RuntimeError, match=r"forgot to call `super\(\).__init__\(\)`"):
        class Broken(keras.optimizers.Optimizer):
            def __init__(self):
                self.x = 1
        Broken()


def test_set_weights_and_saved_variables():
    variable = tf.Variable([1.0, 2.0])
    optimizer = keras.optimizers.Adam(0.1)
    with pytest.raises(ValueError, match="has not yet been built"):
        optimizer.set_weights([])
    optimizer.apply_gradients([(tf.constant([1.0, 1.0]), variable)])
    store = {}
    optimizer.save_own_variables(store)
    other = keras.optimizers.Adam(0.1)
    other.build([variable])
    other.load_own_variables(store)
    assert [v.numpy().tolist() for v in other.variables] == \
        [v.numpy().tolist() for v in optimizer.variables]
    other.set_weights([np.int64(5), np.float32(0.2), np.zeros(2), np.ones(2)])
    assert int(other.iterations) == 5 and float(other.learning_rate) == pytest.approx(0.2)


# -- configs and lookups -----------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(ALGORITHMS))
def test_config_round_trip(name):
    optimizer = ALGORITHMS[name][0]()
    config = optimizer.get_config()
    assert json.loads(json.dumps(config)) == config
    rebuilt = type(optimizer).from_config(config)
    assert rebuilt.get_config() == config
    restored = keras.optimizers.deserialize(keras.optimizers.serialize(optimizer))
    assert type(restored) is type(optimizer) and restored.get_config() == config


def test_config_keys_and_values_are_keras_3s():
    config = keras.optimizers.Adam().get_config()
    assert list(config) == ["name", "learning_rate", "weight_decay", "clipnorm",
                            "global_clipnorm", "clipvalue", "use_ema", "ema_momentum",
                            "ema_overwrite_frequency", "loss_scale_factor",
                            "gradient_accumulation_steps", "beta_1", "beta_2", "epsilon",
                            "amsgrad"]
    assert config["learning_rate"] == float(np.float32(0.001))
    serialized = keras.optimizers.serialize(keras.optimizers.SGD())
    assert serialized["module"] == "keras.optimizers" and serialized["class_name"] == "SGD"
    schedule = keras.optimizers.schedules.CosineDecay(0.1, 100)
    config = keras.optimizers.SGD(schedule).get_config()
    assert config["learning_rate"]["class_name"] == "CosineDecay"
    rebuilt = keras.optimizers.SGD.from_config(config)
    assert isinstance(rebuilt._learning_rate, keras.optimizers.schedules.CosineDecay)


def test_get_by_name_dict_and_instance():
    for name, cls in [("sgd", "SGD"), ("adam", "Adam"), ("ADAM", "Adam"), ("rmsprop", "RMSprop"),
                      ("RMSprop", "RMSprop"), ("nadam", "Nadam"), ("adamw", "AdamW"),
                      ("adagrad", "Adagrad"), ("adadelta", "Adadelta"), ("adamax", "Adamax"),
                      ("ftrl", "Ftrl"), ("lion", "Lion"), ("adafactor", "Adafactor")]:
        assert type(keras.optimizers.get(name)).__name__ == cls
    instance = keras.optimizers.Adam()
    assert keras.optimizers.get(instance) is instance
    assert keras.optimizers.get(None) is None
    made = keras.optimizers.get({"class_name": "SGD", "config": {"learning_rate": 0.5}})
    assert float(made.learning_rate) == 0.5
    assert tf.keras.optimizers.get("sgd").name.startswith("sgd")
    for bad in ["lamb", "foo", 3]:
        with pytest.raises(ValueError, match="Could not interpret optimizer identifier"):
            keras.optimizers.get(bad)


def test_default_names_count_per_class():
    first, second = keras.optimizers.RMSprop(), keras.optimizers.RMSprop()
    assert first.name.startswith("rm_sprop") and second.name != first.name
    assert keras.optimizers.AdamW().name.startswith("adam_w")


def test_bad_arguments_raise_keras_errors():
    cases = [
        (lambda: keras.optimizers.SGD(learning_rate=1), "should be float"),
        (lambda: keras.optimizers.SGD(momentum=1), "`momentum` must be a float"),
        (lambda: keras.optimizers.SGD(clipnorm=1.0, clipvalue=1.0), "Only one of `clipnorm`"),
        (lambda: keras.optimizers.SGD(foo=1), r"Argument\(s\) not recognized"),
        (lambda: keras.optimizers.AdamW(weight_decay=None), "`weight_decay` must be a float"),
        (lambda: keras.optimizers.Adam(use_ema=True, ema_momentum=2.0), "`ema_momentum`"),
        (lambda: keras.optimizers.Adam(use_ema=True, ema_overwrite_frequency=0.5),
         "`ema_overwrite_frequency`"),
        (lambda: keras.optimizers.Adam(gradient_accumulation_steps=1),
         "`gradient_accumulation_steps`"),
        (lambda: keras.optimizers.Ftrl(learning_rate_power=0.5), "`learning_rate_power`"),
        (lambda: keras.optimizers.Ftrl(initial_accumulator_value=-1.0),
         "`initial_accumulator_value`"),
        (lambda: keras.optimizers.Lion(beta_1=0.0), "`beta_1` must be in the"),
    ]
    for make, message in cases:
        with pytest.raises(ValueError, match=message):
            make()
    with pytest.warns(UserWarning, match="`decay` is no longer supported"):
        keras.optimizers.SGD(decay=0.1)
    with pytest.raises(ImportError, match="legacy"):
        keras.optimizers.legacy.Adam()
    with pytest.raises(ValueError, match="not supported with the TensorFlow backend"):
        keras.optimizers.SGD().stateless_apply([], [], [])


def test_overwrite_with_gradient_variables_take_their_gradient():
    layer = keras.layers.Dense(2)
    layer.build((None, 2))
    layer.bias.overwrite_with_gradient = True
    optimizer = keras.optimizers.Adam(0.1)
    optimizer.apply_gradients([(tf.ones((2, 2)), layer.kernel),
                               (tf.constant([3.0, -4.0]), layer.bias)])
    np.testing.assert_allclose(layer.bias.numpy(), [3.0, -4.0])
    assert len(optimizer.variables) == 4  # no slots for the overwritten bias
