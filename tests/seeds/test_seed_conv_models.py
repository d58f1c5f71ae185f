"""The notes' convolutional and recurrent models, built as written: seed 001 "卷积神经网络" (VGG
blocks, 1x1 convolutions in place of dense layers (NiN), the Inception block, batch normalization
in a LeNet), seed 004 "上采样" (Conv2DTranspose / UpSampling2D: encoder/decoders that return their
input shape), "ResNet模型" (small_resnet) and "自定义网络层" (the built-in layers it lists, and a
layer of one's own), seed 000 chapter 7 (BatchNormalization is the one built-in layer with
non-trainable weights; gradients are taken with respect to trainable_weights).

Every model's summary() is compared with the text Keras 3.15 (TensorFlow 2.21) prints for the same
model on an 80-column console, trains a few steps on small synthetic data (the loss falls) and
predicts. Numbers are checked against NumPy formulas (a 1x1 convolution is a dense layer applied
at every pixel, nearest up-sampling is np.repeat, batch normalization's two modes, a transposed
convolution is the adjoint of the convolution)."""
import numpy as np
import pytest

import tensorweave as tf
from tensorweave import keras
from tensorweave.keras import layers


@pytest.fixture(autouse=True)
def fresh_names(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)


def _summary(model):
    printed = []
    model.summary(print_fn=printed.append)
    assert len(printed) == 1
    return printed[0]


def _training_loss_falls(model, x, y, epochs, batch_size=None):
    """Fits the model on (x, y) and checks that the training loss of the last epoch is below the
    first one's (with batch normalization, the loss in inference mode lags: the moving averages
    start at 0 and 1 and move by 1% a step)."""
    losses = model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0).history["loss"]
    assert len(losses) == epochs
    assert np.isfinite(losses[-1]) and losses[-1] < losses[0], losses


def _loss_falls(model, x, y, epochs, batch_size=None):
    """Fits the model on (x, y) and checks that the loss after training is below the loss before."""
    before = model.evaluate(x, y, verbose=0, batch_size=batch_size)
    before = before[0] if isinstance(before, list) else before
    history = model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0)
    after = model.evaluate(x, y, verbose=0, batch_size=batch_size)
    after = after[0] if isinstance(after, list) else after
    assert len(history.history["loss"]) == epochs
    assert np.isfinite(after) and after < before, (before, after)
    return before, after


def _images(n, side, channels, classes, seed=0):
    """n images whose class brightens one corner-ish patch: learnable in a few steps."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % classes
    x = rng.random((n, side, side, channels), dtype=np.float32) * 0.5
    for k in range(classes):
        top, left = (k * 5) % (side - 3), (k * 3) % (side - 3)
        x[y == k, top:top + 3, left:left + 3, :] += 0.5
    return x, y


# -- seed 001 "卷积神经网络" §1: VGG blocks ---------------------------------------------------------
conv_arch = ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512))


def vgg_block(num_convs, num_channels):
    blk = tf.keras.models.Sequential()
    for _ in range(num_convs):
        blk.add(tf.keras.layers.Conv2D(num_channels,kernel_size=3, padding='same',activation='relu'))
    blk.add(tf.keras.layers.MaxPool2D(pool_size=2, strides=2))
    return blk


def vgg(conv_arch):
    net = tf.keras.models.Sequential()
    for (num_convs, num_channels) in conv_arch:
        net.add(vgg_block(num_convs,num_channels))
    net.add(tf.keras.models.Sequential([tf.keras.layers.Flatten(),
             tf.keras.layers.Dense(4096,activation='relu'),
             tf.keras.layers.Dropout(0.5),
             tf.keras.layers.Dense(4096,activation='relu'),
             tf.keras.layers.Dropout(0.5),
             tf.keras.layers.Dense(10,activation='sigmoid')]))
    return net


VGG_SUMMARY = """\
Model: "sequential"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ sequential_1 (Sequential)       │ (None, 16, 16, 64)     │           640 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ sequential_2 (Sequential)       │ (None, 8, 8, 128)      │        73,856 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ sequential_3 (Sequential)       │ (None, 4, 4, 256)      │       885,248 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ sequential_4 (Sequential)       │ (None, 2, 2, 512)      │     3,539,968 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ sequential_5 (Sequential)       │ (None, 1, 1, 512)      │     4,719,616 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ sequential_6 (Sequential)       │ (None, 10)             │    18,923,530 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 28,142,858 (107.36 MB)
 Trainable params: 28,142,858 (107.36 MB)
 Non-trainable params: 0 (0.00 B)
"""


def test_seed001_vgg11_summary():
    net = vgg(conv_arch)
    net.build((None, 32, 32, 1))  # Fashion-MNIST padded to 32x32: five halvings leave 1x1
    assert _summary(net) == VGG_SUMMARY
    assert [len(block.layers) for block in net.layers] == [2, 2, 3, 3, 3, 6]


SMALL_VGG_SUMMARY = """\
Model: "sequential"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ sequential_1 (Sequential)       │ (None, 16, 16, 4)      │            40 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ sequential_2 (Sequential)       │ (None, 8, 8, 8)        │           296 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ sequential_3 (Sequential)       │ (None, 4, 4, 16)       │         3,488 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ sequential_4 (Sequential)       │ (None, 2, 2, 32)       │        13,888 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ sequential_5 (Sequential)       │ (None, 1, 1, 32)       │        18,496 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ sequential_6 (Sequential)       │ (None, 10)             │    16,957,450 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 16,993,660 (64.83 MB)
 Trainable params: 16,993,658 (64.83 MB)
 Non-trainable params: 0 (0.00 B)
 Optimizer params: 2 (12.00 B)
