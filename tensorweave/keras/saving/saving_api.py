"""keras.saving.save_model / save_weights / load_weights (Model.save, save_weights and
load_weights call these): Keras 3's argument checks and errors, the formats in saving_lib."""
from __future__ import annotations

import io
import os
import warnings
import zipfile

from tensorweave.keras.saving import saving_lib


def ask_to_proceed_with_overwrite(filepath) -> bool:
    """Asks on the terminal whether to overwrite `filepath` (Keras's prompt)."""
    answer = input(f"[WARNING] {filepath} already exists - overwrite? [y/n]").strip().lower()
    while answer not in ("y", "n"):
        answer = input('Enter "y" (overwrite) or "n" (cancel).').strip().lower()
    if answer == "n":
        return False
    print("[TIP] Next time specify overwrite=True!")
    return True


def _exists(filepath) -> bool:
    try:
        return os.path.exists(filepath)
    except TypeError:
        return False


def save_model(model, filepath, overwrite: bool = True, zipped=None, **kwargs) -> None:
    """Saves `model` as a `.keras` zip archive (config, metadata, weights and optimizer state),
    or, with `zipped=False`, as a directory holding the same three files."""
    include_optimizer = kwargs.pop("include_optimizer", True)
    save_format = kwargs.pop("save_format", False)
    path_str = str(filepath)
    if save_format:
        if not path_str.endswith((".h5", ".hdf5", ".keras")):
            raise ValueError("The `save_format` argument is deprecated in Keras 3. Please remove "
                             "this argument and pass a file path with either `.keras` or `.h5` "
                             f"extension.Received: save_format={save_format}")
        warnings.warn("The `save_format` argument is deprecated in Keras 3. We recommend removing "
                      "this argument as it can be inferred from the file path. "
                      f"Received: save_format={save_format}", stacklevel=2)
    if kwargs:
        raise ValueError(f"The following argument(s) are not supported: {list(kwargs.keys())}")
    if not model.built:
        warnings.warn("You are saving a model that has not yet been built. It might not contain "
                      "any weights yet. Consider building the model first by calling it on some "
                      "data.", stacklevel=2)
    if isinstance(filepath, io.IOBase):
        saving_lib.write_keras_archive(model, filepath)
        return
    if zipped is None:
        zipped = True
    if _exists(filepath) and not overwrite:
        if not ask_to_proceed_with_overwrite(filepath):
            return
    if zipped and path_str.endswith(".keras"):
        with saving_lib.atomic_path(filepath) as tmp:
            with open(tmp, "wb") as f:
                saving_lib.write_keras_archive(model, f)
        return
    if not zipped:
        if path_str.endswith(".keras"):
            raise ValueError("When using `zipped=False`, the `filepath` argument should not end "
                             f"in `.keras`. Received: filepath={filepath}")
        saving_lib.write_keras_directory(model, filepath)
        return
    if path_str.endswith((".h5", ".hdf5")):
        from tensorweave.keras.saving import legacy_h5
        warnings.warn(legacy_h5.LEGACY_FORMAT_WARNING, stacklevel=2)
        # the overwrite question was asked above
        legacy_h5.save_model_to_hdf5(model, filepath, overwrite=True,
                                     include_optimizer=include_optimizer)
        return
    raise ValueError("Invalid filepath extension for saving. Please add either a `.keras` "
                     "extension for the native Keras format (recommended) or a `.h5` extension. "
                     "Use `model.export(filepath)` if you want to export a SavedModel for use "
                     f"with TFLite/TFServing/etc. Received: filepath={filepath}.")


def save_weights(model, filepath, overwrite: bool = True, max_shard_size=None, **kwargs) -> None:
    """Writes the weights of `model` (and its optimizer's state) to a `.weights.h5` file."""
    path_str = str(filepath)
    if max_shard_size is None and not path_str.endswith(".weights.h5"):
        raise ValueError(f"The filename must end in `.weights.h5`. Received: filepath={path_str}")
    if max_shard_size is not None:
        if not path_str.endswith(("weights.h5", "weights.json")):
            raise ValueError("The filename must end in `.weights.json` when `max_shard_size` is "
                             f"specified. Received: filepath={path_str}")
        raise NotImplementedError("Sharded weights files (`max_shard_size`) are not supported "
                                  "yet by tensorweave.")
    objects_to_skip = kwargs.pop("objects_to_skip", None)
    if kwargs:
        raise TypeError(f"save_weights() got unexpected keyword arguments: {sorted(kwargs)}")
    if _exists(filepath) and not overwrite:
        if not ask_to_proceed_with_overwrite(path_str):
            return
    if not model.built:
        raise ValueError("You are saving a model that has not yet been built. Try building the "
                         "model first by calling it on some data or by using `build()`.")
    with saving_lib.atomic_path(filepath) as tmp:
        saving_lib.write_weights(model, tmp, objects_to_skip=objects_to_skip)


