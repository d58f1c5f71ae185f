"""keras.utils: re-exports only."""
from tensorweave.keras.engine.session import get_source_inputs
from tensorweave.keras.saving.serialization import (
    custom_object_scope, get_registered_name, get_registered_object, register_keras_serializable)