"""


def test_seed001_small_vgg_trains_with_the_notes_sgd_and_fit_per_batch():
    ratio = 16
    small_conv_arch = [(pair[0], pair[1] // ratio) for pair in conv_arch]
    net = vgg(small_conv_arch)

    class DataLoader:  # the notes' dataLoader.get_batch_train, on synthetic images
        def __init__(self):
            self.x, self.y = _images(8, 32, 1, 8)
            self.num_train = len(self.x)

        def get_batch_train(self, batch_size):
            return self.x[:batch_size], self.y[:batch_size]

    dataLoader, batch_size = DataLoader(), 8
    optimizer = tf.keras.optimizers.SGD(learning_rate=0.05, momentum=0.0, nesterov=False)
    net.compile(optimizer=optimizer,
                  loss='sparse_categorical_crossentropy',
                  metrics=['accuracy'])
    x_batch, y_batch = dataLoader.get_batch_train(batch_size)
    net.fit(x_batch, y_batch, verbose=0)
    assert _summary(net) == SMALL_VGG_SUMMARY
    before = net.evaluate(x_batch, y_batch, verbose=0)[0]
    for n in range(3):  # train_vgg: one fit call per batch
        x_batch, y_batch = dataLoader.get_batch_train(batch_size)
        net.fit(x_batch, y_batch, verbose=0)
    assert net.evaluate(x_batch, y_batch, verbose=0)[0] < before
    probabilities = net.predict(x_batch, verbose=0)
    assert probabilities.shape == (8, 10)
    assert ((probabilities > 0) & (probabilities < 1)).all()  # sigmoid outputs


# -- §2: 1x1 convolutions in place of dense layers (NiN) -------------------------------------------
def nin_block(num_channels, kernel_size, strides, padding):
    blk = tf.keras.models.Sequential()
    blk.add(tf.keras.layers.Conv2D(num_channels, kernel_size, strides=strides, padding=padding,
                                   activation='relu'))
    blk.add(tf.keras.layers.Conv2D(num_channels, kernel_size=1, activation='relu'))
    blk.add(tf.keras.layers.Conv2D(num_channels, kernel_size=1, activation='relu'))
    return blk


def nin():
    net = tf.keras.models.Sequential()
    net.add(tf.keras.Input((28, 28, 1)))
    net.add(nin_block(16, kernel_size=5, strides=1, padding='valid'))
    net.add(tf.keras.layers.MaxPool2D(pool_size=3, strides=2))
    net.add(nin_block(32, kernel_size=3, strides=1, padding='same'))
    net.add(tf.keras.layers.MaxPool2D(pool_size=3, strides=2))
    net.add(tf.keras.layers.Dropout(0.5))
    net.add(nin_block(10, kernel_size=3, strides=1, padding='same'))  # one channel per class
    net.add(tf.keras.layers.GlobalAveragePooling2D())
    net.add(tf.keras.layers.Activation('softmax'))
    return net


NIN_SUMMARY = """\
Model: "sequential"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ sequential_1 (Sequential)       │ (None, 24, 24, 16)     │           960 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ max_pooling2d (MaxPooling2D)    │ (None, 11, 11, 16)     │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ sequential_2 (Sequential)       │ (None, 11, 11, 32)     │         6,752 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ max_pooling2d_1 (MaxPooling2D)  │ (None, 5, 5, 32)       │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dropout (Dropout)               │ (None, 5, 5, 32)       │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ sequential_3 (Sequential)       │ (None, 5, 5, 10)       │         3,110 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ global_average_pooling2d        │ (None, 10)             │             0 │
│ (GlobalAveragePooling2D)        │                        │               │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ activation (Activation)         │ (None, 10)             │             0 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 10,822 (42.27 KB)
 Trainable params: 10,822 (42.27 KB)
 Non-trainable params: 0 (0.00 B)
