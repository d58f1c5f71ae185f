"""tf.train.Checkpoint: round trips of values (NumPy as the oracle), the object graph's names,
the status assertions, deferred restoration into layers and optimizers created later, optimizer
slots, atomic saves, and errors that leave every variable as it was."""
import json
import os

import numpy as np
import pytest

import tensorweave as tf
from tensorweave import keras
from tensorweave.checkpoint import format as fmt
from tensorweave.checkpoint import deferred
from tensorweave.errors import DataLossError, InvalidArgumentError, NotFoundError

RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _no_waiting_restorations():
    yield
    deferred.active.clear()  # a test's unfinished restorations do not reach the next test


def _files(directory):
    return sorted(os.listdir(directory))


# -- values ---------------------------------------------------------------------------------------
def test_values_of_every_dtype_round_trip(tmp_path):
    values = {
        "f32": RNG.normal(size=(3, 4)).astype(np.float32),
        "f64": RNG.normal(size=(2,)),
        "f16": RNG.normal(size=(5,)).astype(np.float16),
        "i64": np.array(-7, dtype=np.int64),
        "i8": np.array([[1, -2], [3, 4]], dtype=np.int8),
        "u16": np.array([1, 65535], dtype=np.uint16),
        "b": np.array([True, False, True]),
        "c64": (RNG.normal(size=3) + 1j * RNG.normal(size=3)).astype(np.complex64),
        "empty": np.zeros((0, 3), np.float32),
    }
    variables = {k: tf.Variable(v) for k, v in values.items()}
    variables["s"] = tf.Variable([b"ab", b"", "\u00e9".encode("utf-8")])
    variables["s0"] = tf.Variable(b"hello")
    prefix = tf.train.Checkpoint(**variables).write(str(tmp_path / "v"))
    fresh = {k: tf.Variable(np.zeros_like(v)) for k, v in values.items()}
    fresh["s"] = tf.Variable([b"", b"", b""])
    fresh["s0"] = tf.Variable(b"")
    tf.train.Checkpoint(**fresh).read(prefix).assert_consumed()
    for key, value in values.items():
        got = fresh[key].numpy()
        assert np.asarray(got).dtype == value.dtype
        np.testing.assert_array_equal(got, value)
    assert list(fresh["s"].numpy()) == [b"ab", b"", "\u00e9".encode("utf-8")]
    assert fresh["s0"].numpy() == b"hello"


def test_the_files_are_json_and_raw_little_endian_bytes(tmp_path):
    value = np.arange(6, dtype=np.float32).reshape(2, 3)
    prefix = tf.train.Checkpoint(w=tf.Variable(value)).write(str(tmp_path / "x"))
    assert prefix == str(tmp_path / "x")
    assert _files(tmp_path) == ["x.data-00000-of-00001", "x.index"]  # no state file
    index = json.loads((tmp_path / "x.index").read_text())
    entry = index["tensors"]["w/.ATTRIBUTES/VARIABLE_VALUE"]
    assert entry["dtype"] == "float32" and entry["shape"] == [2, 3]
    data = (tmp_path / "x.data-00000-of-00001").read_bytes()
    raw = data[entry["offset"]:entry["offset"] + entry["size"]]
    np.testing.assert_array_equal(np.frombuffer(raw, "<f4").reshape(2, 3), value)
    assert index["object_graph"][0]["children"] == [["w", 1]]
    assert b"pickle" not in data and index["format"] == "tensorweave.checkpoint"


