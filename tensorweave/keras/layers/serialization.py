"""keras.layers.serialize / deserialize: a layer to Keras 3's serialized dict and back, through
the one serializer of keras.saving."""
from __future__ import annotations

from tensorweave.keras.engine.layer import Layer
from tensorweave.keras.saving import serialization


def serialize(layer):
    """The layer as `{"module", "class_name", "config", "registered_name"}`."""
    return serialization.serialize_keras_object(layer)


def deserialize(config, custom_objects=None):
    """The layer a serialized dict describes; anything that is not a layer is a ValueError."""
    not_a_layer = ValueError("`keras.layers.deserialize` was passed a `config` object that is "
                             f"not a `keras.layers.Layer`. Received: {config}")
    if config is None or isinstance(config, str):
        raise not_a_layer
    found = serialization.deserialize_keras_object(config, custom_objects=custom_objects)
    if not isinstance(found, Layer):
        raise not_a_layer
    return found