"""


def test_seed001_nin_ends_with_1x1_convolutions_and_global_average_pooling():
    net = nin()
    assert _summary(net) == NIN_SUMMARY
    x, y = _images(20, 28, 1, 2, seed=1)  # two of the ten classes: the relu'd head starts slowly
    net.compile(optimizer=tf.keras.optimizers.Adam(learning_rate=0.01),
                loss='sparse_categorical_crossentropy')
    _loss_falls(net, x, y, epochs=5)
    probabilities = net.predict(x, verbose=0)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_a_1x1_convolution_is_a_dense_layer_applied_at_every_pixel():
    x = np.random.default_rng(2).normal(size=(3, 5, 6, 4)).astype(np.float32)
    conv = tf.keras.layers.Conv2D(7, kernel_size=1)
    conv(x)  # builds the kernel
    kernel, bias = conv.get_weights()
    assert kernel.shape == (1, 1, 4, 7) and bias.shape == (7,)
    conv.set_weights([kernel, np.linspace(-1, 1, 7).astype(np.float32)])
    out = conv(x).numpy()
    expected = np.tensordot(x, kernel[0, 0], axes=([3], [0])) + np.linspace(-1, 1, 7)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)
    dense = tf.keras.layers.Dense(7)
    dense.build((None, 4))
    dense.set_weights([kernel[0, 0], np.linspace(-1, 1, 7).astype(np.float32)])
    np.testing.assert_allclose(out, dense(x).numpy(), rtol=1e-5, atol=1e-5)
    # the parameters of a 1x1 convolution do not grow with the image, a dense layer's do
    assert conv.count_params() == 4 * 7 + 7
    flat = tf.keras.layers.Dense(7)
    flat.build((None, 5 * 6 * 4))
    assert flat.count_params() == 5 * 6 * 4 * 7 + 7


# -- §3: the Inception block (four parallel paths, concatenated on channels) ------------------------
class Inception(tf.keras.layers.Layer):
    def __init__(self, c1, c2, c3, c4, **kwargs):
        super().__init__(**kwargs)
        # path 1: a 1x1 convolution
        self.p1_1 = tf.keras.layers.Conv2D(c1, kernel_size=1, activation='relu')
        # path 2: 1x1 convolution (fewer channels) then 3x3
        self.p2_1 = tf.keras.layers.Conv2D(c2[0], kernel_size=1, activation='relu')
        self.p2_2 = tf.keras.layers.Conv2D(c2[1], kernel_size=3, padding='same',
                                           activation='relu')
        # path 3: 1x1 convolution then 5x5
        self.p3_1 = tf.keras.layers.Conv2D(c3[0], kernel_size=1, activation='relu')
        self.p3_2 = tf.keras.layers.Conv2D(c3[1], kernel_size=5, padding='same',
                                           activation='relu')
        # path 4: 3x3 max pooling then 1x1 convolution
        self.p4_1 = tf.keras.layers.MaxPool2D(pool_size=3, strides=1, padding='same')
        self.p4_2 = tf.keras.layers.Conv2D(c4, kernel_size=1, activation='relu')

    def call(self, x):
        p1 = self.p1_1(x)
        p2 = self.p2_2(self.p2_1(x))
        p3 = self.p3_2(self.p3_1(x))
        p4 = self.p4_2(self.p4_1(x))
        return tf.concat([p1, p2, p3, p4], axis=-1)


def googlenet_like():
    inputs = tf.keras.Input(shape=(24, 24, 3), name='img')
    x = tf.keras.layers.Conv2D(16, 3, padding='same', activation='relu')(inputs)
    x = tf.keras.layers.MaxPool2D(pool_size=3, strides=2, padding='same')(x)
    x = Inception(8, (8, 16), (4, 8), 8)(x)
    x = Inception(16, (8, 16), (4, 8), 8)(x)
    x = tf.keras.layers.MaxPool2D(pool_size=3, strides=2, padding='same')(x)
    x = tf.keras.layers.GlobalAveragePooling2D()(x)
    outputs = tf.keras.layers.Dense(10, activation='softmax')(x)
    return tf.keras.Model(inputs, outputs, name='googlenet_like')


GOOGLENET_SUMMARY = """\
Model: "googlenet_like"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ img (InputLayer)                │ (None, 24, 24, 3)      │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ conv2d (Conv2D)                 │ (None, 24, 24, 16)     │           448 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ max_pooling2d (MaxPooling2D)    │ (None, 12, 12, 16)     │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ inception (Inception)           │ (None, 12, 12, 40)     │         2,452 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ inception_1 (Inception)         │ (None, 12, 12, 48)     │         3,452 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ max_pooling2d_3 (MaxPooling2D)  │ (None, 6, 6, 48)       │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ global_average_pooling2d        │ (None, 48)             │             0 │
│ (GlobalAveragePooling2D)        │                        │               │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dense (Dense)                   │ (None, 10)             │           490 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 6,842 (26.73 KB)
 Trainable params: 6,842 (26.73 KB)
 Non-trainable params: 0 (0.00 B)
