"""Graph passes: each pass fires on a small graph and leaves results as the eager run gives them."""
import tracemalloc

import numpy as np
import pytest

import tensorweave as tf
from tensorweave.function import passes

RNG = np.random.default_rng(7)


def graph_of(fn, *args, jit=False):
    """The traced ConcreteFunction of fn for args (no AutoGraph: plain tracing)."""
    return tf.function(fn, autograph=False, jit_compile=jit).get_concrete_function(*args)


def types(graph):
    return [n.type for n in graph.nodes]


def count(graph, op_type):
    return types(graph).count(op_type)


def optimized(fn, *args, jit=False):
    concrete = graph_of(fn, *args, jit=jit)
    return concrete, passes.optimize(concrete.graph, jit_compile=jit)


def run_both(fn, *args, jit=False):
    """fn run eagerly and as a compiled tf.function, as NumPy values."""
    eager = fn(*args)
    compiled = tf.function(fn, autograph=False, jit_compile=jit)(*args)
    return numpy_of(eager), numpy_of(compiled)


def numpy_of(value):
    if isinstance(value, (tuple, list)):
        return [v.numpy() for v in value]
    return value.numpy()


def assert_same(a, b, exact=True):
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    if exact:
        np.testing.assert_array_equal(a, b)
    else:
        np.testing.assert_allclose(a, b, rtol=2e-6 if a.dtype == np.float32 else 1e-12)


def rand(shape, dtype=np.float32):
    if np.dtype(dtype).kind in "iu":
        return RNG.integers(-50, 50, size=shape).astype(dtype)
    return RNG.normal(size=shape).astype(dtype)


# -- the traced graph is left alone --------------------------------------------------------------
def test_optimize_returns_a_copy_and_compiles_it():
    def f(x):
        return tf.identity(x * 1.0) + tf.constant(2.0) * tf.constant(3.0)
    concrete = graph_of(f, tf.constant([1.0, 2.0]))
    before = concrete.graph.dump()
    out = concrete(tf.constant([1.0, 2.0]))
    np.testing.assert_array_equal(out.numpy(), [7.0, 8.0])
    assert concrete.graph.dump() == before
    compiled = concrete.executable().graph
    assert compiled is not concrete.graph
    assert types(compiled) == ["Placeholder", "Const", "AddV2"]


# -- 1. pruning --------------------------------------------------------------------------------
def test_prune_drops_unused_work_and_unused_reads_but_keeps_writes():
    v = tf.Variable([1.0, 2.0])
    w = tf.Variable(5.0)

    def f(x):
        tf.exp(x) * 3.0  # dead code the pass removes
        w.read_value()  # a read nobody uses
        v.assign_add(x)
        tf.random.uniform([2])  # stateful: drawn even though unused
        return x * 2.0
    concrete = graph_of(f, tf.constant([1.0, 1.0]))
    g = passes.copy_graph(concrete.graph)
    removed = passes.prune(g)
    assert removed == 4  # Exp, its Mul and constant, the read of w
    assert count(g, "Exp") == 0 and count(g, "ReadVariableOp") == 0
    assert count(g, "AssignAddVariableOp") == 1 and count(g, "RandomUniform") == 1
    assert count(concrete.graph, "Exp") == 1  # the traced graph is unchanged
    v.assign([1.0, 2.0])
    np.testing.assert_array_equal(concrete(tf.constant([1.0, 1.0])).numpy(), [2.0, 2.0])
    np.testing.assert_array_equal(v.numpy(), [2.0, 3.0])


def test_prune_keeps_unused_placeholders():
    concrete, g = optimized(lambda x, y: x + 1, tf.constant(1), tf.constant(2))
    assert count(g, "Placeholder") == 2
    assert concrete(tf.constant(1), tf.constant(2)).numpy() == 2


# -- 2. constant folding -------------------------------------------------------------------------
def test_constant_subexpressions_fold():
    def f(x):
        scale = tf.sqrt(tf.constant(4.0)) * tf.constant(3.0)
        return x * scale
    concrete, g = optimized(f, tf.constant([1.0, 2.0]))
    assert types(g) == ["Placeholder", "Const", "Mul"]
    assert types(concrete.graph).count("Const") >= 2
    eager, compiled = run_both(f, tf.constant([1.0, 2.0]))
    assert_same(eager, compiled)


