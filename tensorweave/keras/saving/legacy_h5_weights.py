"""The weight groups of the legacy HDF5 format (tf.keras 2, still read and written by Keras 3).

A weights group (the top of a `save_weights("x.h5")` file of tf.keras 2, or the `model_weights`
group of a whole-model `.h5` file) has the attribute `layer_names` (the model's layers, in order)
and one sub-group per layer, whose attribute `weight_names` lists the layer's weights in the legacy
order (trainable weights, then non-trainable ones) as paths relative to that sub-group
(`dense/kernel:0` written by tf.keras 2, `sequential/dense/kernel` by Keras 3). A model's own
weights (not held by a layer) go to the group `top_level_model_weights`. Attributes larger than
HDF5's object header limit are split into `<name>0`, `<name>1`...

Loading matches layers either in order (the layers that have weights, file and model alike) or by
name. Every count and shape is checked before any variable changes: a failed load leaves the model
as it was.
"""
from __future__ import annotations

import warnings

import numpy as np

HDF5_OBJECT_HEADER_LIMIT = 64512
TOP_LEVEL_GROUP = "top_level_model_weights"


def legacy_weights(layer) -> list:
    """A layer's weights in the order the legacy format uses: trainable, then non-trainable."""
    return list(layer.trainable_weights) + list(layer.non_trainable_weights)


def _own_model_weights(model) -> list:
    """The weights a model holds itself (not through one of its layers)."""
    listed = {id(w) for w in model.weights}
    own = list(getattr(model, "_trainable_variables", [])) + list(
        getattr(model, "_non_trainable_variables", []))
    return [w for w in own if id(w) in listed]


def _to_array(value) -> np.ndarray:
    return np.asarray(value.numpy() if hasattr(value, "numpy") else value)


def _decode(value):
    return value.decode("utf8") if isinstance(value, bytes) else value


# -- attributes ---------------------------------------------------------------------------------
def save_attributes_to_hdf5_group(group, name: str, data: list) -> None:
    """Writes the list `data` as the attribute `name` of `group`, split into numbered chunks
    (`name0`, `name1`...) when one attribute would exceed HDF5's object header limit."""
    too_large = [x for x in data if len(x) > HDF5_OBJECT_HEADER_LIMIT]
    if too_large:
        raise RuntimeError("The following attributes cannot be saved to HDF5 file because they "
                           f"are larger than {HDF5_OBJECT_HEADER_LIMIT} bytes: {too_large}")
    as_array = np.asarray(data)
    chunks = 1
    pieces = np.array_split(as_array, chunks)
    while any(piece.nbytes > HDF5_OBJECT_HEADER_LIMIT for piece in pieces):
        chunks += 1
        pieces = np.array_split(as_array, chunks)
    if chunks == 1:
        group.attrs[name] = data
        return
    for i, piece in enumerate(pieces):
        group.attrs[f"{name}{i}"] = piece


def load_attributes_from_hdf5_group(group, name: str) -> list:
    """The list stored as attribute `name` of `group` (joining chunks), strings decoded."""
    if name in group.attrs:
        return [_decode(x) for x in group.attrs[name]]
    out: list = []
    i = 0
    while f"{name}{i}" in group.attrs:
        out.extend(_decode(x) for x in group.attrs[f"{name}{i}"])
        i += 1
    return out


# -- safe access --------------------------------------------------------------------------------
def _member(parent, part: str, path: str, expected, what: str):
    """`parent[part]`, refusing links (as Keras does) and members of another kind."""
    import h5py
    if part not in parent:
        raise KeyError(path)
    kind = parent.get(part, default=None, getclass=True, getlink=True)
    if kind in (h5py.ExternalLink, h5py.SoftLink):
        raise ValueError(f"Not allowed: H5 file with {kind.__name__}")
    member = parent[part]
    if not isinstance(member, expected):
        raise ValueError(f"Expected an H5 {what} at '{path}', found {type(member).__name__}.")
    return member


def get_group(parent, name: str):
    """The sub-group `name` of `parent`; links and non-groups are refused."""
    import h5py
    current = parent
    for part in name.split("/"):
        if not part:
            raise ValueError(f"Invalid path in H5 file: {name}")
        current = _member(current, part, name, h5py.Group, "group")
    return current


def get_dataset(group, name: str):
    """The dataset at path `name` under `group` (links refused)."""
    import h5py
    if "/" in name:
        parent, name = name.rsplit("/", 1)
        group = get_group(group, parent)
    return _member(group, name, name, h5py.Dataset, "dataset")


# -- writing ------------------------------------------------------------------------------------
def _write_values(group, names: list, values: list) -> None:
    for name, value in zip(names, values):
        dataset = group.create_dataset(name, value.shape, dtype=value.dtype)
        if value.shape:
            dataset[:] = value
        else:
            dataset[()] = value


