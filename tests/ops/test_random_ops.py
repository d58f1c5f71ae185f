"""tf.random: seeds, distributions, dtypes and shapes, errors, gradients of the composites,
abstract evaluation, stateless ops and tf.random.Generator."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tensorweave as tf
from harness import check_abstract, check_grad
from tensorweave.framework import device as device_module
from tensorweave.framework.errors import InvalidArgumentError, NotFoundError
from tensorweave.ops import random_ops

SEED = [3, 7]


@pytest.fixture(autouse=True)
def _no_global_seed():
    tf.random.set_seed(None)
    yield
    tf.random.set_seed(None)
    device_module.config.op_determinism = False


def _np(t):
    return np.asarray(t.numpy())


def _assert_mean(sample, expected_mean, expected_std):
    """The sample mean is within 5 standard errors of the expected mean."""
    sample = np.asarray(sample, dtype=np.float64).reshape(-1)
    assert abs(sample.mean() - expected_mean) < 5 * expected_std / np.sqrt(sample.size)


# -- seeds ----------------------------------------------------------------------------------------
def test_without_seeds_values_differ_between_calls():
    assert not np.array_equal(_np(tf.random.uniform([8])), _np(tf.random.uniform([8])))
    assert not np.array_equal(_np(tf.random.normal([8])), _np(tf.random.normal([8])))


def test_global_seed_gives_a_repeatable_sequence_restarted_by_set_seed():
    def program():
        return [_np(tf.random.uniform([4])), _np(tf.random.normal([4])), _np(tf.random.uniform([4]))]
    tf.random.set_seed(1234)
    first = program()
    tf.random.set_seed(1234)
    second = program()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], first[2])  # different calls, different values
    tf.random.set_seed(99)
    assert not np.array_equal(_np(tf.random.uniform([4])), first[0])


def test_op_seed_with_global_seed_advances_and_restarts():
    tf.random.set_seed(5)
    a1, a2 = _np(tf.random.uniform([4], seed=1)), _np(tf.random.uniform([4], seed=1))
    assert not np.array_equal(a1, a2)
    tf.random.set_seed(5)
    np.testing.assert_array_equal(_np(tf.random.uniform([4], seed=1)), a1)
    np.testing.assert_array_equal(_np(tf.random.uniform([4], seed=1)), a2)
    # another op seed, or another global seed, is another sequence
    tf.random.set_seed(5)
    assert not np.array_equal(_np(tf.random.uniform([4], seed=2)), a1)
    tf.random.set_seed(6)
    assert not np.array_equal(_np(tf.random.uniform([4], seed=1)), a1)


def test_op_seed_alone_uses_the_default_global_seed():
    first = _np(tf.random.normal([4], seed=11))
    tf.random.set_seed(None)  # what a new run of the program starts from
    np.testing.assert_array_equal(_np(tf.random.normal([4], seed=11)), first)
    tf.random.set_seed(random_ops.DEFAULT_GLOBAL_SEED)
    np.testing.assert_array_equal(_np(tf.random.normal([4], seed=11)), first)


def test_seed_rules_hold_across_separate_runs():
    code = ("import tensorweave as tf\n"
            "print(tf.random.uniform([3], seed=4).numpy().tolist())\n"
            "tf.random.set_seed(17)\n"
            "print(tf.random.normal([3]).numpy().tolist())\n"
            "tf.random.set_seed(None)\n"
            "print(tf.random.normal([3]).numpy().tolist())\n")
    root = Path(__file__).resolve().parents[2]
    runs = [subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True,
                           text=True, check=True).stdout.splitlines() for _ in range(2)]
    assert runs[0][0] == runs[1][0]  # op seed only
    assert runs[0][1] == runs[1][1]  # global seed only
    assert runs[0][2] != runs[1][2]  # no seed


def test_op_determinism_requires_a_seed():
    device_module.config.op_determinism = True
    with pytest.raises(RuntimeError, match="require a seed"):
        tf.random.uniform([2])
    with pytest.raises(RuntimeError):
        tf.random.Generator.from_non_deterministic_state()
    tf.random.uniform([2], seed=3)
    tf.random.set_seed(1)
    tf.random.uniform([2])


# -- distributions -------------------------------------------------------------------------------------
def test_normal_and_truncated_normal_statistics():
    tf.random.set_seed(0)
    x = _np(tf.random.normal([20000], mean=3.0, stddev=2.0))
    _assert_mean(x, 3.0, 2.0)
    assert abs(x.std() - 2.0) < 0.05
    t = _np(tf.random.truncated_normal([20000], mean=-1.0, stddev=0.5, dtype=tf.float64))
    assert t.dtype == np.float64
    assert t.min() >= -2.0 and t.max() <= 0.0  # within two deviations of the mean
    # the standard normal truncated to [-2, 2] has deviation 0.8796
    assert abs(t.std() / 0.5 - 0.8796) < 0.02
    _assert_mean(t, -1.0, 0.5)


def test_uniform_float_and_int():
    tf.random.set_seed(0)
    u = _np(tf.random.uniform([5000], minval=-2.0, maxval=3.0))
    assert u.dtype == np.float32 and u.min() >= -2.0 and u.max() < 3.0
    _assert_mean(u, 0.5, 5 / np.sqrt(12))
    for dtype, np_dtype in ((tf.int32, np.int32), (tf.int64, np.int64)):
        i = tf.random.uniform([4000], minval=-3, maxval=4, dtype=dtype)
        assert i.dtype == dtype and _np(i).dtype == np_dtype
        assert set(np.unique(_np(i))) == set(range(-3, 4))
    default = _np(tf.random.uniform([3, 2]))
    assert default.shape == (3, 2) and default.min() >= 0 and default.max() < 1
    # minval and maxval broadcast with the sample, as in TensorFlow
    b = _np(tf.random.uniform([2, 3], minval=tf.constant([[1.0], [10.0]]), maxval=tf.constant(11.0)))
    assert (b[0] >= 1).all() and (b[1] >= 10).all() and (b < 11).all()


def test_half_precision_uniform_stays_below_one():
    for dtype in (tf.float16, tf.bfloat16):
        u = tf.random.uniform([20000], dtype=dtype)
        assert u.dtype == dtype
        values = _np(u).astype(np.float32)
        assert values.min() >= 0 and values.max() < 1
        assert tf.random.normal([3], dtype=dtype).dtype == dtype
        assert tf.random.truncated_normal([3], dtype=dtype).dtype == dtype


def test_categorical_frequencies_follow_softmax():
    tf.random.set_seed(0)
    with np.errstate(divide="ignore"):
        logits = np.log(np.array([[0.2, 0.5, 0.3], [0.9, 0.0, 0.1]]))
    samples = tf.random.categorical(tf.constant(logits, tf.float32), 6000)
    assert samples.dtype == tf.int64 and samples.shape == (2, 6000)
    s = _np(samples)
    for row, probs in zip(s, np.exp(logits)):
        freq = np.bincount(row, minlength=3) / row.size
        np.testing.assert_allclose(freq, probs, atol=0.03)
    assert not (s[1] == 1).any()  # probability 0 never drawn
    small = tf.random.categorical([[1.0, 2.0]], 4, dtype=tf.int32)
    assert small.dtype == tf.int32 and small.shape == (1, 4)
    edge = _np(tf.random.categorical([[-np.inf, 0.0], [-np.inf, -np.inf], [np.inf, 0.0]], 5))
    np.testing.assert_array_equal(edge, [[1] * 5, [2] * 5, [0] * 5])  # no class: num_classes
    assert tf.random.categorical([[0.0, 1.0]], 0).shape == (1, 0)


def test_shuffle_permutes_the_first_axis():
    value = np.arange(40).reshape(20, 2)
    out = _np(tf.random.shuffle(value, seed=3))
    np.testing.assert_array_equal(out[np.argsort(out[:, 0])], value)
    assert not np.array_equal(out, value)
    assert tf.random.shuffle(tf.constant(5)).numpy() == 5
    words = tf.random.shuffle(["a", "b", "c"])
    assert words.dtype == tf.string and sorted(words.numpy().tolist()) == [b"a", b"b", b"c"]


def test_gamma_and_poisson():
    tf.random.set_seed(0)
    g = tf.random.gamma([4000], alpha=[[1.0], [3.0]], beta=[1.0, 2.0, 4.0])
    assert g.shape == (4000, 2, 3) and g.dtype == tf.float32
    values = _np(g)
    for i, a in enumerate((1.0, 3.0)):
        for j, b in enumerate((1.0, 2.0, 4.0)):
            _assert_mean(values[:, i, j], a / b, np.sqrt(a) / b)
    assert (values > 0).all()
    assert tf.random.gamma([2], alpha=2.0, dtype=tf.float64).dtype == tf.float64
    np.testing.assert_array_equal(np.isnan(_np(tf.random.gamma([2], alpha=-1.0))), [True, True])
    assert (_np(tf.random.gamma([3], alpha=0.0)) > 0).all()  # clamped at the smallest normal
    p = tf.random.poisson([3000], lam=[0.5, 4.0])
    assert p.shape == (3000, 2) and p.dtype == tf.float32
    for j, lam in enumerate((0.5, 4.0)):
        _assert_mean(_np(p)[:, j], lam, np.sqrt(lam))
    assert tf.random.poisson([2], lam=[1, 2], dtype=tf.int64).dtype == tf.int64
    np.testing.assert_array_equal(_np(tf.random.poisson([2], lam=-1.0)), [0.0, 0.0])


def test_shape_arguments():
    for shape in ([2, 3], (2, 3), tf.TensorShape([2, 3]), tf.constant([2, 3]),
                  np.array([2, 3]), tf.constant([2, 3], tf.int64), [tf.constant(2), 3]):
        assert tf.random.normal(shape).shape == (2, 3)
    assert tf.random.uniform([]).shape == ()
    assert tf.random.uniform([0, 3]).shape == (0, 3)
    x = tf.constant(np.zeros((4, 1), np.float32))
    assert tf.random.normal(x.shape, stddev=0.01).shape == (4, 1)


# -- errors -----------------------------------------------------------------------------------------
def test_argument_errors():
    with pytest.raises(ValueError, match="Must specify maxval for integer dtype tf.int32"):
        tf.random.uniform([2], dtype=tf.int32)
    with pytest.raises(ValueError, match="Accepted dtypes"):
        tf.random.uniform([2], dtype=tf.uint8)
    with pytest.raises(TypeError, match="Cannot convert 3.5"):
        tf.random.uniform([2], maxval=3.5, dtype=tf.int32)
    with pytest.raises(TypeError):
        tf.random.normal([2], dtype=tf.int32)
    with pytest.raises(ValueError, match="Accepted dtypes"):
        tf.random.categorical([[0.0, 1.0]], 2, dtype=tf.int16)
    with pytest.raises(ValueError, match="partially known"):
        tf.random.normal(tf.TensorShape([2, None]))
    with pytest.raises(ValueError, match="not inexact"):
        tf.random.gamma([2], alpha=1, dtype=tf.int32)
    with pytest.raises(ValueError, match="unsupported value"):
        tf.random.Generator.from_seed(1, alg="foo")


def test_run_time_errors():
    cases = [
        (lambda: tf.random.normal([2], dtype=tf.complex64), "allowed values"),
        (lambda: tf.random.uniform([-1]), "Dimension -1 must be >= 0"),
        (lambda: tf.random.normal(3), "shape must be a vector"),
        (lambda: tf.random.normal([2.0]), "allowed values"),
        (lambda: tf.random.uniform([2], minval=3, maxval=3, dtype=tf.int32), "minval < maxval"),
        (lambda: tf.random.uniform([2], minval=[0, 1], maxval=5, dtype=tf.int32), "0-D"),
        (lambda: tf.random.categorical([0.0, 1.0], 3), "matrix"),
        (lambda: tf.random.categorical(tf.zeros([2, 0]), 3), "num_classes should be positive"),
        (lambda: tf.random.categorical([[0.0, 1.0]], -1), "non-negative"),
        (lambda: tf.random.normal([2], mean=[1.0, 2.0, 3.0]), "Incompatible shapes"),
        (lambda: tf.random.poisson([2], lam=1.0, dtype=tf.bool), "allowed values"),
        (lambda: tf.random.stateless_normal([2], seed=[1, 2, 3]), "seed must have shape"),
        (lambda: tf.random.stateless_normal([2], seed=1), "seed must have shape"),
        (lambda: tf.random.stateless_normal([2], seed=[1.0, 2.0]), "Tseed"),
    ]
    for fn, message in cases:
        with pytest.raises(InvalidArgumentError, match=message):
            fn()
    with pytest.raises(NotFoundError):
        tf.random.categorical([[0, 1]], 2)


# -- gradients ----------------------------------------------------------------------------------------
def test_gradients_flow_to_distribution_parameters():
    def normal(mean, stddev):
        return tf.random.stateless_normal([3, 2], seed=SEED, mean=mean, stddev=stddev,
                                          dtype=tf.float64)

    def truncated(mean, stddev):
        return tf.random.stateless_truncated_normal([2, 3], seed=SEED, mean=mean, stddev=stddev,
                                                    dtype=tf.float64)

    def uniform(low, high):
        return tf.random.stateless_uniform([4, 2], seed=SEED, minval=low, maxval=high,
                                           dtype=tf.float64)

    def gamma(beta):
        return tf.random.stateless_gamma([3, 2], seed=SEED, alpha=2.0, beta=beta, dtype=tf.float64)

    for fn, args in ((normal, ([0.5, -1.0], [1.5, 2.0])), (truncated, (0.3, 1.2)),
                     (uniform, ([-1.0, 0.0], [2.0, 3.0])), (gamma, ([1.5, 3.0],))):
        check_grad(fn, *args)
        check_grad(fn, *args, order=2)
    # the samples themselves do not depend on the parameters: d(normal)/d(mean) is 1
    mean = tf.constant([0.5, 2.0])
    with tf.GradientTape() as tape:
        tape.watch(mean)
        y = tf.random.normal([3, 2], mean=mean)
    np.testing.assert_allclose(_np(tape.gradient(y, mean)), [3.0, 3.0])


def test_random_outputs_carry_no_gradient_to_their_inputs():
    x = tf.constant([1.0, 2.0])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        shuffled = tf.random.shuffle(x)
        counts = tf.random.poisson([3], x)
        drawn = tf.random.gamma([3], x)
    for y in (shuffled, counts, drawn):
        assert tape.gradient(y, x) is None


# -- abstract evaluation ---------------------------------------------------------------------------
def test_abstract_evaluation_of_every_random_op():
    logits = tf.constant([[0.0, 1.0, 2.0], [1.0, 1.0, 1.0]])
    seed = tf.constant(SEED)
    gen = tf.random.Generator.from_seed(4)
    calls = [
        lambda: tf.random.normal([2, 3], mean=1.0, stddev=2.0, dtype=tf.float64),
        lambda: tf.random.normal([2]),
        lambda: tf.random.truncated_normal([4], dtype=tf.float16),
        lambda: tf.random.uniform([2, 2], minval=-1.0, maxval=1.0),
        lambda: tf.random.uniform([3], maxval=10, dtype=tf.int64),
        lambda: tf.random.categorical(logits, 4, dtype=tf.int32),
        lambda: tf.random.shuffle(tf.constant([[1, 2], [3, 4]])),
        lambda: tf.random.gamma([2], alpha=[[1.0], [2.0]], beta=[1.0, 2.0, 3.0]),
        lambda: tf.random.poisson([2], lam=[1.0, 2.0], dtype=tf.int32),
        lambda: tf.random.stateless_normal([2, 3], seed, mean=[1.0, 2.0, 3.0]),
        lambda: tf.random.stateless_truncated_normal([2], seed),
        lambda: tf.random.stateless_uniform([2], seed, minval=1.0, maxval=2.0),
        lambda: tf.random.stateless_uniform([2], seed, minval=1, maxval=5, dtype=tf.int32),
        lambda: tf.random.stateless_uniform([2], seed, minval=None, maxval=None, dtype=tf.uint64),
        lambda: tf.random.stateless_categorical(logits, 3, seed),
        lambda: tf.random.stateless_gamma([2], seed, alpha=[1.0, 2.0]),
        lambda: tf.random.stateless_poisson([2], seed, lam=3.0),
        lambda: tf.random.stateless_binomial([2, 2], seed, counts=5.0, probs=[0.2, 0.9]),
        lambda: tf.random.experimental.stateless_shuffle(tf.constant([1, 2, 3]), seed),
        lambda: tf.random.split(seed, 3),
        lambda: tf.random.fold_in(seed, 7),
        lambda: gen.normal([2, 2], mean=1.0),
        lambda: gen.uniform([3]),
        lambda: gen.uniform([3], minval=0, maxval=4, dtype=tf.int32),
        lambda: gen.uniform_full_int([2], dtype=tf.int32),
        lambda: gen.truncated_normal([3]),
        lambda: gen.binomial([3], counts=4.0, probs=0.5),
        lambda: gen.make_seeds(3),
    ]
    for call in calls:
        check_abstract(call)


# -- stateless ops --------------------------------------------------------------------------------------
def test_stateless_ops_depend_only_on_the_seed():
    pairs = [
        lambda s: tf.random.stateless_normal([5], seed=s),
        lambda s: tf.random.stateless_truncated_normal([5], seed=s, dtype=tf.float64),
        lambda s: tf.random.stateless_uniform([5], seed=s),
        lambda s: tf.random.stateless_uniform([5], seed=s, minval=0, maxval=100, dtype=tf.int64),
        lambda s: tf.random.stateless_categorical([[0.0, 1.0, 0.5]], 8, seed=s),
        lambda s: tf.random.stateless_gamma([5], seed=s, alpha=2.0),
        lambda s: tf.random.stateless_poisson([5], seed=s, lam=3.0),
        lambda s: tf.random.experimental.stateless_shuffle(np.arange(10), seed=s),
    ]
    for fn in pairs:
        first = _np(fn([1, 2]))
        tf.random.uniform([3])  # stateful draws in between change nothing
        np.testing.assert_array_equal(_np(fn([1, 2])), first)
        np.testing.assert_array_equal(_np(fn(tf.constant([1, 2], tf.int64))), first)
        assert not np.array_equal(_np(fn([2, 1])), first)
    assert not np.array_equal(_np(tf.random.stateless_normal([4], SEED, alg="threefry")),
                              _np(tf.random.stateless_normal([4], SEED, alg="philox")))


def test_stateless_dtypes_and_full_range_ints():
    full = tf.random.stateless_uniform([2000], seed=SEED, minval=None, maxval=None, dtype=tf.uint32)
    assert full.dtype == tf.uint32 and _np(full).max() > 2 ** 31
    signed = _np(tf.random.stateless_uniform([2000], SEED, minval=None, maxval=None,
                                             dtype=tf.int64))
    assert signed.min() < -2 ** 62 and signed.max() > 2 ** 62
    assert tf.random.stateless_normal([2], SEED, dtype=tf.float16).dtype == tf.float16
    assert tf.random.stateless_poisson([2], SEED, lam=2.0).dtype == tf.int32
    with pytest.raises(ValueError, match="both None or not None"):
        tf.random.stateless_uniform([2], SEED, dtype=tf.int32)
    with pytest.raises(ValueError, match="unsigned"):
        tf.random.stateless_uniform([2], SEED, minval=0, maxval=3, dtype=tf.uint32)
    with pytest.raises(ValueError, match="Accepted dtypes"):
        tf.random.stateless_uniform([2], SEED, dtype=tf.uint8)


def test_split_and_fold_in_give_new_seeds():
    seeds = tf.random.split([1, 2], num=3)
    assert seeds.shape == (3, 2) and seeds.dtype == tf.int32
    rows = {tuple(r) for r in _np(seeds).tolist()}
    assert len(rows) == 3
    np.testing.assert_array_equal(_np(tf.random.split([1, 2], 3)), _np(seeds))
    folded = tf.random.fold_in([1, 2], 5)
    assert folded.shape == (2,) and _np(folded)[1] == 5
    assert not np.array_equal(_np(tf.random.stateless_normal([3], folded)),
                              _np(tf.random.stateless_normal([3], [1, 2])))


# -- Generator ----------------------------------------------------------------------------------------
def test_generator_from_seed_is_deterministic_and_advances():
    g1, g2 = tf.random.Generator.from_seed(1234), tf.random.Generator.from_seed(1234)
    a = _np(g1.normal([4]))
    np.testing.assert_array_equal(_np(g2.normal([4])), a)
    assert not np.array_equal(_np(g1.normal([4])), a)
    assert isinstance(g1.state, tf.Variable)
    assert g1.state.dtype == tf.int64 and g1.state.shape == (3,)
    assert g1.algorithm == 1
    before = _np(g1.state).copy()
    g1.uniform([3])
    assert not np.array_equal(_np(g1.state), before)
    g1.reset_from_seed(1234)
    np.testing.assert_array_equal(_np(g1.normal([4])), a)
    copy = tf.random.Generator(copy_from=g2)
    np.testing.assert_array_equal(_np(copy.normal([3])), _np(g2.normal([3])))
    same_state = tf.random.Generator.from_state(g2.state, alg="philox")
    np.testing.assert_array_equal(_np(same_state.uniform([3])), _np(g2.uniform([3])))
    assert not np.array_equal(_np(tf.random.Generator.from_seed(1).normal([4])),
                              _np(tf.random.Generator.from_seed(2).normal([4])))


def test_generator_distributions():
    g = tf.random.Generator.from_seed(7)
    n = _np(g.normal([20000], mean=2.0, stddev=3.0))
    _assert_mean(n, 2.0, 3.0)
    t = _np(g.truncated_normal([2000], stddev=2.0))
    assert np.abs(t).max() <= 4.0
    u = _np(g.uniform([2000], minval=1.0, maxval=2.0, dtype=tf.float64))
    assert u.dtype == np.float64 and u.min() >= 1 and u.max() < 2
    i = g.uniform([2000], minval=2, maxval=6, dtype=tf.int32)
    assert i.dtype == tf.int32 and set(np.unique(_np(i))) == {2, 3, 4, 5}
    full = g.uniform([3], minval=None, maxval=None, dtype=tf.int64)
    assert full.dtype == tf.int64
    assert g.uniform_full_int([2]).dtype == tf.uint64
    b = _np(g.binomial([3000], counts=10.0, probs=0.3))
    _assert_mean(b, 3.0, np.sqrt(2.1))
    seeds = g.make_seeds(4)
    assert seeds.shape == (2, 4) and seeds.dtype == tf.int64
    with pytest.raises(ValueError, match="both `None` or both non-`None`"):
        g.uniform([2], dtype=tf.int32)


def test_generator_split_skip_and_construction():
    g = tf.random.Generator.from_seed(3)
    children = g.split(3)
    draws = [_np(c.normal([4])) for c in children] + [_np(g.normal([4]))]
    for i in range(len(draws)):
        for j in range(i):
            assert not np.array_equal(draws[i], draws[j])
    h1, h2 = tf.random.Generator.from_seed(5), tf.random.Generator.from_seed(5)
    old = h1.skip(1)
    np.testing.assert_array_equal(_np(old), _np(h2.state))
    assert not np.array_equal(_np(h1.state), _np(h2.state))
    assert tf.random.Generator.from_seed(1, alg="threefry").state.shape == (2,)
    assert tf.random.Generator.from_seed(1, alg=tf.random.Algorithm.AUTO_SELECT).algorithm == 3
    with pytest.raises(ValueError, match="incompatible"):
        tf.random.Generator.from_state([1, 2], alg="philox")
    with pytest.raises(AssertionError):
        tf.random.Generator()
    a, b = (tf.random.Generator.from_non_deterministic_state() for _ in range(2))
    assert not np.array_equal(_np(a.normal([4])), _np(b.normal([4])))
    key_counter = tf.random.Generator.from_key_counter(key=9, counter=[1, 0], alg="philox")
    np.testing.assert_array_equal(_np(key_counter.state), [1, 0, 9])
    assert int(key_counter.key) == 9
    assert tf.random.create_rng_state(5, "philox").shape == (3,)


def test_global_generator():
    g = tf.random.get_global_generator()
    assert tf.random.get_global_generator() is g
    mine = tf.random.Generator.from_seed(1)
    try:
        tf.random.set_global_generator(mine)
        assert tf.random.get_global_generator() is mine
    finally:
        tf.random.set_global_generator(g)


def test_uniform_signature_used_by_dropout():
    tf.random.set_seed(3)
    u = random_ops.uniform((2, 3), minval=0, maxval=None, dtype=tf.float32, seed=None)
    assert u.shape == (2, 3) and u.dtype == tf.float32


# -- regressions found against TensorFlow 2.21 ------------------------------------------------
def test_stateless_gamma_and_poisson_shape_is_the_whole_output_shape():
    assert tf.random.stateless_gamma([3, 2], SEED, alpha=[1.0, 2.0]).shape == (3, 2)
    assert tf.random.stateless_gamma([], SEED, alpha=1.0).shape == ()
    assert tf.random.stateless_gamma([3, 2], SEED, [1.0, 2.0], beta=[[1.0], [2.0], [3.0]]).shape \
        == (3, 2)
    assert tf.random.stateless_poisson([3, 2], SEED, lam=[1.0, 2.0]).shape == (3, 2)
    assert tf.random.stateless_poisson([0, 2], SEED, lam=[1.0, 2.0]).shape == (0, 2)
    for bad in (lambda: tf.random.stateless_gamma([3], SEED, alpha=[1.0, 2.0]),
                lambda: tf.random.stateless_gamma([3, 2], SEED, alpha=[1.0]),  # no broadcasting
                lambda: tf.random.stateless_poisson([2, 2], SEED, lam=[[1.0], [2.0]])):
        with pytest.raises(InvalidArgumentError, match="must end with broadcasted shape"):
            bad()
    check_abstract(lambda: tf.random.stateless_gamma([3, 2], SEED, alpha=[1.0, 2.0]))
    check_abstract(lambda: tf.random.stateless_poisson([3, 2], SEED, lam=[1.0, 2.0]))
    # the stateful ops keep shape + alpha.shape
    assert tf.random.gamma([3], alpha=[1.0, 2.0]).shape == (3, 2)


def test_gamma_dtype_checks_in_tensorflow_order():
    with pytest.raises(TypeError, match="Cannot convert"):
        tf.random.gamma([2], [1.0, 2.0], dtype=tf.int32)
    with pytest.raises(ValueError, match="not inexact"):
        tf.random.gamma([2], 1, dtype=tf.int32)
    with pytest.raises(InvalidArgumentError):
        tf.random.gamma([2], [1.0], dtype=tf.complex64)
    with pytest.raises(InvalidArgumentError):
        tf.random.stateless_gamma([2], SEED, [1.0, 2.0], dtype=tf.bfloat16)
    assert tf.random.stateless_gamma([2], SEED, [1.0, 2.0], dtype=tf.float16).dtype == tf.float16


def test_split_and_fold_in_take_the_dtype_of_seed_and_data():
    assert tf.random.fold_in(tf.constant([1, 2], tf.int64), 3).dtype == tf.int32  # data's dtype
    assert tf.random.fold_in([1, 2], tf.constant(3, tf.int64)).dtype == tf.int64
    assert tf.random.fold_in([1, 2], tf.constant(3, tf.uint32)).dtype == tf.uint32
    with pytest.raises(ValueError, match="None"):
        tf.random.fold_in([1, 2], 3.5)
    assert tf.random.split(tf.constant([1, 2], tf.int64), 3).dtype == tf.int64
    with pytest.raises(ValueError, match="Accepted dtypes"):
        tf.random.split(tf.constant([1, 2], tf.int8))
    with pytest.raises(ValueError, match="None"):
        tf.random.split(tf.constant([1.0, 2.0]))
    with pytest.raises(InvalidArgumentError, match="Tseed"):
        tf.random.split(tf.constant([1, 2], tf.uint32))
    with pytest.raises(InvalidArgumentError, match="must be >= 0"):
        tf.random.split([1, 2], num=-1)
    with pytest.raises(ValueError, match="None"):  # a float stateless_uniform needs minval
        tf.random.stateless_uniform([2], SEED, minval=None)


def test_binomial_and_categorical_dtypes():
    assert tf.random.stateless_binomial([2], SEED, [3, 4], [0.5, 0.5]).dtype == tf.int32
    assert tf.random.stateless_binomial([2], SEED, 3, tf.constant(0.5, tf.float64)).shape == (2,)
    with pytest.raises(InvalidArgumentError, match="expected to be a double tensor"):
        tf.random.stateless_binomial([2], SEED, tf.constant(3.0, tf.float64), 0.5)
    with pytest.raises(NotFoundError):
        tf.random.stateless_binomial([2], SEED, tf.constant([3, 4]), [0.5, 0.5])
    with pytest.raises(InvalidArgumentError):
        tf.random.stateless_binomial([2], SEED, tf.constant([3, 4], tf.int8), 0.5)
    with pytest.raises(InvalidArgumentError, match="'T' of bool"):
        tf.random.categorical(tf.constant([[True, False]]), 2)
    with pytest.raises(NotFoundError):
        tf.random.categorical(tf.constant([[1, 2]]), 2)


def test_generator_threefry_and_integer_bounds():
    g = tf.random.Generator.from_seed(1, alg="threefry")
    for draw in (lambda: g.normal([2]), lambda: g.make_seeds(), lambda: g.split(2)):
        with pytest.raises(tf.errors.UnimplementedError, match="ThreeFry"):
            draw()
    g = tf.random.Generator.from_seed(1)
    with pytest.raises(InvalidArgumentError, match="int32, int64, uint32, uint64"):
        g.uniform([2], minval=0, maxval=5, dtype=tf.int8)
    with pytest.raises(NotFoundError):
        g.uniform([2], minval=0, maxval=5, dtype=tf.uint32)
    with pytest.raises(TypeError, match="Cannot convert 0"):
        g.uniform([2], dtype=tf.bool)
    assert g.uniform([2], minval=0, maxval=5, dtype=tf.int64).dtype == tf.int64
