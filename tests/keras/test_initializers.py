"""keras.initializers: fan counts, sample statistics (tolerances from the sample size), seeds,
Orthogonal and Identity, Keras 3's serialized dicts, get/serialize/deserialize."""
import math
import random

import numpy as np
import pytest

import tensorweave as tf
from tensorweave.keras import initializers as I
from tensorweave.keras.engine import backend_config
from tensorweave.keras.initializers.initializers import compute_fans

SHAPE = (200, 300)  # 60000 samples
N = SHAPE[0] * SHAPE[1]
# the standard deviation of a standard normal truncated to [-2, 2]
TRUNC_STD = math.sqrt(1 - 4 * math.exp(-2) / math.sqrt(2 * math.pi) / math.erf(math.sqrt(2)))


def assert_moments(values, mean, std, kurtosis=3.0):
    """Sample mean and standard deviation within 6 standard errors of the expected ones (the
    standard error of the sample std uses the distribution's kurtosis)."""
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    n = values.size
    assert abs(values.mean() - mean) < 6 * std / math.sqrt(n)
    std_error = std * math.sqrt((kurtosis - 1) / (4 * n))
    assert abs(values.std() - std) < 6 * std_error


def truncated_kurtosis():
    """Kurtosis of a standard normal truncated to [-2, 2], by numeric integration."""
    x = np.linspace(-2, 2, 200001)
    p = np.exp(-x * x / 2)
    p /= np.trapezoid(p, x)
    var = np.trapezoid(x * x * p, x)
    return np.trapezoid(x ** 4 * p, x) / var ** 2


UNIFORM_KURTOSIS = 1.8


def test_truncation_constant_is_the_truncated_std():
    assert TRUNC_STD == pytest.approx(0.87962566103423978, abs=1e-12)


@pytest.mark.parametrize("shape, fans", [
    ((), (1, 1)), ((7,), (7, 7)), ((5, 3), (5, 3)), ((3, 3, 16, 32), (144, 288)),
    ((2, 4, 5), (8, 10)), ((2, 3, 3, 4, 6), (72, 108))])
def test_compute_fans(shape, fans):
    assert compute_fans(shape) == fans
    assert compute_fans(tf.TensorShape(shape)) == fans


def test_compute_fans_with_axes():
    assert compute_fans((2, 3, 4, 5), input_axes=(0, 1), output_axes=(2, 3)) == (6, 20)
    assert compute_fans((2, 3, 4), input_axes=[-1], output_axes=[0]) == (4, 2)


def test_random_normal_statistics():
    values = I.RandomNormal(mean=1.5, stddev=2.0, seed=1)(SHAPE)
    assert values.shape == SHAPE and values.dtype == tf.float32
    assert_moments(values.numpy(), 1.5, 2.0)


def test_random_uniform_statistics():
    values = I.RandomUniform(minval=-1.0, maxval=3.0, seed=2)(SHAPE).numpy()
    assert values.min() >= -1.0 and values.max() < 3.0
    assert values.min() < -0.99 and values.max() > 2.99
    assert_moments(values, 1.0, 4 / math.sqrt(12), UNIFORM_KURTOSIS)


def test_truncated_normal_statistics():
    values = I.TruncatedNormal(mean=0.5, stddev=0.1, seed=3)(SHAPE).numpy()
    assert values.min() >= 0.3 - 1e-6 and values.max() <= 0.7 + 1e-6
    assert_moments(values, 0.5, 0.1 * TRUNC_STD, truncated_kurtosis())


