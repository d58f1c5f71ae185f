"""tf.config and tf.device: devices, memory growth, visible and logical devices, threading and
function flags, device scopes and device specs."""
import contextlib
import copy
import io

import numpy as np
import pytest

import tensorweave as tf
from tensorweave.framework import device as device_module
from tensorweave.framework.context import state

CPU_NAME = "/job:localhost/replica:0/task:0/device:CPU:0"


@pytest.fixture(autouse=True)
def _restore_config():
    saved = copy.deepcopy(device_module.config.__dict__)
    yield
    device_module.config.__dict__.update(saved)


def _cpu():
    return tf.config.list_physical_devices("CPU")[0]


def test_physical_and_logical_devices():
    cpu = tf.config.list_physical_devices()
    assert cpu == tf.config.list_physical_devices("CPU")
    assert repr(cpu) == "[PhysicalDevice(name='/physical_device:CPU:0', device_type='CPU')]"
    assert cpu[0].name == "/physical_device:CPU:0" and cpu[0].device_type == "CPU"
    assert tf.config.list_physical_devices("GPU") == []
    assert tf.config.list_physical_devices("cpu") == []  # device types are case sensitive
    logical = tf.config.list_logical_devices()
    assert repr(logical) == "[LogicalDevice(name='/device:CPU:0', device_type='CPU')]"
    assert tf.config.list_logical_devices("GPU") == []
    assert tf.config.experimental.list_physical_devices("CPU") == cpu
    assert tf.config.experimental.list_logical_devices() == logical
    assert isinstance(cpu[0], tf.config.PhysicalDevice)
    assert isinstance(logical[0], tf.config.LogicalDevice)


def test_memory_growth_and_memory_info():
    with pytest.raises(ValueError, match="non-GPU"):
        tf.config.experimental.set_memory_growth(_cpu(), True)
    with pytest.raises(ValueError, match="Unrecognized device: 'foo'"):
        tf.config.experimental.set_memory_growth("foo", True)
    with pytest.raises(ValueError, match="Unrecognized device"):
        tf.config.experimental.get_memory_growth("foo")
    with pytest.raises(KeyError):
        tf.config.experimental.get_memory_growth(_cpu())
    assert tf.config.experimental.get_memory_info("CPU:0") == {"current": 0, "peak": 0}
    with pytest.raises(ValueError, match="No matching devices found for 'GPU:0'"):
        tf.config.experimental.get_memory_info("GPU:0")
    assert tf.config.experimental.get_device_details(_cpu()) == {}


def test_device_configurations():
    conf = tf.config.experimental.VirtualDeviceConfiguration(memory_limit=2048)
    assert repr(conf) == ("LogicalDeviceConfiguration(memory_limit=2048, experimental_priority="
                          "None, experimental_device_ordinal=None)")
    assert tf.config.experimental.VirtualDeviceConfiguration is tf.config.LogicalDeviceConfiguration
    assert tf.config.LogicalDeviceConfiguration().memory_limit is None
    cpu = _cpu()
    assert tf.config.get_logical_device_configuration(cpu) is None
    with pytest.raises(ValueError, match="memory limit on CPU"):
        tf.config.set_logical_device_configuration(cpu, [conf])
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()])
    names = [d.name for d in tf.config.list_logical_devices("CPU")]
    assert names == ["/device:CPU:0", "/device:CPU:1"]
    assert len(tf.config.experimental.get_virtual_device_configuration(cpu)) == 2
    with tf.device("/CPU:1"):
        assert state.device.endswith("device:CPU:1")
    assert tf.config.experimental.get_memory_info("CPU:1")["current"] == 0


def test_visible_devices():
    assert tf.config.get_visible_devices() == tf.config.list_physical_devices()
    tf.config.set_visible_devices([], "GPU")
    assert tf.config.get_visible_devices("GPU") == []
    assert tf.config.experimental.get_visible_devices("CPU") == [_cpu()]
    with pytest.raises(ValueError, match="Unrecognized device"):
        tf.config.set_visible_devices("foo")
    with pytest.raises(ValueError):
        tf.config.set_visible_devices([])  # the CPU stays visible


