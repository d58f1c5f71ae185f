"""keras.utils: re-exports only."""
from tensorweave.keras.engine.session import get_source_inputs
from tensorweave.keras.utils.progbar import Progbar
from tensorweave.keras.saving.serialization import (
    CustomObjectScope, custom_object_scope, deserialize_keras_object, get_registered_name,
    get_registered_object, register_keras_serializable, serialize_keras_object)
# -- data utils --
from tensorweave.keras.utils.data_utils import normalize, set_random_seed, to_categorical
# -- end data utils --