def test_save_numbers_prefixes_and_writes_the_state_file(tmp_path):
    v = tf.Variable(1.0)
    ckpt = tf.train.Checkpoint(v=v)
    assert ckpt.save(str(tmp_path / "c")) == str(tmp_path / "c-1")
    v.assign(2.0)
    assert ckpt.save(tmp_path / "c") == str(tmp_path / "c-2")
    assert int(ckpt.save_counter.numpy()) == 2
    assert ckpt.save_counter.dtype == tf.int64 and not ckpt.save_counter.trainable
    assert (tmp_path / "checkpoint").read_text() == ('model_checkpoint_path: "c-2"\n'
                                                     'all_model_checkpoint_paths: "c-2"\n')
    assert tf.train.latest_checkpoint(str(tmp_path)) == str(tmp_path / "c-2")
    state = tf.train.get_checkpoint_state(str(tmp_path))
    assert state.model_checkpoint_path == str(tmp_path / "c-2")
    assert state.all_model_checkpoint_paths == [str(tmp_path / "c-2")]
    # each checkpoint keeps its own values and counter
    assert tf.train.load_variable(str(tmp_path / "c-1"), "v/.ATTRIBUTES/VARIABLE_VALUE") == 1.0
    other = tf.train.Checkpoint(v=tf.Variable(0.0))
    other.restore(str(tmp_path / "c-1")).assert_consumed()
    assert other.v.numpy() == 1.0 and int(other.save_counter.numpy()) == 1
    assert other.save(str(tmp_path / "d")) == str(tmp_path / "d-2")


def test_latest_checkpoint_without_state_or_checkpoint(tmp_path):
    assert tf.train.latest_checkpoint(str(tmp_path)) is None
    assert tf.train.latest_checkpoint(str(tmp_path / "missing")) is None
    assert tf.train.get_checkpoint_state(str(tmp_path)) is None
    (tmp_path / "checkpoint").write_text('model_checkpoint_path: "gone-3"\n')
    assert tf.train.latest_checkpoint(str(tmp_path)) is None  # the state names a missing one
    ckpt = tf.train.Checkpoint(v=tf.Variable(1.0))
    ckpt.save(str(tmp_path / "c"))
    (tmp_path / "other").write_text((tmp_path / "checkpoint").read_text())
    assert tf.train.latest_checkpoint(str(tmp_path), "other") == str(tmp_path / "c-1")


def test_write_and_read_leave_the_save_counter_alone(tmp_path):
    ckpt = tf.train.Checkpoint(v=tf.Variable(3.0))
    prefix = ckpt.write(str(tmp_path / "w"))
    assert ckpt._checkpoint_save_counter is None
    names = [k for k, _ in tf.train.list_variables(prefix)]
    assert names == ["_CHECKPOINTABLE_OBJECT_GRAPH", "v/.ATTRIBUTES/VARIABLE_VALUE"]
    # a checkpoint that has a counter: read() does not create one, restore() does
    saved = tf.train.Checkpoint(v=tf.Variable(3.0))
    prefix = saved.save(str(tmp_path / "s"))
    fresh = tf.train.Checkpoint(v=tf.Variable(0.0))
    status = fresh.read(prefix)
    with pytest.raises(AssertionError, match="save_counter"):
        status.assert_consumed()
    status.assert_existing_objects_matched()
    assert int(fresh.save_counter.numpy()) == 1  # made now: it takes the waiting value
    status.assert_consumed()


# -- the object graph -----------------------------------------------------------------------------
def test_structures_attributes_and_root(tmp_path):
    a, b, c, d = (tf.Variable(float(i)) for i in range(4))
    ckpt = tf.train.Checkpoint(lst=[a, (b,)], dct={"k": c})
    ckpt.later = d  # set after construction: tracked
    ckpt.note = 3  # not trackable: an ordinary attribute
    prefix = ckpt.write(str(tmp_path / "s"))
    keys = [k for k, _ in tf.train.list_variables(prefix)]
    assert keys == ["_CHECKPOINTABLE_OBJECT_GRAPH", "dct/k/.ATTRIBUTES/VARIABLE_VALUE",
                    "later/.ATTRIBUTES/VARIABLE_VALUE", "lst/0/.ATTRIBUTES/VARIABLE_VALUE",
                    "lst/1/0/.ATTRIBUTES/VARIABLE_VALUE"]
    assert ckpt.note == 3 and ckpt.later is d
    fresh = [tf.Variable(-1.0) for _ in range(4)]
    other = tf.train.Checkpoint(lst=[fresh[0], (fresh[1],)], dct={"k": fresh[2]})
    status = other.read(prefix)
    with pytest.raises(AssertionError, match="later"):
        status.assert_consumed()
    other.later = fresh[3]  # an attribute added after the restore gets its value
    status.assert_consumed()
    assert [v.numpy() for v in fresh] == [0.0, 1.0, 2.0, 3.0]