@pytest.mark.parametrize("distribution", ["truncated_normal", "untruncated_normal", "uniform"])
@pytest.mark.parametrize("mode", ["fan_in", "fan_out", "fan_avg"])
def test_variance_scaling(mode, distribution):
    shape = (5, 5, 40, 60)  # fan_in 1000, fan_out 1500
    n = {"fan_in": 1000, "fan_out": 1500, "fan_avg": 1250}[mode]
    values = I.VarianceScaling(scale=3.0, mode=mode, distribution=distribution,
                               seed=4)(shape).numpy()
    std = math.sqrt(3.0 / n)
    kurtosis = {"truncated_normal": truncated_kurtosis(), "untruncated_normal": 3.0,
                "uniform": UNIFORM_KURTOSIS}[distribution]
    assert_moments(values, 0.0, std, kurtosis)
    if distribution == "truncated_normal":
        assert np.abs(values).max() <= 2 * std / TRUNC_STD * (1 + 1e-6)
    if distribution == "uniform":
        assert np.abs(values).max() <= math.sqrt(3) * std


def test_variance_scaling_normal_means_truncated_and_checks_arguments():
    assert I.VarianceScaling(distribution="Normal").distribution == "truncated_normal"
    with pytest.raises(ValueError, match="Argument `scale` must be positive float. "
                                         "Received: scale=0"):
        I.VarianceScaling(scale=0)
    with pytest.raises(ValueError, match="Invalid `mode` argument: x. Please use one of"):
        I.VarianceScaling(mode="x")
    with pytest.raises(ValueError, match="Invalid `distribution` argument: x.Please use one of"):
        I.VarianceScaling(distribution="x")


@pytest.mark.parametrize("cls, scale, mode, distribution", [
    (I.GlorotNormal, 1.0, "fan_avg", "truncated_normal"),
    (I.GlorotUniform, 1.0, "fan_avg", "uniform"),
    (I.HeNormal, 2.0, "fan_in", "truncated_normal"),
    (I.HeUniform, 2.0, "fan_in", "uniform"),
    (I.LecunNormal, 1.0, "fan_in", "truncated_normal"),
    (I.LecunUniform, 1.0, "fan_in", "uniform")])
def test_named_variance_scalings(cls, scale, mode, distribution):
    init = cls(seed=5)
    assert (init.scale, init.mode, init.distribution) == (scale, mode, distribution)
    reference = I.VarianceScaling(scale=scale, mode=mode, distribution=distribution, seed=5)
    shape = (3, 3, 16, 32)
    np.testing.assert_array_equal(init(shape).numpy(), reference(shape).numpy())
    values = cls(seed=6)((40, 30, 16, 32)).numpy()
    n = 40 * 30 * 16 if mode == "fan_in" else 40 * 30 * (16 + 32) / 2
    kurtosis = truncated_kurtosis() if distribution == "truncated_normal" else UNIFORM_KURTOSIS
    assert_moments(values, 0.0, math.sqrt(scale / n), kurtosis)
    assert cls(seed=5).get_config() == {"seed": 5, "input_axes": None, "output_axes": None}


def test_glorot_uniform_limit():
    values = I.GlorotUniform(seed=1)((100, 500)).numpy()
    limit = math.sqrt(6 / 600)
    assert np.abs(values).max() <= limit and np.abs(values).max() > 0.99 * limit


# -- seeds ---------------------------------------------------------------------------------------
def test_seeded_initializers_repeat_their_values():
    for cls in [I.RandomNormal, I.RandomUniform, I.TruncatedNormal, I.GlorotUniform,
                I.Orthogonal]:
        a, b = cls(seed=11), cls(seed=11)
        first = a((4, 3)).numpy()
        np.testing.assert_array_equal(first, a((4, 3)).numpy())
        np.testing.assert_array_equal(first, b((4, 3)).numpy())
        assert not np.array_equal(first, cls(seed=12)((4, 3)).numpy())


def test_unseeded_initializers_draw_their_seed_once_from_python_random():
    init = I.RandomNormal()
    assert isinstance(init.seed, int) and 1 <= init.seed <= 10 ** 9
    np.testing.assert_array_equal(init((5,)).numpy(), init((5,)).numpy())
    assert not np.array_equal(I.RandomNormal()((5,)).numpy(), I.RandomNormal()((5,)).numpy())
    random.seed(1234)  # what keras.utils.set_random_seed does, among other things
    first = I.GlorotUniform()((3, 3)).numpy()
    random.seed(1234)
    np.testing.assert_array_equal(first, I.GlorotUniform()((3, 3)).numpy())
    assert I.RandomNormal().get_config()["seed"] is None