def save_subset_weights_to_hdf5_group(group, weights: list) -> None:
    """Writes `weights` under `group`, named by their paths, listed in `weight_names`."""
    names = [str(getattr(w, "path", None) or w.name).encode("utf8") for w in weights]
    save_attributes_to_hdf5_group(group, "weight_names", names)
    _write_values(group, names, [_to_array(w) for w in weights])


def save_weights_to_hdf5_group(group, model, backend_name: str = "tensorflow",
                               keras_version: str = "3.15.1") -> None:
    """Writes every layer's weights of `model` into `group` (the legacy layout)."""
    layers = list(model.layers)
    save_attributes_to_hdf5_group(group, "layer_names", [l.name.encode("utf8") for l in layers])
    group.attrs["backend"] = backend_name.encode("utf8")
    group.attrs["keras_version"] = str(keras_version).encode("utf8")
    # sorted by name, so that no group name is created after a longer one it prefixes
    for layer in sorted(layers, key=lambda l: l.name):
        save_subset_weights_to_hdf5_group(group.create_group(layer.name), legacy_weights(layer))
    save_subset_weights_to_hdf5_group(group.create_group(TOP_LEVEL_GROUP),
                                      _own_model_weights(model))


def save_optimizer_weights_to_hdf5_group(h5file, optimizer) -> None:
    """Writes the optimizer's variables to the group `optimizer_weights` (if it has any)."""
    variables = list(getattr(optimizer, "variables", None) or [])
    if not variables:
        return
    group = h5file.create_group("optimizer_weights")
    names = [str(getattr(v, "path", None) or v.name).encode("utf8") for v in variables]
    save_attributes_to_hdf5_group(group, "weight_names", names)
    _write_values(group, names, [_to_array(v) for v in variables])


# -- reading ------------------------------------------------------------------------------------
def load_subset_weights_from_hdf5_group(group) -> list:
    """The arrays listed by `weight_names` of a layer's group, in order."""
    names = load_attributes_from_hdf5_group(group, "weight_names")
    return [np.asarray(get_dataset(group, name)) for name in names]


def load_optimizer_weights_from_hdf5_group(h5file) -> list:
    group = get_group(h5file, "optimizer_weights")
    names = load_attributes_from_hdf5_group(group, "weight_names")
    return [np.asarray(get_dataset(group, name)) for name in names]


def _shape(variable) -> tuple:
    return tuple(variable.shape.as_list())


class _Plan:
    """The assignments a load will make, collected while checking; nothing changes until
    `apply`, which undoes every assignment if one of them fails."""

    def __init__(self):
        self.pairs: list = []

    def add(self, variable, value) -> None:
        self.pairs.append((variable, value))

    def apply(self) -> None:
        snapshot = [(v, np.array(v.numpy())) for v, _ in self.pairs]
        try:
            for variable, value in self.pairs:
                variable.assign(np.asarray(value).astype(variable.dtype.as_numpy_dtype))
        except BaseException:
            for variable, value in snapshot:
                variable.assign(value)
            raise


def _check_weights(plan: _Plan, weights: list, values: list, what: str,
                   skip_mismatch: bool) -> None:
    """Adds `weights[i] <- values[i]` to the plan; a shape mismatch raises, or with
    `skip_mismatch` warns and leaves that weight as it is."""
    for variable, value in zip(weights, values):
        expected, received = _shape(variable), tuple(value.shape)
        if expected != received:
            detail = (f"weight {getattr(variable, 'path', variable.name)}. Weight expects shape "
                      f"{expected}. Received saved weight with shape {received}")
            if skip_mismatch:
                warnings.warn(f"Skipping loading weights for {what} due to mismatch in shape for "
                              f"{detail}", stacklevel=4)
                continue
            raise ValueError(f"Shape mismatch in {what} for {detail}")
        plan.add(variable, value)


def _version_and_backend(group) -> tuple:
    version = _decode(group.attrs["keras_version"]) if "keras_version" in group.attrs else "1"
    backend = _decode(group.attrs["backend"]) if "backend" in group.attrs else None
    return version, backend