def test_root_object_and_nested_checkpoints(tmp_path):
    class Holder:
        def __init__(self):
            self.w = tf.Variable([1.0, 2.0])
            self.name = "not state"

    holder = Holder()
    inner = tf.train.Checkpoint(x=tf.Variable(5))
    ckpt = tf.train.Checkpoint(holder, extra=tf.Variable(1.0), inner=inner)
    prefix = ckpt.save(str(tmp_path / "r"))
    keys = [k for k, _ in tf.train.list_variables(prefix)]
    assert keys == ["_CHECKPOINTABLE_OBJECT_GRAPH", "extra/.ATTRIBUTES/VARIABLE_VALUE",
                    "inner/x/.ATTRIBUTES/VARIABLE_VALUE", "save_counter/.ATTRIBUTES/VARIABLE_VALUE",
                    "w/.ATTRIBUTES/VARIABLE_VALUE"]
    assert not hasattr(holder, "extra")
    other_holder = Holder()
    other_holder.w.assign([0.0, 0.0])
    other = tf.train.Checkpoint(other_holder, extra=tf.Variable(0.0),
                                inner=tf.train.Checkpoint(x=tf.Variable(0)))
    other.restore(prefix).assert_consumed()
    np.testing.assert_array_equal(other_holder.w.numpy(), [1.0, 2.0])
    assert int(other.inner.x.numpy()) == 5


def test_names_with_dots_and_slashes_are_escaped(tmp_path):
    prefix = tf.train.Checkpoint(d={"a/b": tf.Variable(1.0), "c.d": tf.Variable(2.0)}).write(
        str(tmp_path / "e"))
    keys = [k for k, _ in tf.train.list_variables(prefix)]
    assert "d/a.Sb/.ATTRIBUTES/VARIABLE_VALUE" in keys
    assert "d/c..d/.ATTRIBUTES/VARIABLE_VALUE" in keys


def test_what_a_checkpoint_refuses():
    for value in (3, "x", None, np.zeros(2), tf.constant(1.0)):
        with pytest.raises(ValueError, match="was expecting step to be a trackable object"):
            tf.train.Checkpoint(step=value)
    ckpt = tf.train.Checkpoint(d={1: tf.Variable(1.0)})
    with pytest.raises(ValueError, match="non-string key"):
        ckpt.write("/nonexistent-dir-never-written/x")


def test_a_variable_reached_twice_is_saved_once(tmp_path):
    v = tf.Variable([1.0, 2.0])
    prefix = tf.train.Checkpoint(a=v, b=[v]).write(str(tmp_path / "t"))
    keys = [k for k, _ in tf.train.list_variables(prefix)]
    assert keys == ["_CHECKPOINTABLE_OBJECT_GRAPH", "a/.ATTRIBUTES/VARIABLE_VALUE"]
    w = tf.Variable([0.0, 0.0])
    tf.train.Checkpoint(a=w, b=[w]).read(prefix).assert_consumed()
    np.testing.assert_array_equal(w.numpy(), [1.0, 2.0])


# -- statuses -------------------------------------------------------------------------------------
def test_status_assertions(tmp_path):
    prefix = tf.train.Checkpoint(a=tf.Variable([1.0, 2.0]), b=tf.Variable(3.0)).save(
        str(tmp_path / "c"))
    full = tf.train.Checkpoint(a=tf.Variable([0.0, 0.0]), b=tf.Variable(0.0)).restore(prefix)
    assert full.assert_consumed() is full
    assert full.assert_existing_objects_matched() is full
    assert full.assert_nontrivial_match() is full
    assert full.expect_partial() is full and full.run_restore_ops() is None

    partial = tf.train.Checkpoint(a=tf.Variable([0.0, 0.0])).restore(prefix)
    with pytest.raises(AssertionError, match=r"\(root\)\.b"):
        partial.assert_consumed()
    partial.assert_existing_objects_matched()
    partial.assert_nontrivial_match()

    extra = tf.train.Checkpoint(a=tf.Variable([0.0, 0.0]), c=tf.Variable(1.0)).restore(prefix)
    for check in (extra.assert_consumed, extra.assert_existing_objects_matched):
        with pytest.raises(AssertionError, match="Found 1 Python objects that were not bound"):
            check()
    extra.assert_nontrivial_match()

    unrelated = tf.train.Checkpoint(z=tf.Variable(1.0)).read(prefix)
    with pytest.raises(AssertionError, match="Nothing except the root object matched"):
        unrelated.assert_nontrivial_match()
    # restore() creates save_counter, which matches: not trivial any more (as TensorFlow)
    tf.train.Checkpoint(z=tf.Variable(1.0)).restore(prefix).assert_nontrivial_match()