def test_seed_argument_checked():
    with pytest.raises(ValueError, match="`seed` argument should be an instance of "
                                         r"`keras.random.SeedGenerator\(\)` or an integer. "
                                         "Received: seed=a"):
        I.RandomNormal(seed="a")


def test_a_seed_generator_gives_new_values_at_each_call():
    class Generator:  # what keras.random.SeedGenerator offers
        def __init__(self):
            self.count = 0

        def next(self):
            self.count += 1
            return tf.constant([7, self.count], tf.int64)
    init = I.RandomNormal(seed=Generator())
    assert not np.array_equal(init((4,)).numpy(), init((4,)).numpy())


# -- dtypes --------------------------------------------------------------------------------------
def test_dtype_defaults_to_floatx():
    assert I.RandomNormal(seed=1)((2,)).dtype == tf.float32
    assert I.Zeros()((2,), dtype="int32").dtype == tf.int32
    assert I.GlorotNormal(seed=1)((2, 2), dtype=tf.float64).dtype == tf.float64
    backend_config.set_floatx("float64")
    try:
        for init in [I.Zeros(), I.Ones(), I.Constant(2.0), I.Identity(), I.HeUniform(seed=1),
                     I.Orthogonal(seed=1), I.RandomUniform(seed=1)]:
            assert init((2, 2)).dtype == tf.float64
    finally:
        backend_config.set_floatx("float32")


# -- constant initializers -----------------------------------------------------------------------
def test_constant_zeros_ones():
    np.testing.assert_array_equal(I.Zeros()((2, 3)).numpy(), np.zeros((2, 3)))
    np.testing.assert_array_equal(I.Ones()(tf.TensorShape([3])).numpy(), np.ones(3))
    np.testing.assert_array_equal(I.Constant(2.5)((2, 2)).numpy(), np.full((2, 2), 2.5))
    np.testing.assert_array_equal(I.Constant(3)((2,), dtype="int32").numpy(), [3, 3])
    np.testing.assert_array_equal(I.Constant([1.0, 2.0])((3, 2)).numpy(), [[1, 2]] * 3)
    assert I.Constant(0.5)((2,), dtype="float64").numpy().dtype == np.float64


def test_identity():
    np.testing.assert_array_equal(I.Identity(gain=2.0)((2, 3)).numpy(),
                                  [[2, 0, 0], [0, 2, 0]])
    with pytest.raises(ValueError, match=r"Identity matrix initializer can only be used for 2D "
                                         r"matrices. Received: shape=\(3, 3, 3\) of rank 3."):
        I.Identity()((3, 3, 3))


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (5, 5), (3, 3, 4, 8), (2, 2, 8, 3)])
def test_orthogonal(shape):
    q = I.Orthogonal(gain=1.5, seed=9)(shape, dtype="float64").numpy()
    assert q.shape == shape
    flat = q.reshape(-1, shape[-1]) / 1.5
    rows, cols = flat.shape
    gram = flat.T @ flat if rows >= cols else flat @ flat.T
    np.testing.assert_allclose(gram, np.eye(min(rows, cols)), atol=1e-12)


def test_orthogonal_needs_two_dimensions():
    with pytest.raises(ValueError, match=r"The tensor to initialize must be at least "
                                         r"two-dimensional. Received: shape=\(3,\) of rank 1."):
        I.Orthogonal()((3,))


@pytest.mark.parametrize("window, periodic, oracle", [
    ("hann", False, np.hanning(8)), ("hann", True, np.hanning(9)[:8]),
    ("hamming", False, np.hamming(8)), ("blackman", False, np.blackman(8)),
    ("bartlett", False, np.bartlett(8)), ("boxcar", False, np.ones(8))])
