"""tf.keras / keras: re-exports only; the engine lives in keras/engine/, layers in keras/layers/."""
from tensorweave.keras import (  # noqa: F401 - namespaces
    activations, backend, callbacks, config, constraints, datasets, initializers, layers, losses,
    metrics, models, optimizers, regularizers, saving, utils)
from tensorweave.keras.engine.functional import Functional  # noqa: F401
from tensorweave.keras.engine.input_layer import Input
from tensorweave.keras.engine.input_spec import InputSpec
from tensorweave.keras.engine.keras_tensor import KerasTensor
from tensorweave.keras.engine.layer import Layer
from tensorweave.keras.engine.model import Model
from tensorweave.keras.engine.sequential import Sequential
from tensorweave.keras.engine.variable import Variable