def test_restore_none_is_an_initialization_only_status():
    ckpt = tf.train.Checkpoint(a=tf.Variable(1.0))
    status = ckpt.restore(None)
    for check in (status.assert_consumed, status.assert_existing_objects_matched,
                  status.assert_nontrivial_match):
        with pytest.raises(AssertionError, match="No checkpoint specified"):
            check()
    assert status.expect_partial() is status
    assert status.run_restore_ops() is None
    assert ckpt.a.numpy() == 1.0


# -- errors ---------------------------------------------------------------------------------------
def test_missing_and_damaged_files(tmp_path):
    ckpt = tf.train.Checkpoint(a=tf.Variable(np.arange(4.0)))
    with pytest.raises(NotFoundError, match="Failed to find any matching files"):
        ckpt.restore(str(tmp_path / "nope"))
    with pytest.raises(NotFoundError, match="checkpoint suffix"):
        ckpt.read(str(tmp_path / "nope"))
    with pytest.raises(DataLossError, match="Is a directory"):
        ckpt.restore(str(tmp_path))
    prefix = ckpt.write(str(tmp_path / "d"))
    data = tmp_path / "d.data-00000-of-00001"
    good = data.read_bytes()
    data.write_bytes(good[:-8] + b"\x00" * 8)  # same size, damaged bytes
    target = tf.Variable(np.zeros(4))
    with pytest.raises(DataLossError, match="Checksum does not match"):
        tf.train.Checkpoint(a=target).read(prefix)
    data.write_bytes(good[:-3])
    with pytest.raises(DataLossError, match="truncated"):
        tf.train.Checkpoint(a=target).read(prefix)
    np.testing.assert_array_equal(target.numpy(), np.zeros(4))
    index = json.loads((tmp_path / "d.index").read_text())
    index["object_graph"][0]["children"] = [["a", 7]]
    (tmp_path / "d.index").write_text(json.dumps(index))
    with pytest.raises(DataLossError, match="corrupted"):
        tf.train.Checkpoint(a=target).read(prefix)
    (tmp_path / "d.index").write_bytes(b"\x00\x01not json")
    with pytest.raises(DataLossError, match="not a tensorweave checkpoint"):
        tf.train.Checkpoint(a=target).read(prefix)


def test_a_mismatch_raises_before_any_variable_changes(tmp_path):
    prefix = tf.train.Checkpoint(a=tf.Variable(np.ones((2, 3), np.float32)),
                                 b=tf.Variable(np.ones(2, np.float32))).write(str(tmp_path / "m"))
    a, b = tf.Variable(np.zeros((3, 2), np.float32)), tf.Variable(np.zeros(2, np.float32))
    with pytest.raises(ValueError) as info:
        tf.train.Checkpoint(b=b, a=a).read(prefix)
    message = str(info.value)
    assert "(2, 3)" in message and "(3, 2)" in message
    assert "a/.ATTRIBUTES/VARIABLE_VALUE" in message
    np.testing.assert_array_equal(b.numpy(), np.zeros(2))  # matched fine, still not assigned
    c = tf.Variable(np.zeros(2, np.int32))
    with pytest.raises(InvalidArgumentError, match="expected dtype int32 does not equal "
                                                   "original dtype float"):
        tf.train.Checkpoint(b=c).read(prefix)


def test_a_variable_expected_where_the_program_has_a_layer(tmp_path):
    prefix = tf.train.Checkpoint(a=tf.Variable(1.0)).write(str(tmp_path / "k"))
    with pytest.raises(ValueError, match="holds a variable"):
        tf.train.Checkpoint(a=keras.layers.Dense(2)).read(prefix)


