"""keras.saving: re-exports only; serialization lives in saving/serialization.py."""
from tensorweave.keras.saving.serialization import (
    CustomObjectScope, custom_object_scope, deserialize_keras_object, get_registered_name,
    get_registered_object, register_keras_serializable, serialize_keras_object)
from tensorweave.keras.saving.saving_api import (
    load_model, load_weights, save_model, save_weights)
