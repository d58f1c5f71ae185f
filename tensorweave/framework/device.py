"""Devices and runtime configuration: tf.device, tf.DeviceSpec and the state behind tf.config.

tensorweave runs every op on the host CPU. Device requests are parsed and scoped as TensorFlow
does, and then placed softly: a request for a GPU or TPU runs on the CPU, as TensorFlow does when
soft placement is on and no such device exists. The CPU may be split into several logical CPUs
(`tf.config.set_logical_device_configuration`), as distribution code does for testing.

The configuration flags live here, in the framework layer, so that `tf.function` and the
distribution code can read them (`run_functions_eagerly`, `op_determinism_enabled`...).
"""
from __future__ import annotations

import collections
from typing import Optional

from tensorweave.framework.context import state

_DEVICE_TYPES = frozenset({"CPU", "GPU", "TPU", "CUSTOM", "EPU"})
_HOST = "/job:localhost/replica:0/task:0"


# -- device specifications --------------------------------------------------------------------
class DeviceSpec:
    """A (possibly partial) device name: job, replica, task, device type and index.

    `tf.DeviceSpec.from_string("/job:worker/device:GPU:1")`, `spec.to_string()`,
    `spec.make_merged_spec(other)` (fields set in `other` win), `spec.replace(device_index=0)`.
    """

    __slots__ = ("_job", "_replica", "_task", "_device_type", "_device_index")

    def __init__(self, job: Optional[str] = None, replica: Optional[int] = None,
                 task: Optional[int] = None, device_type: Optional[str] = None,
                 device_index: Optional[int] = None):
        self._job = None if job is None else str(job)
        self._replica = None if replica is None else int(replica)
        self._task = None if task is None else int(task)
        if device_type is not None:
            device_type = str(device_type)
            # TensorFlow normalises the known types ("gpu" -> "GPU") and keeps others as given.
            if device_type.upper() in _DEVICE_TYPES:
                device_type = device_type.upper()
        self._device_type = device_type
        self._device_index = None if device_index is None else int(device_index)

    job = property(lambda self: self._job)
    replica = property(lambda self: self._replica)
    task = property(lambda self: self._task)
    device_type = property(lambda self: self._device_type)
    device_index = property(lambda self: self._device_index)

    @classmethod
    def from_string(cls, spec: str) -> "DeviceSpec":
        """Parses "/job:x/replica:0/task:0/device:GPU:0", "GPU:0", "/cpu:0", "" ..."""
        return cls(*_parse_device_string(spec))

    def parse_from_string(self, spec: str) -> "DeviceSpec":
        return DeviceSpec.from_string(spec)

    def to_string(self) -> str:
        parts = []
        if self._job is not None:
            parts.append(f"/job:{self._job}")
        if self._replica is not None:
            parts.append(f"/replica:{self._replica}")
        if self._task is not None:
            parts.append(f"/task:{self._task}")
        if self._device_type is not None:
            index = "*" if self._device_index is None else self._device_index
            parts.append(f"/device:{self._device_type}:{index}")
        return "".join(parts)

    def make_merged_spec(self, dev: "DeviceSpec") -> "DeviceSpec":
        """This spec with every field that `dev` sets taken from `dev`."""
        return DeviceSpec(*[mine if theirs is None else theirs
                            for mine, theirs in zip(self._fields(), dev._fields())])

    def replace(self, **kwargs) -> "DeviceSpec":
        fields = dict(zip(("job", "replica", "task", "device_type", "device_index"), self._fields()))
        fields.update(kwargs)
        return DeviceSpec(**fields)

    def _fields(self) -> tuple:
        return self._job, self._replica, self._task, self._device_type, self._device_index

    def __eq__(self, other):
        return isinstance(other, DeviceSpec) and self._fields() == other._fields()

    def __hash__(self):
        return hash(self._fields())

    def __repr__(self):
        return (f"<DeviceSpec(job={self._job}, replica={self._replica}, task={self._task}, "
                f"device_type={self._device_type}, device_index={self._device_index})>")


def _parse_device_string(spec: str) -> tuple:
    job = replica = task = device_type = device_index = None
    for part in spec.split("/"):
        if not part:
            continue
        fields = part.split(":")
        key = fields[0]
        if len(fields) == 2 and key == "job":
            job = fields[1]
        elif len(fields) == 2 and key == "replica":
            replica = int(fields[1])
        elif len(fields) == 2 and key == "task":
            task = int(fields[1])
        elif len(fields) in (1, 2) and key.upper() in _DEVICE_TYPES:
            device_type = key.upper()
            if len(fields) == 2 and fields[1] != "*":
                device_index = int(fields[1])
        elif len(fields) == 3 and key == "device":
            device_type = fields[1]
            if fields[2] != "*":
                device_index = int(fields[2])
        else:
            raise ValueError(f"Unknown attribute '{key}' is encountered while parsing the device "
                             f"spec: '{spec}'.")
    return job, replica, task, device_type, device_index