def load_weights_from_hdf5_group(group, model, skip_mismatch: bool = False) -> None:
    """Topological loading: the i-th layer with weights in the file goes to the i-th layer with
    weights in `model`. A different number of such layers, or of weights in one layer, raises;
    a shape mismatch raises unless `skip_mismatch` (then that weight is skipped, with a
    warning). Nothing changes unless every check passes."""
    _version_and_backend(group)
    layers = [layer for layer in model.layers if legacy_weights(layer)]
    names = [name for name in load_attributes_from_hdf5_group(group, "layer_names")
             if load_attributes_from_hdf5_group(get_group(group, name), "weight_names")]
    if len(names) != len(layers):
        raise ValueError("Layer count mismatch when loading weights from file. Model expected "
                         f"{len(layers)} layers, found {len(names)} saved layers.")
    plan = _Plan()
    for k, (name, layer) in enumerate(zip(names, layers)):
        weights = legacy_weights(layer)
        values = load_subset_weights_from_hdf5_group(get_group(group, name))
        if len(values) != len(weights):
            raise ValueError(f"Weight count mismatch for layer #{k} (named {layer.name} in the "
                             f"current model, {name} in the save file). Layer expects "
                             f"{len(weights)} weight(s). Received {len(values)} saved weight(s)")
        _check_weights(plan, weights, values, f"layer #{k} (named {layer.name})", skip_mismatch)
    if TOP_LEVEL_GROUP in group:
        weights = _own_model_weights(model)
        values = load_subset_weights_from_hdf5_group(get_group(group, TOP_LEVEL_GROUP))
        if len(values) != len(weights):
            raise ValueError("Weight count mismatch for top-level weights when loading weights "
                             f"from file. Model expects {len(weights)} top-level weight(s). "
                             f"Received {len(values)} saved top-level weight(s)")
        _check_weights(plan, weights, values, "top-level model", skip_mismatch)
    plan.apply()


def load_weights_from_hdf5_group_by_name(group, model, skip_mismatch: bool = False) -> None:
    """Name-based loading: each saved layer goes to the model's layers of the same name (others
    are left alone). A count or shape mismatch raises, or with `skip_mismatch` is skipped with a
    warning (the whole layer for a count mismatch, the weight for a shape mismatch). Nothing
    changes unless every check passes."""
    _version_and_backend(group)
    index: dict = {}
    for layer in model.layers:
        if layer.name:
            index.setdefault(layer.name, []).append(layer)
    plan = _Plan()
    for k, name in enumerate(load_attributes_from_hdf5_group(group, "layer_names")):
        values = load_subset_weights_from_hdf5_group(get_group(group, name))
        for layer in index.get(name, []):
            weights = legacy_weights(layer)
            if len(values) != len(weights):
                counts = (f"Layer expects {len(weights)} weight(s). Received {len(values)} "
                          "saved weight(s)")
                if skip_mismatch:
                    warnings.warn(f"Skipping loading of weights for layer #{k} (named "
                                  f"{layer.name}) due to mismatch in number of weights. "
                                  + counts, stacklevel=3)
                    continue
                raise ValueError(f"Weight count mismatch for layer #{k} (named {layer.name}). "
                                 + counts)
            _check_weights(plan, weights, values, f"layer #{k} (named {layer.name})",
                           skip_mismatch)
    if TOP_LEVEL_GROUP in group:
        weights = list(getattr(model, "_trainable_variables", [])) + list(
            getattr(model, "_non_trainable_variables", []))
        values = load_subset_weights_from_hdf5_group(get_group(group, TOP_LEVEL_GROUP))
        if len(values) != len(weights):
            message = (f"Model expects {len(weights)} top-level weight(s). Received "
                       f"{len(values)} saved top-level weight(s)")
            if not skip_mismatch:
                raise ValueError("Weight count mismatch for top-level weights of model. "
                                 + message)
            warnings.warn("Skipping loading top-level weights for model due to mismatch in "
                          "number of weights. " + message, stacklevel=3)
        else:
            _check_weights(plan, weights, values, "top-level model", skip_mismatch)
    plan.apply()


def load_weights_from_hdf5(model, filepath_or_h5file, by_name: bool = False,
                           skip_mismatch: bool = False) -> None:
    """Loads a legacy `.h5` weights file (or the `model_weights` of a whole-model file) into
    `model`: a path, a file object, an open `h5py.File` or a group."""
    from tensorweave.keras.saving import saving_lib
    h5py = saving_lib.h5py_module("load")
    if isinstance(filepath_or_h5file, (h5py.File, h5py.Group)):
        _load_group(filepath_or_h5file, model, by_name, skip_mismatch)
        return
    with h5py.File(filepath_or_h5file, "r") as h5file:
        _load_group(h5file, model, by_name, skip_mismatch)


def _load_group(group, model, by_name: bool, skip_mismatch: bool) -> None:
    has_names = "layer_names" in group.attrs or "layer_names0" in group.attrs
    if not has_names and "model_weights" in group:
        group = get_group(group, "model_weights")
    if by_name:
        load_weights_from_hdf5_group_by_name(group, model, skip_mismatch)
    else:
        load_weights_from_hdf5_group(group, model, skip_mismatch)