def test_save_and_restore_inside_a_function_raise(tmp_path):
    ckpt = tf.train.Checkpoint(a=tf.Variable(1.0))

    @tf.function
    def save():
        ckpt.save(str(tmp_path / "f"))
        return 1

    @tf.function
    def restore():
        ckpt.restore(str(tmp_path / "f-1"))
        return 1

    with pytest.raises(RuntimeError, match="eagerly"):
        save()
    ckpt.save(str(tmp_path / "f"))
    with pytest.raises(RuntimeError, match="eagerly"):
        restore()


# -- atomicity ------------------------------------------------------------------------------------
def test_an_interrupted_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    a = tf.Variable(np.arange(3.0))
    b = tf.Variable(np.arange(4.0))
    ckpt = tf.train.Checkpoint(a=a, b=b)
    first = ckpt.save(str(tmp_path / "c"))
    state_before = (tmp_path / "checkpoint").read_bytes()
    files_before = _files(tmp_path)
    a.assign([9.0, 9.0, 9.0])
    calls = []
    real = fmt._write_tensor

    def failing(stream, data):
        calls.append(1)
        if len(calls) == 2:
            raise OSError("disk full")
        real(stream, data)

    monkeypatch.setattr(fmt, "_write_tensor", failing)
    with pytest.raises(OSError, match="disk full"):
        ckpt.save(str(tmp_path / "c"))
    assert _files(tmp_path) == files_before  # no partial prefix, no temporary file
    assert (tmp_path / "checkpoint").read_bytes() == state_before
    assert tf.train.latest_checkpoint(str(tmp_path)) == first
    assert int(ckpt.save_counter.numpy()) == 1
    restored = tf.train.Checkpoint(a=tf.Variable(np.zeros(3)), b=tf.Variable(np.zeros(4)))
    restored.restore(first).assert_consumed()
    np.testing.assert_array_equal(restored.a.numpy(), np.arange(3.0))
    monkeypatch.setattr(fmt, "_write_tensor", real)
    assert ckpt.save(str(tmp_path / "c")) == str(tmp_path / "c-2")


def test_an_index_that_cannot_be_written_leaves_no_checkpoint(tmp_path, monkeypatch):
    ckpt = tf.train.Checkpoint(a=tf.Variable(1.0))
    first = ckpt.save(str(tmp_path / "c"))
    real = os.replace

    def failing(source, target):
        if str(target).endswith("c-2.index"):
            raise OSError("interrupted")
        real(source, target)

    monkeypatch.setattr(os, "replace", failing)
    with pytest.raises(OSError, match="interrupted"):
        ckpt.save(str(tmp_path / "c"))
    monkeypatch.setattr(os, "replace", real)
    assert tf.train.latest_checkpoint(str(tmp_path)) == first
    assert not (tmp_path / "c-2.index").exists()
    assert not [f for f in _files(tmp_path) if ".tmp-" in f]


