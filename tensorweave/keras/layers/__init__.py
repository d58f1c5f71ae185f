"""keras.layers: re-exports only; each family of layers lives in its own module here."""
from tensorweave.keras.engine.input_layer import Input, InputLayer
from tensorweave.keras.engine.input_spec import InputSpec
from tensorweave.keras.engine.layer import Layer
# -- core (layers/core.py) --
from tensorweave.keras.layers.core import (
    Activation, Dense, Embedding, Identity, Lambda, Masking)
# -- end core --
# -- reshaping (layers/reshaping.py) --
from tensorweave.keras.layers.reshaping import Flatten, Permute, RepeatVector, Reshape
# -- end reshaping --
# -- activation layers (layers/activation_layers.py) --
from tensorweave.keras.layers.activation_layers import ELU, LeakyReLU, PReLU, ReLU, Softmax
# -- end activation layers --
# -- regularization (layers/regularization.py) --
from tensorweave.keras.layers.regularization import (
    ActivityRegularization, AlphaDropout, Dropout, GaussianDropout, GaussianNoise,
    SpatialDropout1D, SpatialDropout2D, SpatialDropout3D)
# -- end regularization --
# -- merging (layers/merging.py) --
from tensorweave.keras.layers.merging import (
    Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract, add, average,
    concatenate, dot, maximum, minimum, multiply, subtract)
# -- end merging --
# -- normalization (layers/normalization.py) --
from tensorweave.keras.layers.normalization import (
    BatchNormalization, LayerNormalization, UnitNormalization)
# -- end normalization --
# -- attention (layers/attention.py, multi_head_attention.py, einsum_dense.py,
#    group_normalization.py, time_distributed.py) --
from tensorweave.keras.layers.attention import AdditiveAttention, Attention
from tensorweave.keras.layers.einsum_dense import EinsumDense
from tensorweave.keras.layers.group_normalization import GroupNormalization
from tensorweave.keras.layers.multi_head_attention import MultiHeadAttention
from tensorweave.keras.layers.time_distributed import TimeDistributed, Wrapper
# -- end attention --
# -- convolution, pooling, spatial (layers/convolutional.py, pooling.py, spatial.py) --
from tensorweave.keras.layers.convolutional import (
    Conv1D, Conv1DTranspose, Conv2D, Conv2DTranspose, Conv3D, Conv3DTranspose, Convolution1D,
    Convolution1DTranspose, Convolution2D, Convolution2DTranspose, Convolution3D,
    Convolution3DTranspose, DepthwiseConv1D, DepthwiseConv2D, SeparableConv1D, SeparableConv2D,
    SeparableConvolution1D, SeparableConvolution2D)
from tensorweave.keras.layers.pooling import (
    AveragePooling1D, AveragePooling2D, AveragePooling3D, AvgPool1D, AvgPool2D, AvgPool3D,
    GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalAveragePooling3D, GlobalAvgPool1D,
    GlobalAvgPool2D, GlobalAvgPool3D, GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPool3D,
    GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalMaxPooling3D, MaxPool1D, MaxPool2D, MaxPool3D,
    MaxPooling1D, MaxPooling2D, MaxPooling3D)
from tensorweave.keras.layers.spatial import (
    Cropping1D, Cropping2D, Cropping3D, UpSampling1D, UpSampling2D, UpSampling3D, ZeroPadding1D,
    ZeroPadding2D, ZeroPadding3D)
# -- end convolution, pooling, spatial --
# -- recurrent (layers/rnn/) --
from tensorweave.keras.layers.rnn import (
    GRU, LSTM, RNN, Bidirectional, ConvLSTM1D, ConvLSTM2D, ConvLSTM3D, GRUCell, LSTMCell,
    SimpleRNN, SimpleRNNCell, StackedRNNCells)
# -- end recurrent --
# -- serialization (layers/serialization.py) --
from tensorweave.keras.layers.serialization import deserialize, serialize
# -- end serialization --