@pytest.mark.parametrize("side", ["real", "imag"])
def test_stft_kernel(window, periodic, oracle, side):
    frames, channels, bins = 8, 1, 5  # Keras's kernel always has one input channel
    kernel = I.STFT(side=side, window=window, periodic=periodic)(
        (frames, channels, bins), dtype="float64").numpy()
    t = np.arange(frames)[:, None]
    f = np.arange(bins)[None, :]
    angle = -2 * np.pi * t * f / (2 * (bins - 1))
    wave = np.cos(angle) if side == "real" else np.sin(angle)
    expected = wave * oracle[:, None] / np.sqrt(np.sum(oracle ** 2))
    assert kernel.shape == (frames, channels, bins)
    for c in range(channels):
        np.testing.assert_allclose(kernel[:, c, :], expected, atol=1e-12)


def test_stft_scalings_and_arguments():
    shape = (6, 1, 4)
    raw = I.STFT(window=None)(shape, dtype="float64").numpy()
    hann = np.hanning(6)[:, None, None]
    np.testing.assert_allclose(I.STFT(scaling=None)(shape, dtype="float64").numpy(), raw * hann,
                               atol=1e-12)
    np.testing.assert_allclose(I.STFT(scaling="spectrum")(shape, dtype="float64").numpy(),
                               raw * hann / hann.sum(), atol=1e-12)
    with pytest.raises(ValueError, match="side should be 'real' or 'imag', not x"):
        I.STFT(side="x")
    with pytest.raises(ValueError, match="Unknown window type."):
        I.STFT(window="nope")
    with pytest.raises(ValueError, match="Scaling is invalid"):
        I.STFT(scaling="x")


# -- get / serialize / deserialize ---------------------------------------------------------------
def test_get_names():
    expected = {
        "glorot_uniform": I.GlorotUniform, "GlorotUniform": I.GlorotUniform,
        "glorot_normal": I.GlorotNormal, "he_normal": I.HeNormal, "he_uniform": I.HeUniform,
        "lecun_normal": I.LecunNormal, "lecun_uniform": I.LecunUniform, "zeros": I.Zeros,
        "zero": I.Zeros, "ones": I.Ones, "one": I.Ones, "random_normal": I.RandomNormal,
        "normal": I.RandomNormal, "random_uniform": I.RandomUniform,
        "uniform": I.RandomUniform, "truncated_normal": I.TruncatedNormal,
        "variance_scaling": I.VarianceScaling, "orthogonal": I.Orthogonal,
        "OrthogonalInitializer": I.Orthogonal, "identity": I.Identity,
        "IdentityInitializer": I.Identity, "stft": I.STFT, "STFTInitializer": I.STFT,
        "initializer": I.Initializer}
    for name, cls in expected.items():
        assert type(I.get(name)) is cls, name
    assert I.glorot_uniform is I.GlorotUniform and I.zeros is I.Zeros


def test_get_other_identifiers():
    assert I.get(None) is None
    assert type(I.get(I.HeNormal)) is I.HeNormal
    init = I.Ones()
    assert I.get(init) is init

    def my_glorot_initializer(shape, dtype=tf.float32):
        stddev = tf.sqrt(2. / (shape[0] + shape[1]))
        return tf.random.normal(shape, stddev=stddev, dtype=dtype)
    assert I.get(my_glorot_initializer) is my_glorot_initializer
    assert I.get(tf.random_normal_initializer()) is not None
    direct = I.get(np.arange(4.0).reshape(2, 2))
    np.testing.assert_array_equal(direct((2, 2), dtype="float32").numpy(), [[0, 1], [2, 3]])
    with pytest.raises(ValueError, match=r"Expected `shape` to be \(2, 2\) for direct tensor as "
                                         r"initializer. Received shape=\(3, 2\)"):
        direct((3, 2))
    for bad in ["foo", 3, {"class_name": "Foo", "config": {}}]:
        with pytest.raises(ValueError, match="^Could not interpret initializer identifier: "):
            I.get(bad)
    assert type(I.get({"class_name": "RandomNormal", "config": {"stddev": 2.0}})) is \
        I.RandomNormal