def test_folding_skips_big_results_and_leaves_errors_to_run_time():
    def big(x):
        return tf.ones([400, 400]) * 2.0 + x
    concrete, g = optimized(big, tf.constant(1.0))
    assert count(g, "Mul") == 1  # 160000 elements: not folded into the graph
    assert_same(*run_both(big, tf.constant(1.0)))

    def bad(x):
        return tf.math.floordiv(tf.constant(1), tf.constant(0)) + x
    concrete, g = optimized(bad, tf.constant(1))
    assert count(g, "FloorDiv") == 1
    with pytest.raises(tf.errors.InvalidArgumentError, match="division by zero"):
        concrete(tf.constant(1))


def test_folding_is_exact_for_several_dtypes():
    for dtype in (tf.float16, tf.float64, tf.int32, tf.uint8, tf.bool):
        def f(x):
            c = tf.cast(tf.constant([3, 0, 1]), dtype)
            return tf.stack([c, x])
        x = tf.cast(tf.constant([1, 1, 0]), dtype)
        concrete, g = optimized(f, x)
        assert count(g, "Cast") == 0
        assert_same(*run_both(f, x))


# -- 3. common subexpressions ------------------------------------------------------------------
def test_equal_expressions_merge_with_their_constants():
    def f(x):
        return tf.exp(x * 2.0) + tf.exp(x * 2.0)
    concrete, g = optimized(f, tf.constant([0.5, 1.5]))
    assert count(concrete.graph, "Mul") == 2 and count(concrete.graph, "Exp") == 2
    assert count(g, "Mul") == 1 and count(g, "Exp") == 1 and count(g, "Const") == 1
    assert_same(*run_both(f, tf.constant([0.5, 1.5])))


def test_different_attrs_or_stateful_ops_do_not_merge():
    def f(x):
        return (tf.reduce_sum(x, axis=0), tf.reduce_sum(x, axis=1), tf.cast(x, tf.float64),
                tf.cast(x, tf.int32), tf.nn.leaky_relu(x, 0.2), tf.nn.leaky_relu(x, 0.3),
                tf.random.uniform([2]), tf.random.uniform([2]))
    concrete, g = optimized(f, tf.constant(rand((2, 2))))
    assert count(g, "Sum") == 2 and count(g, "Cast") == 2 and count(g, "LeakyRelu") == 2
    assert count(g, "RandomUniform") == 2
    out = concrete(tf.constant(rand((2, 2))))
    assert not np.array_equal(out[6].numpy(), out[7].numpy())


def test_attr_keys_compare_values_carefully():
    key = passes._attr_key
    assert key(0.0) != key(-0.0)
    assert key(1) != key(True) and key(1) != key(1.0)
    assert key((1, 2)) == key((1, 2)) and key((1, 2)) != key([1, 2])
    assert key(np.array([1, 2], np.int32)) == key(np.array([1, 2], np.int32))
    assert key(np.array([1, 2], np.int32)) != key(np.array([1, 2], np.int64))
    assert key(np.array([1, 2])) != key(np.array([[1, 2]]))
    assert key(tf.float32) == key(tf.float32) and key(tf.float32) != key(tf.float64)
    assert key({"a": 1, "b": 2}) == key({"b": 2, "a": 1})
    strings = np.array([b"a", b"b"], dtype=object)
    assert key(strings) != key(strings.copy())  # object arrays only by identity
    marker = object()
    assert key(marker) == key(marker) and key(marker) != key(object())


def test_variable_reads_merge_only_without_a_write_between():
    v = tf.Variable([1.0, 2.0])
    u = tf.Variable([10.0, 20.0])

    def f(x):
        a = v.read_value() * x
        b = v.read_value() + x  # same value: the reads merge
        u.assign(x)  # a write to another variable does not separate them
        c = v.read_value() - x
        v.assign_add(x)
        d = v.read_value() * 2.0  # after the write: a new read
        return a, b, c, d

    concrete, g = optimized(f, tf.constant([1.0, 1.0]))
    assert count(concrete.graph, "ReadVariableOp") == 4
    assert count(g, "ReadVariableOp") == 2
    v.assign([1.0, 2.0])
    out = [t.numpy() for t in concrete(tf.constant([1.0, 1.0]))]
    v.assign([1.0, 2.0])
    expected = [t.numpy() for t in f(tf.constant([1.0, 1.0]))]
    for a, b in zip(out, expected):
        assert_same(a, b)
    np.testing.assert_array_equal(v.numpy(), [2.0, 3.0])