# -- tf.device ----------------------------------------------------------------------------------
_EMPTY_SPEC = DeviceSpec()
_scope = [_EMPTY_SPEC]  # the requested (merged) device spec of every open tf.device block


def _placed_device(spec: DeviceSpec) -> str:
    """The full name of the device an op requested as `spec` runs on (soft placement)."""
    index = 0
    if spec.device_type == "CPU" and spec.device_index is not None \
            and spec.device_index < _logical_cpu_count():
        index = spec.device_index
    return f"{_HOST}/device:CPU:{index}"


class _DeviceScope:
    """What `tf.device(name)` returns: a context manager that opens a device scope."""

    __slots__ = ("_spec", "_previous")

    def __init__(self, spec: Optional[DeviceSpec]):
        self._spec = spec
        self._previous = None

    def __enter__(self):
        outer = _scope[-1]
        spec = _EMPTY_SPEC if self._spec is None else outer.make_merged_spec(self._spec)
        self._previous = state.device
        _scope.append(spec)
        state.device = _placed_device(spec)

    def __exit__(self, *exc_info):
        _scope.pop()
        state.device = self._previous
        return False


def device(device_name) -> _DeviceScope:
    """tf.device: ops created in the block request `device_name` ("GPU:0", "/cpu:0", ...).

    Every op runs on the CPU; a request for another device is placed there softly, as
    TensorFlow does when no such device exists.
    """
    if callable(device_name):
        raise RuntimeError("tf.device does not support functions.")
    if device_name is None:
        return _DeviceScope(None)
    if isinstance(device_name, DeviceSpec):
        return _DeviceScope(device_name)
    if not isinstance(device_name, str):
        raise ValueError(f"Expecting a string device name. Got {type(device_name)}({device_name})")
    return _DeviceScope(DeviceSpec.from_string(device_name))


def current_device_spec() -> DeviceSpec:
    """The device the innermost open `tf.device` block requested (empty outside any)."""
    return _scope[-1]


# -- physical and logical devices ------------------------------------------------------------
PhysicalDevice = collections.namedtuple("PhysicalDevice", ["name", "device_type"])
PhysicalDevice.__doc__ = "A device of the machine: `PhysicalDevice(name, device_type)`."

LogicalDevice = collections.namedtuple("LogicalDevice", ["name", "device_type"])
LogicalDevice.__doc__ = "A device ops can be placed on: `LogicalDevice(name, device_type)`."

LogicalDeviceConfiguration = collections.namedtuple(
    "LogicalDeviceConfiguration",
    ["memory_limit", "experimental_priority", "experimental_device_ordinal"],
    defaults=(None, None, None))
LogicalDeviceConfiguration.__doc__ = "How one logical device is carved out of a physical one."
VirtualDeviceConfiguration = LogicalDeviceConfiguration

_CPU = PhysicalDevice("/physical_device:CPU:0", "CPU")
_PHYSICAL = (_CPU,)


class _Config:
    """The runtime configuration that tf.config reads and writes."""

    def __init__(self):
        self.visible = list(_PHYSICAL)
        self.logical = {}  # PhysicalDevice -> list of LogicalDeviceConfiguration
        self.memory_growth = {}
        self.soft_placement = True
        self.device_policy = "silent"
        self.synchronous_execution = True
        self.tensor_float_32 = True
        self.op_determinism = False
        self.inter_op_threads = 0
        self.intra_op_threads = 0
        self.run_functions_eagerly = False
        self.jit = False
        self.optimizer_options = {"disable_model_pruning": False, "disable_meta_optimizer": False}


config = _Config()


def _check_known(device) -> None:
    if device not in _PHYSICAL:
        raise ValueError(f"Unrecognized device: {device!r}")


def _logical_cpu_count() -> int:
    return len(config.logical.get(_CPU, ())) or 1


def list_physical_devices(device_type: Optional[str] = None) -> list:
    """The machine's devices of `device_type` ("CPU", "GPU"...; None: all): one CPU here."""
    return [d for d in _PHYSICAL if device_type is None or d.device_type == device_type]


def list_logical_devices(device_type: Optional[str] = None) -> list:
    """The devices ops can be placed on: the visible CPU, split as configured."""
    out = []
    for phys in config.visible:
        if device_type is not None and phys.device_type != device_type:
            continue
        count = len(config.logical.get(phys, ())) or 1
        out.extend(LogicalDevice(f"/device:{phys.device_type}:{i}", phys.device_type)
                   for i in range(count))
    return out


def get_visible_devices(device_type: Optional[str] = None) -> list:
    """The physical devices the runtime uses (all by default)."""
    return [d for d in config.visible if device_type is None or d.device_type == device_type]


def set_visible_devices(devices, device_type: Optional[str] = None) -> None:
    """Restricts the devices the runtime uses; devices of other types than `device_type` stay."""
    if isinstance(devices, PhysicalDevice):
        devices = [devices]
    devices = list(devices)
    for d in devices:
        _check_known(d)
    if device_type is not None:
        devices = [d for d in devices if d.device_type == device_type]
        devices += [d for d in config.visible if d.device_type != device_type]
    if not any(d.device_type == "CPU" for d in devices):
        raise ValueError("TensorFlow requires at least one CPU device to be visible.")
    config.visible = [d for d in _PHYSICAL if d in devices]