"""


def test_seed001_inception_blocks_in_a_functional_model():
    model = googlenet_like()
    assert _summary(model) == GOOGLENET_SUMMARY
    block = model.layers[3]
    assert isinstance(block, Inception) and len(block.trainable_weights) == 12
    x, y = _images(16, 24, 3, 10, seed=3)
    # the block's output is its four paths side by side: 8 + 16 + 8 + 8 channels
    features = tf.keras.Model(model.input, model.layers[2].output)(x)
    out = block(features).numpy()
    assert out.shape == (16, 12, 12, 40)
    p4 = block.p4_2(block.p4_1(features)).numpy()
    np.testing.assert_allclose(out[..., 32:], p4, rtol=1e-6)
    np.testing.assert_allclose(out[..., :8], block.p1_1(features).numpy(), rtol=1e-6)
    model.compile(optimizer='adam', loss='sparse_categorical_crossentropy')
    _loss_falls(model, x, y, epochs=4)
    assert model.predict(x, verbose=0).shape == (16, 10)


# -- §4: batch normalization in a LeNet ------------------------------------------------------------
def lenet_bn():
    return tf.keras.models.Sequential([
        tf.keras.Input((28, 28, 1)),
        tf.keras.layers.Conv2D(filters=6, kernel_size=5),
        tf.keras.layers.BatchNormalization(),
        tf.keras.layers.Activation('sigmoid'),
        tf.keras.layers.MaxPool2D(pool_size=2, strides=2),
        tf.keras.layers.Conv2D(filters=16, kernel_size=5),
        tf.keras.layers.BatchNormalization(),
        tf.keras.layers.Activation('sigmoid'),
        tf.keras.layers.MaxPool2D(pool_size=2, strides=2),
        tf.keras.layers.Flatten(),
        tf.keras.layers.Dense(120),
        tf.keras.layers.BatchNormalization(),
        tf.keras.layers.Activation('sigmoid'),
        tf.keras.layers.Dense(84),
        tf.keras.layers.BatchNormalization(),
        tf.keras.layers.Activation('sigmoid'),
        tf.keras.layers.Dense(10, activation='softmax'),
    ])


LENET_BN_SUMMARY = """\
Model: "sequential"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ conv2d (Conv2D)                 │ (None, 24, 24, 6)      │           156 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ batch_normalization             │ (None, 24, 24, 6)      │            24 │
│ (BatchNormalization)            │                        │               │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ activation (Activation)         │ (None, 24, 24, 6)      │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ max_pooling2d (MaxPooling2D)    │ (None, 12, 12, 6)      │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ conv2d_1 (Conv2D)               │ (None, 8, 8, 16)       │         2,416 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ batch_normalization_1           │ (None, 8, 8, 16)       │            64 │
│ (BatchNormalization)            │                        │               │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ activation_1 (Activation)       │ (None, 8, 8, 16)       │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ max_pooling2d_1 (MaxPooling2D)  │ (None, 4, 4, 16)       │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ flatten (Flatten)               │ (None, 256)            │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dense (Dense)                   │ (None, 120)            │        30,840 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ batch_normalization_2           │ (None, 120)            │           480 │
│ (BatchNormalization)            │                        │               │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ activation_2 (Activation)       │ (None, 120)            │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dense_1 (Dense)                 │ (None, 84)             │        10,164 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ batch_normalization_3           │ (None, 84)             │           336 │
│ (BatchNormalization)            │                        │               │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ activation_3 (Activation)       │ (None, 84)             │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dense_2 (Dense)                 │ (None, 10)             │           850 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 45,330 (177.07 KB)
 Trainable params: 44,878 (175.30 KB)
 Non-trainable params: 452 (1.77 KB)
"""


def test_seed001_lenet_with_batch_normalization_trains_and_predicts_with_moving_statistics():
    net = lenet_bn()
    assert _summary(net) == LENET_BN_SUMMARY
    x, y = _images(32, 28, 1, 10, seed=4)
    net.compile(optimizer=tf.keras.optimizers.Adam(learning_rate=0.01),
                loss='sparse_categorical_crossentropy', metrics=['accuracy'])
    _training_loss_falls(net, x, y, epochs=5, batch_size=16)
    conv, bn = net.layers[0], net.layers[1]
    gamma, beta, moving_mean, moving_variance = (w.numpy() for w in bn.weights)
    assert not np.allclose(moving_mean, 0.0) and not np.allclose(moving_variance, 1.0)
    h = conv(x).numpy().astype(np.float64)
    # prediction (training=False) normalizes with the moving averages ...
    expected = (h - moving_mean) / np.sqrt(moving_variance + bn.epsilon) * gamma + beta
    np.testing.assert_allclose(bn(h.astype(np.float32), training=False).numpy(), expected,
                               rtol=1e-4, atol=1e-4)
    # ... calling the model in training mode uses the batch's own statistics
    mean, variance = h.mean(axis=(0, 1, 2)), h.var(axis=(0, 1, 2))
    expected = (h - mean) / np.sqrt(variance + bn.epsilon) * gamma + beta
    np.testing.assert_allclose(bn(h.astype(np.float32), training=True).numpy(), expected,
                               rtol=1e-3, atol=1e-3)
    predicted = net.predict(x, verbose=0)
    np.testing.assert_allclose(predicted, net(x, training=False).numpy(), rtol=1e-5, atol=1e-6)
    assert not np.allclose(predicted, net(x, training=True).numpy(), atol=1e-4)


def test_seed000_batch_normalization_is_the_one_layer_with_non_trainable_weights():
    net = lenet_bn()
    bn_layers = [l for l in net.layers if isinstance(l, tf.keras.layers.BatchNormalization)]
    assert len(bn_layers) == 4
    assert {id(w) for w in net.non_trainable_weights} == {
        id(w) for l in bn_layers for w in (l.moving_mean, l.moving_variance)}
    others = [l for l in net.layers if not isinstance(l, tf.keras.layers.BatchNormalization)]
    assert all(not l.non_trainable_weights for l in others)
    # gradients are taken with respect to trainable_weights: the moving statistics get none
    x, y = _images(8, 28, 1, 10, seed=5)
    loss_fn = tf.keras.losses.SparseCategoricalCrossentropy()
    with tf.GradientTape() as tape:
        loss = loss_fn(y, net(x, training=True))
    gradients = tape.gradient(loss, net.weights)
    by_variable = {id(w): g for w, g in zip(net.weights, gradients)}
    assert all(by_variable[id(w)] is None for w in net.non_trainable_weights)
    assert all(by_variable[id(w)] is not None for w in net.trainable_weights)
    conv_kernel = net.layers[0].kernel
    assert by_variable[id(conv_kernel)].shape == (5, 5, 1, 6)


# -- seed 004 "上采样": encoder/decoders that return their input shape -------------------------------
def autoencoder():
    encoder_input = tf.keras.Input(shape=(28, 28, 1), name='img')
    x = layers.Conv2D(16, 3, activation='relu')(encoder_input)
    x = layers.Conv2D(32, 3, activation='relu')(x)
    x = layers.MaxPooling2D(3)(x)
    x = layers.Conv2D(32, 3, activation='relu')(x)
    x = layers.Conv2D(16, 3, activation='relu')(x)
    encoder_output = layers.GlobalMaxPooling2D()(x)
    encoder = keras.Model(encoder_input, encoder_output, name='encoder')
    # the decoder mirrors the encoder: Conv2D -> Conv2DTranspose, MaxPooling2D -> UpSampling2D
    x = layers.Reshape((4, 4, 1))(encoder_output)
    x = layers.Conv2DTranspose(16, 3, activation='relu')(x)
    x = layers.Conv2DTranspose(32, 3, activation='relu')(x)
    x = layers.UpSampling2D(3)(x)
    x = layers.Conv2DTranspose(16, 3, activation='relu')(x)
    decoder_output = layers.Conv2DTranspose(1, 3, activation='relu')(x)
    return encoder, keras.Model(encoder_input, decoder_output, name='autoencoder')


ENCODER_SUMMARY = """\
Model: "encoder"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ img (InputLayer)                │ (None, 28, 28, 1)      │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ conv2d (Conv2D)                 │ (None, 26, 26, 16)     │           160 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ conv2d_1 (Conv2D)               │ (None, 24, 24, 32)     │         4,640 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ max_pooling2d (MaxPooling2D)    │ (None, 8, 8, 32)       │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ conv2d_2 (Conv2D)               │ (None, 6, 6, 32)       │         9,248 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ conv2d_3 (Conv2D)               │ (None, 4, 4, 16)       │         4,624 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ global_max_pooling2d            │ (None, 16)             │             0 │
│ (GlobalMaxPooling2D)            │                        │               │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 18,672 (72.94 KB)
 Trainable params: 18,672 (72.94 KB)
 Non-trainable params: 0 (0.00 B)