def test_read_write_sequence_keeps_its_order():
    v = tf.Variable(1.0)

    def f(x):
        first = v.read_value()
        v.assign(x)
        second = v.read_value()
        v.assign_add(x)
        third = v.read_value()
        return first, second, third
    concrete = graph_of(f, tf.constant(5.0))
    for jit in (False, True):
        v.assign(1.0)
        out = [float(t) for t in tf.function(f, autograph=False, jit_compile=jit)(
            tf.constant(5.0))]
        assert out == [1.0, 5.0, 10.0] and float(v) == 10.0
    assert count(passes.optimize(concrete.graph), "ReadVariableOp") == 3


# -- 4. algebraic simplification ---------------------------------------------------------------
def test_exact_identities_are_removed():
    def f(x):
        y = tf.identity(tf.stop_gradient(x * 1.0))
        y = -(-y)
        y = y / 1.0 - 0.0
        y = tf.cast(y, tf.float32)
        return tf.reshape(y, [2, 3])
    x = tf.constant(rand((2, 3)))
    concrete, g = optimized(f, x)
    assert types(g) == ["Placeholder"]
    assert g.outputs[0] is g.inputs[0]
    assert_same(*run_both(f, x))


def test_rewrites_that_would_change_shape_dtype_or_sign_are_kept():
    def broadcasting(x):
        return x * tf.ones([3, 3])  # x * 1 of a bigger shape broadcasts
    concrete, g = optimized(broadcasting, tf.constant([1.0, 2.0, 3.0]))
    assert count(g, "Mul") == 1
    assert_same(*run_both(broadcasting, tf.constant([1.0, 2.0, 3.0])))

    def plus_zero(x):
        return x + 0.0  # -0.0 + 0.0 is +0.0
    x = tf.constant([-0.0, 1.0])
    concrete, g = optimized(plus_zero, x)
    assert count(g, "AddV2") == 1
    assert np.signbit(concrete(x).numpy()[0]) == np.signbit(plus_zero(x).numpy()[0])

    def minus_zero(x):
        return x - 0.0  # exact, -0.0 included
    concrete, g = optimized(minus_zero, x)
    assert count(g, "Sub") == 0
    assert np.signbit(concrete(x).numpy()[0])

    def int_plus_zero(x):
        return x + 0
    concrete, g = optimized(int_plus_zero, tf.constant([1, 2]))
    assert count(g, "AddV2") == 0


def test_reshapes_and_static_shapes():
    def f(x):
        y = tf.reshape(tf.reshape(x, [6]), [3, 2])
        return y, tf.shape(x), tf.size(x), tf.rank(x)
    x = tf.constant(rand((2, 3)))
    concrete, g = optimized(f, x)
    assert count(g, "Reshape") == 1 and count(g, "Shape") == 0 and count(g, "Size") == 0
    reshape = next(n for n in g.nodes if n.type == "Reshape")
    assert reshape.inputs[0] is g.inputs[0]
    eager, compiled = run_both(f, x)
    for a, b in zip(eager, compiled):
        assert_same(a, b)


def test_dynamic_shapes_are_not_assumed():
    f = tf.function(lambda x: (tf.shape(x), tf.reshape(x, [-1])), autograph=False,
                    input_signature=[tf.TensorSpec([None, 2], tf.float32)])
    g = passes.optimize(f.get_concrete_function().graph)
    assert count(g, "Shape") == 1
    shape, flat = f(tf.constant(rand((3, 2))))
    np.testing.assert_array_equal(shape.numpy(), [3, 2])
    assert flat.shape == (6,)


# -- 5. fusion -----------------------------------------------------------------------------------
def seed_expression(a, b, c):
    return tf.reduce_sum(a * b + c)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32])
def test_seed_reduce_sum_fuses_into_one_node(dtype):
    a, b, c = (tf.constant(rand((4, 5), dtype)) for _ in range(3))
    concrete, g = optimized(seed_expression, a, b, c, jit=True)
    assert types(g) == ["Placeholder"] * 3 + ["FusedElementwise"]
    assert passes.optimize(concrete.graph).nodes[-1].type == "Sum"  # without jit: no fusion
    assert_same(*run_both(seed_expression, a, b, c, jit=True))