def test_threading_and_flags():
    assert tf.config.threading.get_inter_op_parallelism_threads() == 0
    tf.config.threading.set_inter_op_parallelism_threads(2)
    tf.config.threading.set_intra_op_parallelism_threads(4)
    assert tf.config.threading.get_inter_op_parallelism_threads() == 2
    assert tf.config.threading.get_intra_op_parallelism_threads() == 4
    assert tf.config.functions_run_eagerly() is False
    tf.config.run_functions_eagerly(True)
    assert tf.config.functions_run_eagerly() is True
    assert device_module.config.run_functions_eagerly is True  # what tf.function reads
    tf.config.experimental_run_functions_eagerly(False)
    assert tf.config.experimental_functions_run_eagerly() is False
    assert tf.config.get_soft_device_placement() is True
    tf.config.set_soft_device_placement(False)
    assert tf.config.get_soft_device_placement() is False
    assert tf.config.experimental.get_device_policy() == "silent"
    tf.config.experimental.set_device_policy("explicit")
    assert tf.config.experimental.get_device_policy() == "explicit"
    with pytest.raises(ValueError, match="device_policy"):
        tf.config.experimental.set_device_policy("foo")
    assert tf.config.optimizer.get_jit() == ""
    tf.config.optimizer.set_jit(True)
    assert tf.config.optimizer.get_jit() == "autoclustering"
    tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})
    assert tf.config.optimizer.get_experimental_options()["disable_meta_optimizer"] is True
    assert tf.config.experimental.tensor_float_32_execution_enabled() is True
    tf.config.experimental.enable_tensor_float_32_execution(False)
    assert tf.config.experimental.tensor_float_32_execution_enabled() is False


def test_device_scope_runs_on_the_cpu():
    with tf.device("GPU:0"):
        a = tf.constant([1, 2, 3], dtype=tf.float32)
        b = tf.random.uniform((3,))
        c = tf.exp(a + b) * 2
    np.testing.assert_allclose(c.numpy(), np.exp(a.numpy() + b.numpy()) * 2, rtol=1e-6)
    assert a.device == CPU_NAME and c.device == CPU_NAME
    for name in ("GPU:0", "/GPU:0", "/gpu:0", "cpu:0", "/device:GPU:1", "GPU", "", None,
                 "/job:localhost/replica:0/task:0/device:GPU:0", "TPU:0", "/CPU:1"):
        with tf.device(name):
            assert state.device == CPU_NAME
    assert state.device == CPU_NAME


def test_device_scope_nesting_and_errors():
    with tf.device("/job:worker/task:1"):
        with tf.device("GPU:2"):
            spec = device_module.current_device_spec()
            assert spec.to_string() == "/job:worker/task:1/device:GPU:2"
        with tf.device(None):
            assert device_module.current_device_spec().to_string() == ""
    assert device_module.current_device_spec().to_string() == ""
    with pytest.raises(ZeroDivisionError):
        with tf.device("GPU:0"):
            1 / 0
    assert device_module.current_device_spec().to_string() == "" and state.device == CPU_NAME
    with pytest.raises(ValueError, match="Unknown attribute 'foo'"):
        tf.device("foo")
    with pytest.raises(ValueError, match="Unknown attribute 'GPU'"):
        tf.device("GPU:0:1")
    with pytest.raises(ValueError, match="Expecting a string device name"):
        tf.device(1)
    with pytest.raises(RuntimeError, match="does not support functions"):
        tf.device(lambda op: "/cpu:0")


def test_device_spec():
    spec = tf.DeviceSpec.from_string("/job:w/replica:0/task:2/gpu:1")
    assert (spec.job, spec.replica, spec.task, spec.device_type, spec.device_index) == \
        ("w", 0, 2, "GPU", 1)
    assert spec.to_string() == "/job:w/replica:0/task:2/device:GPU:1"
    assert tf.DeviceSpec(device_type="gpu").to_string() == "/device:GPU:*"
    assert tf.DeviceSpec.from_string("/device:gpu:1").device_type == "GPU"
    merged = spec.make_merged_spec(tf.DeviceSpec(device_type="CPU", device_index=0))
    assert merged.to_string() == "/job:w/replica:0/task:2/device:CPU:0"
    assert spec.replace(job="ps") == tf.DeviceSpec.from_string("/job:ps/replica:0/task:2/GPU:1")
    assert hash(spec) == hash(tf.DeviceSpec.from_string(spec.to_string()))


def test_seed_note_device_snippet():
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        gpus = tf.config.experimental.list_physical_devices(device_type='GPU')
        cpus = tf.config.experimental.list_physical_devices(device_type='CPU')
        print("GPU:", gpus, "\nCPU:", cpus)
        with tf.device('GPU:0'):
            a = tf.constant([1, 2, 3], dtype=tf.float32)
            b = tf.random.uniform((3,))
            print(tf.exp(a + b) * 2)
        tf.config.experimental.list_physical_devices('GPU')
        for gpu in tf.config.experimental.list_physical_devices('GPU'):
            tf.config.experimental.set_memory_growth(gpu, True)
            tf.config.experimental.VirtualDeviceConfiguration(memory_limit=2048)
        print(a.device)
    lines = out.getvalue().splitlines()
    assert lines[0] == "GPU: [] "
    assert lines[1] == "CPU: [PhysicalDevice(name='/physical_device:CPU:0', device_type='CPU')]"
    assert lines[2].startswith("tf.Tensor([") and lines[2].endswith("shape=(3,), dtype=float32)")
    assert lines[3] == CPU_NAME
