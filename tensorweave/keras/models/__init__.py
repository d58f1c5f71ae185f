"""keras.models: re-exports only."""
from tensorweave.keras.engine.functional import Functional  # noqa: F401
from tensorweave.keras.engine.model import Model
from tensorweave.keras.engine.sequential import Sequential
from tensorweave.keras.models.cloning import clone_model
from tensorweave.keras.saving.saving_api import (
    load_model, model_from_config, model_from_json, save_model)