# -- readers --------------------------------------------------------------------------------------
def test_reader_and_load_variable(tmp_path):
    prefix = tf.train.Checkpoint(w=tf.Variable(np.eye(2, dtype=np.float32)),
                                 n=tf.Variable(4, dtype=tf.int64),
                                 s=tf.Variable(b"hi")).write(str(tmp_path / "r"))
    reader = tf.train.load_checkpoint(prefix)
    assert reader.has_tensor("w/.ATTRIBUTES/VARIABLE_VALUE") and not reader.has_tensor("w")
    assert reader.get_variable_to_shape_map() == {
        "w/.ATTRIBUTES/VARIABLE_VALUE": [2, 2], "n/.ATTRIBUTES/VARIABLE_VALUE": [],
        "s/.ATTRIBUTES/VARIABLE_VALUE": [], "_CHECKPOINTABLE_OBJECT_GRAPH": []}
    kinds = reader.get_variable_to_dtype_map()
    assert kinds["w/.ATTRIBUTES/VARIABLE_VALUE"] == tf.float32
    assert kinds["n/.ATTRIBUTES/VARIABLE_VALUE"] == tf.int64
    assert kinds["_CHECKPOINTABLE_OBJECT_GRAPH"] == tf.string
    n = reader.get_tensor("n/.ATTRIBUTES/VARIABLE_VALUE")
    assert type(n) is np.int64 and n == 4
    assert reader.get_tensor("s/.ATTRIBUTES/VARIABLE_VALUE") == b"hi"
    graph = json.loads(reader.get_tensor("_CHECKPOINTABLE_OBJECT_GRAPH"))
    assert [name for name, _ in graph[0]["children"]] == ["w", "n", "s"]
    np.testing.assert_array_equal(tf.train.load_variable(prefix, "w/.ATTRIBUTES/VARIABLE_VALUE:0"),
                                  np.eye(2))
    with pytest.raises(NotFoundError, match="Key zz not found in checkpoint"):
        tf.train.load_variable(prefix, "zz")
    with pytest.raises(NotFoundError, match="Key zz not found in checkpoint"):
        reader.get_tensor("zz")
    with pytest.raises(NotFoundError):
        tf.train.list_variables(str(tmp_path / "nope"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="Couldn't find 'checkpoint' file"):
        tf.train.list_variables(str(tmp_path / "empty"))
    ckpt = tf.train.Checkpoint(w=tf.Variable(2.0))
    ckpt.save(str(tmp_path / "empty" / "c"))
    assert tf.train.list_variables(str(tmp_path / "empty")) == [
        ("_CHECKPOINTABLE_OBJECT_GRAPH", []), ("save_counter/.ATTRIBUTES/VARIABLE_VALUE", []),
        ("w/.ATTRIBUTES/VARIABLE_VALUE", [])]


def test_checkpoint_options_are_kept_and_callbacks_run(tmp_path):
    options = tf.train.CheckpointOptions(experimental_io_device="/job:localhost",
                                         experimental_enable_async_checkpoint=True)
    assert options.experimental_io_device == "/job:localhost" and options.enable_async
    seen = []
    options = tf.train.CheckpointOptions(experimental_write_callbacks=[
        lambda path: seen.append(path), lambda: seen.append("no argument")])
    ckpt = tf.train.Checkpoint(a=tf.Variable(1.0))
    path = ckpt.save(str(tmp_path / "o"), options=options)
    assert seen == [path, "no argument"]
    status = ckpt.restore(path, options=tf.train.CheckpointOptions())
    status.assert_consumed()


# -- Keras objects --------------------------------------------------------------------------------
class _Block(keras.layers.Layer):
    """A layer making a sub-layer (into a list) and an unnamed weight in build."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.parts = []

    def build(self, input_shape):
        self.parts.append(keras.layers.Dense(3))
        self.scale = self.add_weight(shape=(3,), initializer="random_normal")

    def call(self, x):
        return self.parts[0](x) * self.scale


class _Net(keras.Model):
    def __init__(self):
        super().__init__()
        self.first = keras.layers.Dense(4, activation="tanh")
        self.blocks = [keras.layers.Dense(3), _Block()]
        self.gain = tf.Variable(1.5)

    def call(self, x):
        return self.blocks[1](self.blocks[0](self.first(x))) * self.gain


X = RNG.normal(size=(5, 3)).astype(np.float32)


def test_subclassed_model_keys_and_deferred_restoration(tmp_path):
    net = _Net()
    expected = net(X).numpy()
    prefix = tf.train.Checkpoint(net=net).write(str(tmp_path / "n"))
    keys = [k for k, _ in tf.train.list_variables(prefix)]
    assert keys == ["_CHECKPOINTABLE_OBJECT_GRAPH",
                    "net/blocks/0/bias/.ATTRIBUTES/VARIABLE_VALUE",
                    "net/blocks/0/kernel/.ATTRIBUTES/VARIABLE_VALUE",
                    "net/blocks/1/parts/0/bias/.ATTRIBUTES/VARIABLE_VALUE",
                    "net/blocks/1/parts/0/kernel/.ATTRIBUTES/VARIABLE_VALUE",
                    "net/blocks/1/scale/.ATTRIBUTES/VARIABLE_VALUE",
                    "net/first/bias/.ATTRIBUTES/VARIABLE_VALUE",
                    "net/first/kernel/.ATTRIBUTES/VARIABLE_VALUE",
                    "net/gain/.ATTRIBUTES/VARIABLE_VALUE"]
    other = _Net()  # not built: its weights do not exist yet
    status = tf.train.Checkpoint(net=other).read(prefix)
    assert other.gain.numpy() == 1.5  # existing now: restored now
    with pytest.raises(AssertionError, match="net.first.kernel"):
        status.assert_consumed()
    status.assert_existing_objects_matched()
    np.testing.assert_array_equal(other(X).numpy(), expected)  # built by the call: restored
    status.assert_consumed()


def test_deferred_restoration_when_first_called_in_a_function(tmp_path):
    net = _Net()
    expected = net(X).numpy()
    prefix = tf.train.Checkpoint(net=net).write(str(tmp_path / "n"))
    other = _Net()
    status = tf.train.Checkpoint(net=other).read(prefix)
    run = tf.function(lambda x: other(x))
    np.testing.assert_array_equal(run(X).numpy(), expected)
    status.assert_consumed()


class _Mixed(keras.Model):
    """Layers that make their sub-layers in build (attention, wrappers, recurrent cells)."""

    def __init__(self):
        super().__init__()
        self.rnn = keras.layers.Bidirectional(keras.layers.LSTM(3, return_sequences=True))
        self.attention = keras.layers.MultiHeadAttention(2, 3)
        self.conv = keras.layers.Conv1D(2, 3)
        self.norm = keras.layers.BatchNormalization()

    def call(self, x):
        h = self.rnn(x)
        return self.norm(self.conv(self.attention(h, h)))


def test_layers_building_sub_layers_are_restored_when_built(tmp_path):
    x = RNG.normal(size=(2, 5, 4)).astype(np.float32)
    model = _Mixed()
    model(x)
    for w in model.weights:  # positive values: a valid moving variance too
        w.assign(np.abs(RNG.normal(size=w.shape.as_list())).astype(np.float32))
    expected = model(x).numpy()
    prefix = tf.train.Checkpoint(model=model).write(str(tmp_path / "mixed"))
    keys = [k for k, _ in tf.train.list_variables(prefix)]
    assert "model/rnn/forward_layer/cell/recurrent_kernel/.ATTRIBUTES/VARIABLE_VALUE" in keys
    assert "model/attention/_query_dense/kernel/.ATTRIBUTES/VARIABLE_VALUE" in keys
    other = _Mixed()
    status = tf.train.Checkpoint(model=other).read(prefix)
    np.testing.assert_array_equal(other(x).numpy(), expected)
    status.assert_consumed()


def test_sequential_and_functional_models(tmp_path):
    seq = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4),
                            keras.layers.BatchNormalization(), keras.layers.Dense(2)])
    for w in seq.weights:
        w.assign(RNG.normal(size=w.shape.as_list()).astype(np.float32))
    prefix = tf.train.Checkpoint(model=seq).write(str(tmp_path / "s"))
    keys = [k for k, _ in tf.train.list_variables(prefix)]
    assert "model/layer-1/moving_variance/.ATTRIBUTES/VARIABLE_VALUE" in keys
    assert "model/layer-2/kernel/.ATTRIBUTES/VARIABLE_VALUE" in keys
    # a Sequential without an Input is built on its first call: same names
    lazy = keras.Sequential([keras.layers.Dense(4), keras.layers.BatchNormalization(),
                             keras.layers.Dense(2)])
    status = tf.train.Checkpoint(model=lazy).read(prefix)
    np.testing.assert_allclose(lazy(X).numpy(), seq(X).numpy(), rtol=0, atol=0)
    status.assert_consumed()
    inputs = keras.Input((3,))
    outputs = keras.layers.Dense(2)(keras.layers.Dense(4, activation="relu")(inputs))
    functional = keras.Model(inputs, outputs)
    prefix = tf.train.Checkpoint(model=functional).write(str(tmp_path / "f"))
    inputs2 = keras.Input((3,))
    outputs2 = keras.layers.Dense(2)(keras.layers.Dense(4, activation="relu")(inputs2))
    functional2 = keras.Model(inputs2, outputs2)
    tf.train.Checkpoint(model=functional2).read(prefix).assert_consumed()
    np.testing.assert_array_equal(functional2(X).numpy(), functional(X).numpy())


def test_deferred_shape_mismatch_raises_when_the_weight_is_made(tmp_path):
    prefix = tf.train.Checkpoint(layer=keras.Sequential([keras.Input((3,)), keras.layers.Dense(4)])
                                 ).write(str(tmp_path / "d"))
    other = keras.Sequential([keras.layers.Dense(5)])
    tf.train.Checkpoint(layer=other).read(prefix)
    with pytest.raises(ValueError, match=r"incompatible tensor .* \(checkpoint key: "
                                         r"layer/layer-0/"):
        other(X)


def _train(model, optimizer, steps, seed):
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        x = rng.normal(size=(4, 3)).astype(np.float32)
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(model(x)))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))


def _mlp():
    return keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="relu"),
                             keras.layers.Dense(2)])


@pytest.mark.parametrize("make", [lambda: keras.optimizers.Adam(0.01),
                                  lambda: keras.optimizers.Nadam(0.01),
                                  lambda: keras.optimizers.SGD(0.1, momentum=0.9),
                                  lambda: keras.optimizers.Adafactor(0.1)],
                         ids=["adam", "nadam", "sgd_momentum", "adafactor"])
def test_optimizer_slots_restored_before_the_first_step(tmp_path, make):
    model, optimizer = _mlp(), make()
    _train(model, optimizer, 3, seed=1)
    prefix = tf.train.Checkpoint(model=model, optimizer=optimizer).write(str(tmp_path / "o"))
    keys = [k for k, _ in tf.train.list_variables(prefix)]
    assert any(".OPTIMIZER_SLOT/optimizer/" in k for k in keys)
    model2, optimizer2 = _mlp(), make()
    status = tf.train.Checkpoint(model=model2, optimizer=optimizer2).read(prefix)
    with pytest.raises(AssertionError, match="has not been assigned"):
        status.assert_consumed()  # the slots wait for the optimizer's first step
    assert int(optimizer2.iterations.numpy()) == 3
    _train(model, optimizer, 1, seed=2)
    _train(model2, optimizer2, 1, seed=2)
    status.assert_consumed()
    for a, b in zip(model.weights + optimizer.variables, model2.weights + optimizer2.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_adam_slots_keyed_by_their_model_variable(tmp_path):
    model, optimizer = _mlp(), keras.optimizers.Adam(0.01)
    _train(model, optimizer, 2, seed=3)
    prefix = tf.train.Checkpoint(model=model, optimizer=optimizer).write(str(tmp_path / "a"))
    kernel = model.layers[0].kernel
    index = optimizer._get_variable_index(kernel)
    expected = optimizer._momentums[index].numpy()
    stored = tf.train.load_variable(
        prefix, "model/layer-0/kernel/.OPTIMIZER_SLOT/optimizer/momentum/.ATTRIBUTES/"
                "VARIABLE_VALUE")
    np.testing.assert_array_equal(stored, expected)
    # an optimizer built on the variables in another order still gets each slot right
    model2, optimizer2 = _mlp(), keras.optimizers.Adam(0.01)
    optimizer2.build(list(reversed(model2.trainable_variables)))
    tf.train.Checkpoint(model=model2, optimizer=optimizer2).read(prefix).assert_consumed()
    got = optimizer2._momentums[optimizer2._get_variable_index(model2.layers[0].kernel)]
    np.testing.assert_array_equal(got.numpy(), expected)


def test_compiled_model_fit_continues_after_restore(tmp_path):
    rng = np.random.default_rng(4)
    x = rng.normal(size=(16, 3)).astype(np.float32)
    y = rng.normal(size=(16, 2)).astype(np.float32)

    def compiled():
        model = _mlp()
        model.compile(keras.optimizers.Adam(0.01), "mse")
        return model

    model = compiled()
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    prefix = tf.train.Checkpoint(model=model).write(str(tmp_path / "fit"))
    keys = [k for k, _ in tf.train.list_variables(prefix)]
    assert "model/optimizer/_iterations/.ATTRIBUTES/VARIABLE_VALUE" in keys
    model2 = compiled()
    status = tf.train.Checkpoint(model=model2).read(prefix)
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    model2.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    status.assert_consumed()
    for a, b in zip(model.get_weights(), model2.get_weights()):
        np.testing.assert_array_equal(a, b)