def mixed(x, y):
    z = tf.tanh(x * 0.5 + y) - tf.exp(-tf.abs(x))
    z = tf.where(z > 0.1, tf.sqrt(tf.square(z)), tf.nn.relu(z) * y)
    z = tf.maximum(tf.minimum(z, 3.0), -1.0) / 2.0
    return tf.cast(tf.sigmoid(z) * tf.nn.leaky_relu(y, 0.1), tf.float64)


@pytest.mark.parametrize("shapes", [((4, 5), (4, 5)), ((3, 1), (1, 4)), ((), (6,)),
                                    ((2, 3, 4), (4,)), ((), ())])
def test_fused_results_equal_eager_with_broadcasting(shapes):
    x, y = (tf.constant(rand(s)) for s in shapes)
    concrete, g = optimized(mixed, x, y, jit=True)
    assert types(g) == ["Placeholder", "Placeholder", "FusedElementwise"]
    assert_same(*run_both(mixed, x, y, jit=True), exact=False)


def test_intermediates_used_elsewhere_are_not_fused_into_a_tree():
    def f(x):
        shared = tf.exp(x) + 1.0
        return shared * 2.0, tf.reduce_max(shared - x), shared
    x = tf.constant(rand((3, 4)))
    concrete, g = optimized(f, x, jit=True)
    # `shared` is an output: its tree is one kernel, the two users another each
    assert count(g, "FusedElementwise") == 2 and count(g, "Mul") == 1
    eager, compiled = run_both(f, x, jit=True)
    for a, b in zip(eager, compiled):
        assert_same(a, b)


def test_small_static_kernels_are_inline_ufunc_calls_in_place():
    concrete = graph_of(mixed, tf.constant(rand((4, 5))), tf.constant(rand((4, 5))), jit=True)
    source = concrete.executable().source
    assert "out=" in source and "kernel=" not in source


@pytest.mark.parametrize("reduce", [tf.reduce_sum, tf.reduce_mean, tf.reduce_max, tf.reduce_min])
@pytest.mark.parametrize("keepdims", [False, True])
def test_large_fused_reductions_match(reduce, keepdims):
    n = passes.BLOCK * 3 + 17
    a, b, c = (tf.constant(rand((n,))) for _ in range(3))

    def f(a, b, c):
        return reduce(tf.tanh(a * b) + c, keepdims=keepdims)
    eager, compiled = run_both(f, a, b, c, jit=True)
    assert eager.dtype == compiled.dtype and eager.shape == compiled.shape
    # blocks add in another order: the float32 rounding bound of a sum, relative to sum |terms|
    terms = np.abs(np.tanh(a.numpy().astype(np.float64) * b.numpy()) + c.numpy())
    scale = terms.mean() if reduce is tf.reduce_mean else terms.sum()
    bound = 0 if reduce in (tf.reduce_max, tf.reduce_min) else 2 * np.log2(n) * 6e-8 * scale
    np.testing.assert_allclose(compiled, eager, rtol=0, atol=bound)


def test_large_fused_elementwise_by_rows_and_with_unknown_shapes():
    x = tf.constant(rand((700, 300)))
    bias = tf.constant(rand((300,)))
    column = tf.constant(rand((700, 1)))

    def f(x, bias, column):
        return tf.nn.relu(x * column + bias) - tf.exp(bias)
    assert_same(*run_both(f, x, bias, column, jit=True), exact=False)
    transposed = tf.transpose(tf.constant(rand((300, 700))))  # not contiguous: by rows
    assert_same(*run_both(f, transposed, bias, column, jit=True), exact=False)
    unknown = tf.function(f, autograph=False, jit_compile=True, input_signature=[
        tf.TensorSpec([None, None]), tf.TensorSpec([None]), tf.TensorSpec([None, 1])])
    assert_same(f(x, bias, column).numpy(), unknown(x, bias, column).numpy(), exact=False)