"""
AUTOENCODER_SUMMARY = """\
Model: "autoencoder"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ img (InputLayer)                │ (None, 28, 28, 1)      │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ conv2d (Conv2D)                 │ (None, 26, 26, 16)     │           160 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ conv2d_1 (Conv2D)               │ (None, 24, 24, 32)     │         4,640 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ max_pooling2d (MaxPooling2D)    │ (None, 8, 8, 32)       │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ conv2d_2 (Conv2D)               │ (None, 6, 6, 32)       │         9,248 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ conv2d_3 (Conv2D)               │ (None, 4, 4, 16)       │         4,624 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ global_max_pooling2d            │ (None, 16)             │             0 │
│ (GlobalMaxPooling2D)            │                        │               │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ reshape (Reshape)               │ (None, 4, 4, 1)        │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ conv2d_transpose                │ (None, 6, 6, 16)       │           160 │
│ (Conv2DTranspose)               │                        │               │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ conv2d_transpose_1              │ (None, 8, 8, 32)       │         4,640 │
│ (Conv2DTranspose)               │                        │               │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ up_sampling2d (UpSampling2D)    │ (None, 24, 24, 32)     │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ conv2d_transpose_2              │ (None, 26, 26, 16)     │         4,624 │
│ (Conv2DTranspose)               │                        │               │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ conv2d_transpose_3              │ (None, 28, 28, 1)      │           145 │
│ (Conv2DTranspose)               │                        │               │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 28,241 (110.32 KB)
 Trainable params: 28,241 (110.32 KB)
 Non-trainable params: 0 (0.00 B)