def get_logical_device_configuration(device) -> Optional[list]:
    """The logical devices configured on `device`, or None when it is not split."""
    _check_known(device)
    configs = config.logical.get(device)
    return None if configs is None else list(configs)


def set_logical_device_configuration(device, logical_devices) -> None:
    """Splits `device` into logical devices (several CPUs for testing distribution code)."""
    _check_known(device)
    if logical_devices is None:
        config.logical.pop(device, None)
        return
    logical_devices = list(logical_devices)
    if device.device_type == "CPU":
        for conf in logical_devices:
            if conf.memory_limit is not None:
                raise ValueError("Setting memory limit on CPU virtual devices is currently not "
                                 "supported")
    config.logical[device] = logical_devices


def set_memory_growth(device, enable: bool) -> None:
    """Lets a GPU's memory grow on demand; there are no GPUs here, as TF says for a CPU."""
    _check_known(device)
    if device.device_type not in ("GPU",):
        raise ValueError("Cannot set memory growth on non-GPU and non-Pluggable devices")
    config.memory_growth[device] = bool(enable)


def get_memory_growth(device) -> bool:
    _check_known(device)
    return config.memory_growth[device]  # KeyError for a CPU, as TensorFlow


def get_device_details(device) -> dict:
    _check_known(device)
    return {}


def _check_device_name(device: str) -> None:
    spec = DeviceSpec.from_string(device)
    if spec.device_type != "CPU" or (spec.device_index or 0) >= _logical_cpu_count():
        raise ValueError(f"No matching devices found for '{device}'")


def get_memory_info(device: str) -> dict:
    """Memory in use on `device` ("CPU:0"); the host CPU reports none, as TensorFlow."""
    _check_device_name(device)
    return {"current": 0, "peak": 0}


def get_memory_usage(device: str) -> int:
    return get_memory_info(device)["current"]


def reset_memory_stats(device: str) -> None:
    _check_device_name(device)


def get_soft_device_placement() -> bool:
    return config.soft_placement


def set_soft_device_placement(enabled: bool) -> None:
    """Stored only: ops always run on the CPU."""
    config.soft_placement = bool(enabled)


_DEVICE_POLICIES = (None, "warn", "explicit", "silent", "silent_for_int32")


def get_device_policy() -> str:
    return config.device_policy


def set_device_policy(device_policy: Optional[str]) -> None:
    if device_policy not in _DEVICE_POLICIES:
        raise ValueError(f"Invalid argument `device_policy`: {device_policy!r}. Please refer to "
                         "https://www.tensorflow.org/api_docs/python/tf/config/experimental/"
                         "set_device_policy for valid `device_policy` arguments.")
    config.device_policy = "silent" if device_policy is None else device_policy


def get_synchronous_execution() -> bool:
    return config.synchronous_execution


def set_synchronous_execution(enable: bool) -> None:
    config.synchronous_execution = bool(enable)


def tensor_float_32_execution_enabled() -> bool:
    return config.tensor_float_32


def enable_tensor_float_32_execution(enabled: bool) -> None:
    """Stored only: NumPy computes float32 in float32 on the CPU."""
    config.tensor_float_32 = bool(enabled)


def enable_op_determinism() -> None:
    """Asks every op to be deterministic: random ops then refuse to run without a seed."""
    config.op_determinism = True


def disable_op_determinism() -> None:
    config.op_determinism = False


def op_determinism_enabled() -> bool:
    return config.op_determinism


def enable_mlir_bridge() -> None:
    """Accepted for compatibility; there is no MLIR bridge here."""


def disable_mlir_bridge() -> None:
    """Accepted for compatibility; there is no MLIR bridge here."""


# -- threading ----------------------------------------------------------------------------------
def get_inter_op_parallelism_threads() -> int:
    return config.inter_op_threads


def set_inter_op_parallelism_threads(num_threads: int) -> None:
    config.inter_op_threads = int(num_threads)


def get_intra_op_parallelism_threads() -> int:
    return config.intra_op_threads


def set_intra_op_parallelism_threads(num_threads: int) -> None:
    config.intra_op_threads = int(num_threads)


# -- tf.function and optimizer options ----------------------------------------------------------
def run_functions_eagerly(run_eagerly: bool) -> None:
    """Makes every tf.function call run its Python function eagerly (for debugging)."""
    config.run_functions_eagerly = bool(run_eagerly)


def functions_run_eagerly() -> bool:
    return config.run_functions_eagerly


def get_jit():
    """'autoclustering' when XLA JIT was requested, '' otherwise (it is stored only)."""
    return "autoclustering" if config.jit else ""


def set_jit(enabled) -> None:
    config.jit = bool(enabled)


def get_experimental_options() -> dict:
    return dict(config.optimizer_options)


def set_experimental_options(options: dict) -> None:
    config.optimizer_options.update(options)
