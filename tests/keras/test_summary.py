"""model.summary() prints Keras 3's table. The expected texts below were printed by Keras 3.15
(TensorFlow 2.21) for the same models, on an 80-column console."""
import numpy as np
import pytest

from tensorweave import keras
from tensorweave.keras import layers

SEED000_FIRST = """\
Model: "sequential"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ dense (Dense)                   │ (None, 64)             │           256 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dense_1 (Dense)                 │ (None, 10)             │           650 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 906 (3.54 KB)
 Trainable params: 906 (3.54 KB)
 Non-trainable params: 0 (0.00 B)
"""

SEED000_SECOND = """\
Model: "my_example_model"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ my_first_layer (Dense)          │ (None, 64)             │           256 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ my_last_layer (Dense)           │ (None, 10)             │           650 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 906 (3.54 KB)
 Trainable params: 906 (3.54 KB)
 Non-trainable params: 0 (0.00 B)
"""

MNIST_MODEL = """\
Model: "mnist_model"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ img (InputLayer)                │ (None, 784)            │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dense_2 (Dense)                 │ (None, 32)             │        25,120 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dense_3 (Dense)                 │ (None, 32)             │         1,056 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dense_4 (Dense)                 │ (None, 10)             │           330 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 26,506 (103.54 KB)
 Trainable params: 26,506 (103.54 KB)
 Non-trainable params: 0 (0.00 B)
"""

FUNCTIONAL = """\
Model: "two"
┏━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┓
┃ Layer (type)        ┃ Output Shape      ┃    Param # ┃ Connected to      ┃
┡━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━┩
│ a (InputLayer)      │ (None, 4)         │          0 │ -                 │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ b (InputLayer)      │ (None, 4)         │          0 │ -                 │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ add (Add)           │ (None, 4)         │          0 │ a[0][0], b[0][0]  │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ concatenate         │ (None, 8)         │          0 │ add[0][0],        │
│ (Concatenate)       │                   │            │ a[0][0]           │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ batch_normalization │ (None, 8)         │         32 │ concatenate[0][0] │
│ (BatchNormalizatio… │                   │            │                   │
└─────────────────────┴───────────────────┴────────────┴───────────────────┘
 Total params: 32 (128.00 B)
 Trainable params: 16 (64.00 B)
 Non-trainable params: 16 (64.00 B)
"""

TRAINABLE_COLUMN = """\
Model: "two"
┏━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━┳━━━━━━━━━━━━━━━━┳━━━━━━━┓
┃ Layer (type)      ┃ Output Shape    ┃   Param # ┃ Connected to   ┃ Trai… ┃
┡━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━╇━━━━━━━━━━━━━━━━╇━━━━━━━┩
│ a (InputLayer)    │ (None, 4)       │         0 │ -              │   -   │
├───────────────────┼─────────────────┼───────────┼────────────────┼───────┤
│ b (InputLayer)    │ (None, 4)       │         0 │ -              │   -   │
├───────────────────┼─────────────────┼───────────┼────────────────┼───────┤
│ add (Add)         │ (None, 4)       │         0 │ a[0][0],       │   -   │
│                   │                 │           │ b[0][0]        │       │
├───────────────────┼─────────────────┼───────────┼────────────────┼───────┤
│ concatenate       │ (None, 8)       │         0 │ add[0][0],     │   -   │
│ (Concatenate)     │                 │           │ a[0][0]        │       │
├───────────────────┼─────────────────┼───────────┼────────────────┼───────┤
│ batch_normalizat… │ (None, 8)       │        32 │ concatenate[0… │   Y   │
│ (BatchNormalizat… │                 │           │                │       │
└───────────────────┴─────────────────┴───────────┴────────────────┴───────┘
 Total params: 32 (128.00 B)
 Trainable params: 16 (64.00 B)
 Non-trainable params: 16 (64.00 B)
"""

EXPAND_NESTED = """\
Model: "nest"
┏━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┓
┃ Layer (type)        ┃ Output Shape      ┃    Param # ┃ Connected to      ┃
┡━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━┩
│ x (InputLayer)      │ (None, 5)         │          0 │ -                 │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ inner (Sequential)  │ (None, 2)         │         26 │ x[0][0]           │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│    └ dense (Dense)  │ (None, 3)         │         18 │ -                 │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│    └ dense_1        │ (None, 2)         │          8 │ -                 │
│ (Dense)             │                   │            │                   │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ side (Dense)        │ (None, 1)         │          6 │ x[0][0]           │
└─────────────────────┴───────────────────┴────────────┴───────────────────┘
 Total params: 32 (128.00 B)
 Trainable params: 32 (128.00 B)
 Non-trainable params: 0 (0.00 B)
"""