def test_fused_kernel_allocates_no_full_size_temporary():
    n = 1_000_000
    a, b, c = (tf.constant(rand((n,))) for _ in range(3))
    fused = tf.function(seed_expression, autograph=False, jit_compile=True)
    plain = tf.function(seed_expression, autograph=False)
    peaks = []
    for fn in (plain, fused):
        fn(a, b, c)
        tracemalloc.start()
        fn(a, b, c)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert peaks[0] >= 2 * 4 * n  # a*b and a*b+c
    assert peaks[1] < 4 * n / 4
    np.testing.assert_allclose(float(fused(a, b, c)), float(plain(a, b, c)), rtol=1e-5)


def test_errors_inside_a_fused_kernel_are_raised():
    def f(x, y):
        return tf.math.floordiv(x * 2, y) + 1
    fused = tf.function(f, autograph=False, jit_compile=True)
    np.testing.assert_array_equal(fused(tf.constant([4, 6]), tf.constant([3, 5])).numpy(), [3, 3])
    with pytest.raises(tf.errors.InvalidArgumentError):
        fused(tf.constant([4, 6]), tf.constant([3, 0]))


class _PythonNumexpr:
    """numexpr's evaluate for the expressions the passes write, computed with NumPy (so the
    numexpr path is tested where numexpr is not installed)."""

    def __init__(self):
        self.calls = 0

    def get_num_threads(self):
        return 8

    def evaluate(self, text, local_dict, out):
        self.calls += 1
        names = dict(local_dict, where=np.where, maximum=np.maximum, minimum=np.minimum,
                     exp=np.exp, tanh=np.tanh, sqrt=np.sqrt, abs=np.abs, log=np.log)
        with np.errstate(all="ignore"):
            out[...] = eval(text, {"__builtins__": {}}, names)
        return out


def _numexpr_backends():
    backends = [_PythonNumexpr()]
    if passes.NUMEXPR is not None:
        backends.append(passes.NUMEXPR)
    return backends


@pytest.mark.parametrize("backend", _numexpr_backends(), ids=lambda b: type(b).__name__)
def test_numexpr_path_matches(monkeypatch, backend):
    monkeypatch.setattr(passes, "NUMEXPR", backend)
    monkeypatch.setattr(passes, "NUMEXPR_MIN_SIZE", 1000)
    monkeypatch.setattr(passes, "NUMEXPR_MIN_THREADS", 1)
    monkeypatch.setattr(passes, "NUMEXPR_BLOCK", 4096)
    monkeypatch.setattr(passes, "INLINE_LIMIT", 0)

    def f(a, b, c):
        z = tf.where(a > b, tf.maximum(a, c), tf.tanh(a * b) - c)
        return z, tf.reduce_sum(tf.sqrt(tf.abs(a)) * b + c), tf.reduce_mean(a - b / 3.0)
    a, b, c = (tf.constant(rand((100, 99))) for _ in range(3))
    eager, compiled = run_both(f, a, b, c, jit=True)
    for x, y in zip(eager, compiled):
        assert x.dtype == y.dtype and x.shape == y.shape
    # numexpr's tanh may round differently: one float32 ulp of a result of size ~1, before
    # `- c` cancels; the sums add blocks in another order
    np.testing.assert_allclose(compiled[0], eager[0], rtol=2e-6, atol=1.2e-7)
    np.testing.assert_allclose(compiled[1], eager[1], rtol=1e-5)
    np.testing.assert_allclose(compiled[2], eager[2], rtol=0, atol=1e-6)
    if isinstance(backend, _PythonNumexpr):
        assert backend.calls >= 3


def test_numpy_fallback_without_numexpr(monkeypatch):
    monkeypatch.setattr(passes, "NUMEXPR", None)
    monkeypatch.setattr(passes, "NUMEXPR_MIN_SIZE", 1)
    n = passes.BLOCK * 2 + 5
    a, b, c = (tf.constant(rand((n,))) for _ in range(3))
    assert_same(*run_both(seed_expression, a, b, c, jit=True), exact=False)
    assert_same(*run_both(lambda a, b, c: a * b + c, a, b, c, jit=True))


def test_gradients_under_a_tape_still_use_the_traced_graph():
    x = tf.Variable(rand((3,)))
    f = tf.function(lambda: tf.reduce_sum(tf.exp(x * 2.0) * 1.0), autograph=False,
                    jit_compile=True)
    with tf.GradientTape() as tape:
        y = f()
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), 2 * np.exp(2 * x.numpy()),
                               rtol=1e-6)