"""


def test_seed004_symmetric_autoencoder_returns_its_input_shape():
    encoder, model = autoencoder()
    assert _summary(encoder) == ENCODER_SUMMARY
    assert _summary(model) == AUTOENCODER_SUMMARY
    assert model.output_shape == model.input_shape == (None, 28, 28, 1)
    x, _ = _images(8, 28, 1, 4, seed=6)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.003), loss='mse')
    _loss_falls(model, x, x, epochs=4)
    assert model.predict(x, verbose=0).shape == x.shape
    assert encoder.predict(x, verbose=0).shape == (8, 16)


def unet(side=16):
    inputs = keras.Input(shape=(side, side, 1), name='image')
    c1 = layers.Conv2D(8, 3, padding='same', activation='relu')(inputs)
    p1 = layers.MaxPooling2D(2)(c1)
    c2 = layers.Conv2D(16, 3, padding='same', activation='relu')(p1)
    p2 = layers.MaxPooling2D(2)(c2)
    bottom = layers.Conv2D(32, 3, padding='same', activation='relu')(p2)
    u2 = layers.Conv2DTranspose(16, 2, strides=2, padding='same')(bottom)  # learned up-sampling
    c3 = layers.Conv2D(16, 3, padding='same', activation='relu')(layers.concatenate([u2, c2]))
    u1 = layers.UpSampling2D(2)(c3)  # fixed up-sampling
    c4 = layers.Conv2D(8, 3, padding='same', activation='relu')(layers.concatenate([u1, c1]))
    outputs = layers.Conv2D(1, 1, activation='sigmoid')(c4)
    return keras.Model(inputs, outputs, name='unet')


UNET_SUMMARY = """\
Model: "unet"
┏━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┓
┃ Layer (type)        ┃ Output Shape      ┃    Param # ┃ Connected to      ┃
┡━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━┩
│ image (InputLayer)  │ (None, 16, 16, 1) │          0 │ -                 │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ conv2d (Conv2D)     │ (None, 16, 16, 8) │         80 │ image[0][0]       │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ max_pooling2d       │ (None, 8, 8, 8)   │          0 │ conv2d[0][0]      │
│ (MaxPooling2D)      │                   │            │                   │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ conv2d_1 (Conv2D)   │ (None, 8, 8, 16)  │      1,168 │ max_pooling2d[0]… │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ max_pooling2d_1     │ (None, 4, 4, 16)  │          0 │ conv2d_1[0][0]    │
│ (MaxPooling2D)      │                   │            │                   │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ conv2d_2 (Conv2D)   │ (None, 4, 4, 32)  │      4,640 │ max_pooling2d_1[… │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ conv2d_transpose    │ (None, 8, 8, 16)  │      2,064 │ conv2d_2[0][0]    │
│ (Conv2DTranspose)   │                   │            │                   │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ concatenate         │ (None, 8, 8, 32)  │          0 │ conv2d_transpose… │
│ (Concatenate)       │                   │            │ conv2d_1[0][0]    │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ conv2d_3 (Conv2D)   │ (None, 8, 8, 16)  │      4,624 │ concatenate[0][0] │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ up_sampling2d       │ (None, 16, 16,    │          0 │ conv2d_3[0][0]    │
│ (UpSampling2D)      │ 16)               │            │                   │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ concatenate_1       │ (None, 16, 16,    │          0 │ up_sampling2d[0]… │
│ (Concatenate)       │ 24)               │            │ conv2d[0][0]      │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ conv2d_4 (Conv2D)   │ (None, 16, 16, 8) │      1,736 │ concatenate_1[0]… │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ conv2d_5 (Conv2D)   │ (None, 16, 16, 1) │          9 │ conv2d_4[0][0]    │
└─────────────────────┴───────────────────┴────────────┴───────────────────┘
 Total params: 14,321 (55.94 KB)
 Trainable params: 14,321 (55.94 KB)
 Non-trainable params: 0 (0.00 B)
"""


def test_seed004_unet_encoder_decoder_with_skip_connections_returns_its_input_shape():
    model = unet()
    assert _summary(model) == UNET_SUMMARY
    rng = np.random.default_rng(7)
    x = rng.random((8, 16, 16, 1), dtype=np.float32)
    target = (x > 0.5).astype(np.float32)  # a segmentation-like mask of the input
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss='binary_crossentropy')
    _loss_falls(model, x, target, epochs=4)
    assert model.predict(x, verbose=0).shape == x.shape
    for side in (8, 32):  # the same layers on other sizes keep the shape too
        keras.backend.clear_session()
        assert unet(side)(np.zeros((1, side, side, 1), np.float32)).shape == (1, side, side, 1)


def test_seed004_upsampling_undoes_max_pooling_and_transposed_convolution_is_the_adjoint():
    rng = np.random.default_rng(8)
    x = rng.normal(size=(2, 3, 4, 5)).astype(np.float32)
    up = layers.UpSampling2D(2)(x).numpy()
    np.testing.assert_array_equal(up, np.repeat(np.repeat(x, 2, axis=1), 2, axis=2))
    np.testing.assert_array_equal(layers.MaxPooling2D(2)(up).numpy(), x)
    # Conv2D's "opposite": <conv(a), b> == <a, conv_transpose(b)> with the same kernel
    conv = layers.Conv2D(3, 3, strides=2, use_bias=False)
    transpose = layers.Conv2DTranspose(5, 3, strides=2, use_bias=False)
    a = rng.normal(size=(2, 9, 9, 5)).astype(np.float32)
    conv_a = conv(a).numpy()
    assert conv_a.shape == (2, 4, 4, 3)
    b = rng.normal(size=conv_a.shape).astype(np.float32)
    transpose.build(b.shape)
    assert tuple(transpose.kernel.shape) == (3, 3, 5, 3)
    transpose.set_weights(conv.get_weights())
    transpose_b = transpose(b).numpy()
    assert transpose_b.shape == a.shape
    np.testing.assert_allclose(np.vdot(conv_a, b), np.vdot(a, transpose_b), rtol=1e-4)


# -- seed 004 "ResNet模型" --------------------------------------------------------------------------
def small_resnet():
    inputs = keras.Input(shape=(32,32,3), name='img')
    h1 = layers.Conv2D(32, 3, activation='relu')(inputs)
    h1 = layers.Conv2D(64, 3, activation='relu')(h1)
    block1_out = layers.MaxPooling2D(3)(h1)

    h2 = layers.Conv2D(64, 3, activation='relu', padding='same')(block1_out)
    h2 = layers.Conv2D(64, 3, activation='relu', padding='same')(h2)
    block2_out = layers.add([h2, block1_out])  # 残差连接

    h3 = layers.Conv2D(64, 3, activation='relu', padding='same')(block2_out)
    h3 = layers.Conv2D(64, 3, activation='relu', padding='same')(h3)
    block3_out = layers.add([h3, block2_out])

    h4 = layers.Conv2D(64, 3, activation='relu')(block3_out)
    h4 = layers.GlobalMaxPool2D()(h4)
    h4 = layers.Dense(256, activation='relu')(h4)
    h4 = layers.Dropout(0.5)(h4)
    outputs = layers.Dense(10, activation='softmax')(h4)

    model = keras.Model(inputs, outputs, name='small_resnet')  # 网络名不能有空格
    return model


SMALL_RESNET_SUMMARY = """\
Model: "small_resnet"
┏━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┓
┃ Layer (type)        ┃ Output Shape      ┃    Param # ┃ Connected to      ┃
┡━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━┩
│ img (InputLayer)    │ (None, 32, 32, 3) │          0 │ -                 │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ conv2d (Conv2D)     │ (None, 30, 30,    │        896 │ img[0][0]         │
│                     │ 32)               │            │                   │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ conv2d_1 (Conv2D)   │ (None, 28, 28,    │     18,496 │ conv2d[0][0]      │
│                     │ 64)               │            │                   │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ max_pooling2d       │ (None, 9, 9, 64)  │          0 │ conv2d_1[0][0]    │
│ (MaxPooling2D)      │                   │            │                   │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ conv2d_2 (Conv2D)   │ (None, 9, 9, 64)  │     36,928 │ max_pooling2d[0]… │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ conv2d_3 (Conv2D)   │ (None, 9, 9, 64)  │     36,928 │ conv2d_2[0][0]    │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ add (Add)           │ (None, 9, 9, 64)  │          0 │ conv2d_3[0][0],   │
│                     │                   │            │ max_pooling2d[0]… │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ conv2d_4 (Conv2D)   │ (None, 9, 9, 64)  │     36,928 │ add[0][0]         │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ conv2d_5 (Conv2D)   │ (None, 9, 9, 64)  │     36,928 │ conv2d_4[0][0]    │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ add_1 (Add)         │ (None, 9, 9, 64)  │          0 │ conv2d_5[0][0],   │
│                     │                   │            │ add[0][0]         │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ conv2d_6 (Conv2D)   │ (None, 7, 7, 64)  │     36,928 │ add_1[0][0]       │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ global_max_pooling… │ (None, 64)        │          0 │ conv2d_6[0][0]    │
│ (GlobalMaxPooling2… │                   │            │                   │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ dense (Dense)       │ (None, 256)       │     16,640 │ global_max_pooli… │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ dropout (Dropout)   │ (None, 256)       │          0 │ dense[0][0]       │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ dense_1 (Dense)     │ (None, 10)        │      2,570 │ dropout[0][0]     │
└─────────────────────┴───────────────────┴────────────┴───────────────────┘
 Total params: 223,242 (872.04 KB)
 Trainable params: 223,242 (872.04 KB)
 Non-trainable params: 0 (0.00 B)
"""


def test_seed004_small_resnet_summary_training_and_prediction():
    model = small_resnet()
    assert _summary(model) == SMALL_RESNET_SUMMARY
    x, y = _images(8, 32, 3, 10, seed=9)
    model.compile(optimizer=keras.optimizers.RMSprop(1e-3),
                  loss='sparse_categorical_crossentropy', metrics=['accuracy'])
    _loss_falls(model, x, y, epochs=3)
    probabilities = model.predict(x, verbose=0)
    assert probabilities.shape == (8, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


# -- seed 004 "自定义网络层": the built-in layers it lists, and one's own ----------------------------
def text_model():
    return keras.Sequential([
        keras.Input((20,), dtype='int32'),
        layers.Embedding(50, 8),
        layers.Conv1D(8, 3, activation='relu', padding='same'),
        layers.MaxPooling1D(2),
        layers.AveragePooling1D(2, padding='same'),
        layers.GRU(8, return_sequences=True),
        layers.LSTM(6),
        layers.BatchNormalization(),
        layers.Dropout(0.2),
        layers.Dense(1, activation='sigmoid'),
    ], name='text')


TEXT_SUMMARY = """\
Model: "text"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ embedding (Embedding)           │ (None, 20, 8)          │           400 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ conv1d (Conv1D)                 │ (None, 20, 8)          │           200 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ max_pooling1d (MaxPooling1D)    │ (None, 10, 8)          │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ average_pooling1d               │ (None, 5, 8)           │             0 │
│ (AveragePooling1D)              │                        │               │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ gru (GRU)                       │ (None, 5, 8)           │           432 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ lstm (LSTM)                     │ (None, 6)              │           360 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ batch_normalization             │ (None, 6)              │            24 │
│ (BatchNormalization)            │                        │               │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dropout (Dropout)               │ (None, 6)              │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dense (Dense)                   │ (None, 1)              │             7 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 1,423 (5.56 KB)
 Trainable params: 1,411 (5.51 KB)
 Non-trainable params: 12 (48.00 B)
"""


def test_seed004_listed_layers_conv1d_pooling_gru_lstm_in_a_text_model():
    model = text_model()
    assert _summary(model) == TEXT_SUMMARY
    rng = np.random.default_rng(10)
    y = np.arange(16) % 2
    x = rng.integers(1, 50, size=(16, 20))
    x[y == 1, ::4] = 1  # positive sequences repeat one word
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss='binary_crossentropy')
    _loss_falls(model, x, y.astype(np.float32), epochs=4)
    assert model.predict(x, verbose=0).shape == (16, 1)


def video_model():
    return keras.Sequential([
        keras.Input((3, 8, 8, 1)),
        layers.ConvLSTM2D(4, 3, padding='same', return_sequences=True),
        layers.Conv3D(6, 3, activation='relu'),
        layers.MaxPooling3D((1, 2, 2)),
        layers.GlobalAveragePooling3D(),
        layers.Dense(2, activation='softmax'),
    ], name='video')


VIDEO_SUMMARY = """\
Model: "video"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ conv_lstm2d (ConvLSTM2D)        │ (None, 3, 8, 8, 4)     │           736 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ conv3d (Conv3D)                 │ (None, 1, 6, 6, 6)     │           654 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ max_pooling3d (MaxPooling3D)    │ (None, 1, 3, 3, 6)     │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ global_average_pooling3d        │ (None, 6)              │             0 │
│ (GlobalAveragePooling3D)        │                        │               │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dense (Dense)                   │ (None, 2)              │            14 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 1,404 (5.48 KB)
 Trainable params: 1,404 (5.48 KB)
 Non-trainable params: 0 (0.00 B)
"""


def test_seed004_listed_layers_convlstm2d_conv3d_maxpooling3d_in_a_video_model():
    model = video_model()
    assert _summary(model) == VIDEO_SUMMARY
    rng = np.random.default_rng(11)
    y = np.arange(8) % 2
    x = rng.random((8, 3, 8, 8, 1), dtype=np.float32) * 0.5
    x[y == 1, :, 2:6, 2:6] += 0.5  # class 1 has a bright square in every frame
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss='sparse_categorical_crossentropy')
    _loss_falls(model, x, y, epochs=3)
    assert model.predict(x, verbose=0).shape == (8, 2)


class MyConv2D(keras.layers.Layer):
    """A convolution of one's own: weights made in build, tf.nn.conv2d in call."""

    def __init__(self, filters, kernel_size, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.kernel_size = filters, kernel_size

    def build(self, input_shape):
        self.w = self.add_weight(
            name='w', shape=(self.kernel_size, self.kernel_size, input_shape[-1], self.filters),
            initializer='glorot_uniform')
        self.b = self.add_weight(name='b', shape=(self.filters,), initializer='zeros')

    def call(self, inputs):
        return tf.nn.relu(tf.nn.conv2d(inputs, self.w, strides=1, padding='SAME') + self.b)


OWN_LAYER_SUMMARY = """\
Model: "own_layer"
┏━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┓
┃ Layer (type)        ┃ Output Shape      ┃    Param # ┃ Connected to      ┃
┡━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━┩
│ img (InputLayer)    │ (None, 12, 12, 2) │          0 │ -                 │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ my_conv (MyConv2D)  │ (None, 12, 12, 4) │         76 │ img[0][0]         │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ keras_conv (Conv2D) │ (None, 12, 12, 4) │         76 │ img[0][0]         │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ concatenate         │ (None, 12, 12, 8) │          0 │ my_conv[0][0],    │
│ (Concatenate)       │                   │            │ keras_conv[0][0]  │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ global_average_poo… │ (None, 8)         │          0 │ concatenate[0][0] │
│ (GlobalAveragePool… │                   │            │                   │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ dense (Dense)       │ (None, 3)         │         27 │ global_average_p… │
└─────────────────────┴───────────────────┴────────────┴───────────────────┘
 Total params: 179 (716.00 B)
 Trainable params: 179 (716.00 B)
 Non-trainable params: 0 (0.00 B)
"""


def test_seed004_a_layer_of_ones_own_beside_the_built_in_ones():
    inputs = keras.Input((12, 12, 2), name='img')
    mine = MyConv2D(4, 3, name='my_conv')(inputs)
    built_in = layers.Conv2D(4, 3, padding='same', activation='relu', name='keras_conv')(inputs)
    merged = layers.concatenate([mine, built_in])
    outputs = layers.Dense(3, activation='softmax')(layers.GlobalAveragePooling2D()(merged))
    model = keras.Model(inputs, outputs, name='own_layer')
    assert _summary(model) == OWN_LAYER_SUMMARY
    # with the same weights, the layer of one's own computes what Conv2D computes
    model.get_layer('my_conv').set_weights(model.get_layer('keras_conv').get_weights())
    x = np.random.default_rng(12).normal(size=(4, 12, 12, 2)).astype(np.float32)
    probe = keras.Model(inputs, [mine, built_in])
    a, b = (t.numpy() for t in probe(x))
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    y = np.arange(4) % 3
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss='sparse_categorical_crossentropy')
    _loss_falls(model, x, y, epochs=4)
    assert model.predict(x, verbose=0).shape == (4, 3)