NARROW = """\
Model: "nest"
┏━━━━━━━━━━━━━━┳━━━━━━━━━━━━┳━━━━━━━┳━━━━━━━━━━━━┓
┃              ┃ Output     ┃ Param ┃ Connected  ┃
┃ Layer (type) ┃ Shape      ┃     # ┃ to         ┃
┡━━━━━━━━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━╇━━━━━━━━━━━━┩
│ x            │ (None, 5)  │     0 │ -          │
│ (InputLayer) │            │       │            │
├──────────────┼────────────┼───────┼────────────┤
│ inner        │ (None, 2)  │    26 │ x[0][0]    │
│ (Sequential) │            │       │            │
├──────────────┼────────────┼───────┼────────────┤
│ side (Dense) │ (None, 1)  │     6 │ x[0][0]    │
└──────────────┴────────────┴───────┴────────────┘
 Total params: 32 (128.00 B)
 Trainable params: 32 (128.00 B)
 Non-trainable params: 0 (0.00 B)
"""

UNBUILT = """\
Model: "unbuilt"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ only (Dense)                    │ ?                      │   0 (unbuilt) │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 0 (0.00 B)
 Trainable params: 0 (0.00 B)
 Non-trainable params: 0 (0.00 B)
"""


@pytest.fixture(autouse=True)
def eighty_columns(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    keras.backend.clear_session()


def _text(model, **kwargs):
    printed = []
    model.summary(print_fn=printed.append, **kwargs)
    assert len(printed) == 1
    return printed[0]


def test_seed000_sequential_examples_and_the_seed004_functional_one():
    model = keras.Sequential([layers.Dense(64, activation="relu"),
                              layers.Dense(10, activation="softmax")])
    model.build(input_shape=(None, 3))
    assert _text(model) == SEED000_FIRST
    model = keras.Sequential(name="my_example_model")
    model.add(layers.Dense(64, activation="relu", name="my_first_layer"))
    model.add(layers.Dense(10, activation="softmax", name="my_last_layer"))
    model.build((None, 3))
    assert _text(model) == SEED000_SECOND
    inputs = keras.Input(shape=(784,), name="img")
    h1 = layers.Dense(32, activation="relu")(inputs)
    h2 = layers.Dense(32, activation="relu")(h1)
    outputs = layers.Dense(10, activation="softmax")(h2)
    model = keras.Model(inputs=inputs, outputs=outputs, name="mnist_model")
    assert _text(model) == MNIST_MODEL


def _two():
    a = keras.Input((4,), name="a")
    b = keras.Input((4,), name="b")
    s = layers.add([a, b])
    c = layers.concatenate([s, a])
    bn = layers.BatchNormalization()(c)
    return keras.Model([a, b], [bn, s], name="two")


def test_functional_graph_with_connections_and_the_trainable_column():
    model = _two()
    assert _text(model) == FUNCTIONAL
    assert _text(model, show_trainable=True) == TRAINABLE_COLUMN


def test_nested_model_expanded_and_narrow_lines():
    inner = keras.Sequential([layers.Dense(3), layers.Dense(2)], name="inner")
    x = keras.Input((5,), name="x")
    model = keras.Model(x, [inner(x), layers.Dense(1, name="side")(x)], name="nest")
    assert _text(model, expand_nested=True) == EXPAND_NESTED
    assert _text(model, line_length=50) == NARROW


def test_unbuilt_layers_and_printing_to_stdout(capsys):
    model = keras.Sequential([layers.Dense(2, name="only")], name="unbuilt")
    assert _text(model) == UNBUILT
    model.summary()
    assert capsys.readouterr().out == UNBUILT


def test_subclassed_model_lists_its_layers_with_known_shapes():
    class Regressor(keras.Model):
        def __init__(self):
            super().__init__()
            self.hidden = layers.Dense(30)
            self.out = layers.Dense(1)

        def call(self, x):
            return self.out(self.hidden(x))

    model = Regressor()
    model(np.ones((4, 8)))
    text = _text(model)
    assert '│ dense (Dense)                   │ (4, 30)                │           270 │' in text
    assert " Total params: 301 (1.18 KB)" in text


def test_layer_range_selects_rows():
    model = _two()
    text = _text(model, layer_range=["add", "concatenate"])
    assert "add (Add)" in text and "concatenate" in text and "a (InputLayer)" not in text
    with pytest.raises(ValueError, match="do not match"):
        _text(model, layer_range=["nope", "add"])
