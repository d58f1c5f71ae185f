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
