"""keras.config: re-exports only."""
from tensorweave.keras.engine.backend_config import (
    epsilon, floatx, image_data_format, set_epsilon, set_floatx, set_image_data_format)
from tensorweave.keras.saving.serialization import enable_unsafe_deserialization