KERAS_DICTS = [
    (I.Zeros(), {"module": "keras.initializers", "class_name": "Zeros", "config": {},
                 "registered_name": None}),
    (I.Constant(2), {"module": "keras.initializers", "class_name": "Constant",
                     "config": {"value": 2}, "registered_name": None}),
    (I.RandomNormal(seed=1), {"module": "keras.initializers", "class_name": "RandomNormal",
                              "config": {"seed": 1, "mean": 0.0, "stddev": 0.05},
                              "registered_name": None}),
    (I.RandomUniform(), {"module": "keras.initializers", "class_name": "RandomUniform",
                         "config": {"seed": None, "minval": -0.05, "maxval": 0.05},
                         "registered_name": None}),
    (I.TruncatedNormal(), {"module": "keras.initializers", "class_name": "TruncatedNormal",
                           "config": {"seed": None, "mean": 0.0, "stddev": 0.05},
                           "registered_name": None}),
    (I.GlorotUniform(seed=3), {"module": "keras.initializers", "class_name": "GlorotUniform",
                               "config": {"seed": 3, "input_axes": None, "output_axes": None},
                               "registered_name": None}),
    (I.VarianceScaling(), {"module": "keras.initializers", "class_name": "VarianceScaling",
                           "config": {"seed": None, "scale": 1.0, "mode": "fan_in",
                                      "distribution": "truncated_normal", "input_axes": None,
                                      "output_axes": None}, "registered_name": None}),
    (I.Orthogonal(), {"module": "keras.initializers", "class_name": "Orthogonal",
                      "config": {"seed": None, "gain": 1.0}, "registered_name": None}),
    (I.Identity(gain=3.0), {"module": "keras.initializers", "class_name": "Identity",
                            "config": {}, "registered_name": None}),
    (I.HeNormal(), {"module": "keras.initializers", "class_name": "HeNormal",
                    "config": {"seed": None, "input_axes": None, "output_axes": None},
                    "registered_name": None}),
    (I.STFT(), {"module": "keras.initializers", "class_name": "STFT",
                "config": {"side": "real", "window": "hann", "periodic": False,
                           "scaling": "density"}, "registered_name": None}),
]


@pytest.mark.parametrize("init, expected", KERAS_DICTS,
                         ids=[type(i).__name__ for i, _ in KERAS_DICTS])
def test_serialize_gives_keras_dicts_and_round_trips(init, expected):
    assert I.serialize(init) == expected
    again = I.deserialize(expected)
    assert type(again) is type(init)
    assert again.get_config() == init.get_config()
    assert type(init).from_config(init.get_config()).get_config() == init.get_config()
    assert init.clone().get_config() == init.get_config()


def test_deserialize_names_and_custom_classes():
    assert type(I.deserialize("he_uniform")) is I.HeUniform
    assert I.deserialize("foo") == "foo"  # Keras 3 hands an unknown name back; get() raises
    with pytest.raises(ValueError, match="Could not interpret initializer identifier: foo"):
        I.get("foo")

    class MyInit(I.Initializer):
        def __init__(self, value=1.0):
            self.value = value

        def __call__(self, shape, dtype=None):
            return tf.fill(shape, self.value)

        def get_config(self):
            return {"value": self.value}
    config = I.serialize(MyInit(4.0))
    assert config["class_name"] == "MyInit" and config["config"] == {"value": 4.0}
    again = I.deserialize(config, custom_objects={"MyInit": MyInit})
    assert type(again) is MyInit and again.value == 4.0


def test_base_initializer():
    with pytest.raises(NotImplementedError, match="Initializer subclasses must implement the "
                                                  r"`__call__\(\)` method."):
        I.Initializer()((2,))
    assert I.Initializer().get_config() == {}
