"""tf.config: re-exports only; implementations live in tensorweave/framework/device.py."""
from tensorweave.framework.device import (
    LogicalDevice, LogicalDeviceConfiguration, PhysicalDevice, functions_run_eagerly,
    get_logical_device_configuration, get_soft_device_placement, get_visible_devices,
    list_logical_devices, list_physical_devices, run_functions_eagerly,
    set_logical_device_configuration, set_soft_device_placement, set_visible_devices)
from tensorweave.framework.device import functions_run_eagerly as experimental_functions_run_eagerly
from tensorweave.framework.device import run_functions_eagerly as experimental_run_functions_eagerly
from tensorweave.config import experimental, optimizer, threading