def load_weights(model, filepath, skip_mismatch: bool = False, **kwargs) -> None:
    """Loads weights written by `save_weights` or `save_model` (here or by Keras 3). Every shape
    is checked before any variable changes; a failed load leaves the model as it was."""
    path_str = str(filepath)
    objects_to_skip = kwargs.pop("objects_to_skip", None)
    by_name = kwargs.pop("by_name", None)
    if kwargs:
        raise ValueError(f"Invalid keyword arguments: {kwargs}")
    if path_str.endswith(".keras"):
        if objects_to_skip is not None:
            raise ValueError("`objects_to_skip` only supports loading '.weights.h5' files."
                             f"Received: {filepath}")
        if by_name is not None:
            raise ValueError("`by_name` only supports loading legacy '.h5' or '.hdf5' files. "
                             f"Received: {filepath}")
    elif path_str.endswith((".weights.h5", ".weights.json")):
        if by_name is not None:
            raise ValueError("`by_name` only supports loading legacy '.h5' or '.hdf5' files. "
                             f"Received: {filepath}")
        if path_str.endswith(".weights.json"):
            raise NotImplementedError("Sharded weights files (`.weights.json`) are not supported "
                                      "yet by tensorweave.")
    elif path_str.endswith((".h5", ".hdf5")):
        if objects_to_skip is not None:
            raise ValueError("`objects_to_skip` only supports loading '.weights.h5' files."
                             f"Received: {filepath}")
        from tensorweave.keras.saving import legacy_h5_weights
        legacy_h5_weights.load_weights_from_hdf5(model, filepath, by_name=bool(by_name),
                                                 skip_mismatch=skip_mismatch)
        return
    else:
        raise ValueError(f"File format not supported: filepath={filepath}. Keras 3 only supports "
                         "V3 `.keras` files, `.weights.h5` files, legacy H5 format files (`.h5` "
                         "extension), or Orbax checkpoints.")
    if not model.built:
        raise ValueError("You are loading weights into a model that has not yet been built. Try "
                         "building the model first by calling it on some data or by using "
                         "`build()`.")
    saving_lib.load_weights_file(model, filepath, skip_mismatch=skip_mismatch,
                                 objects_to_skip=objects_to_skip)


def load_model(filepath, custom_objects=None, compile: bool = True, safe_mode: bool = True):
    """Loads a model saved with `model.save()`: a `.keras` file (written here or by Keras 3),
    its unzipped directory, or a legacy `.h5` file. `custom_objects` maps names to the user's
    classes and functions; `compile=False` skips the saved `compile()`; `safe_mode=False` allows
    loading Python lambdas (code stored in the file)."""
    if isinstance(filepath, io.IOBase):
        return saving_lib.read_keras_archive(filepath, custom_objects, compile, safe_mode)
    path_str = str(filepath)
    if os.path.isdir(path_str) and os.path.exists(os.path.join(path_str,
                                                               saving_lib.CONFIG_FILENAME)):
        return saving_lib.read_keras_directory(path_str, custom_objects, compile, safe_mode)
    if path_str.endswith(".keras") and os.path.isfile(path_str):
        with open(path_str, "rb") as f:
            if not zipfile.is_zipfile(f):
                raise ValueError(f"{path_str} is not a valid `.keras` zip archive (it may be "
                                 "truncated or corrupted).")
            f.seek(0)
            return saving_lib.read_keras_archive(f, custom_objects, compile, safe_mode,
                                                 filepath=path_str)
    if path_str.endswith((".h5", ".hdf5")):
        from tensorweave.keras.saving import legacy_h5
        return legacy_h5.load_model_from_hdf5(filepath, custom_objects=custom_objects,
                                              compile=compile, safe_mode=safe_mode)
    if path_str.endswith(".keras"):
        raise ValueError(f"File not found: filepath={filepath}. Please ensure the file is an "
                         "accessible `.keras` zip file.")
    raise ValueError(f"File format not supported: filepath={filepath}. Keras 3 only supports V3 "
                     "`.keras` files, legacy H5 format files (`.h5` extension). Note that the "
                     "legacy SavedModel format is not supported by `load_model()` in Keras 3.")


def model_from_json(json_string: str, custom_objects=None):
    """The (uncompiled, newly initialized) model a `model.to_json()` string describes."""
    return saving_lib.model_from_config_json(json_string, custom_objects, compile=False)


def model_from_config(config, custom_objects=None):
    """The model a `get_config`-style dict (`{"class_name", "config"}`) describes."""
    from tensorweave.keras.saving import serialization
    if isinstance(config, list):
        raise TypeError("`model_from_config` expects a dictionary, not a list. Received: "
                        f"config={config}. Did you meant to use `Sequential.from_config(config)`?")
    with serialization.object_sharing_scope():
        return serialization.deserialize_keras_object(config, custom_objects)
