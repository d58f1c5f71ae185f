"""keras.optimizers.get / serialize / deserialize: optimizers by name or config."""
from __future__ import annotations

from tensorweave.keras.optimizers.adadelta import Adadelta
from tensorweave.keras.optimizers.adafactor import Adafactor
from tensorweave.keras.optimizers.adagrad import Adagrad
from tensorweave.keras.optimizers.adam import Adam, AdamW
from tensorweave.keras.optimizers.adamax import Adamax
from tensorweave.keras.optimizers.base_optimizer import Optimizer
from tensorweave.keras.optimizers.ftrl import Ftrl
from tensorweave.keras.optimizers.lion import Lion
from tensorweave.keras.optimizers.nadam import Nadam
from tensorweave.keras.optimizers.rmsprop import RMSprop
from tensorweave.keras.optimizers.sgd import SGD
from tensorweave.keras.saving import serialization

# The classes `get` and `deserialize` know by (case-insensitive) name; as in Keras 3, Lamb is
# not one of them.
ALL_OBJECTS = (Optimizer, Adam, SGD, RMSprop, Adadelta, AdamW, Adagrad, Adamax, Adafactor,
               Nadam, Ftrl, Lion)
ALL_OBJECTS_DICT = {cls.__name__.lower(): cls for cls in ALL_OBJECTS}


def serialize(optimizer):
    """Keras 3's dict for an optimizer."""
    return serialization.serialize_keras_object(optimizer)


def deserialize(config, custom_objects=None):
    """The optimizer a serialized dict describes (built-in class names in any case)."""
    if config["class_name"].lower() in ALL_OBJECTS_DICT:
        config["class_name"] = config["class_name"].lower()
    return serialization.deserialize_keras_object(config, module_objects=ALL_OBJECTS_DICT,
                                                  custom_objects=custom_objects)


def get(identifier):
    """An optimizer: None stays None, an instance is returned as it is, a name ("adam",
    "RMSprop"...) gives a new instance with the default arguments, a dict is deserialized."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        found = deserialize(identifier)
    elif isinstance(identifier, str):
        found = serialization.get_object(identifier.lower(), "optimizer", ALL_OBJECTS_DICT)
    else:
        found = identifier
    if isinstance(found, Optimizer):
        return found
    raise ValueError(f"Could not interpret optimizer identifier: {identifier}")
