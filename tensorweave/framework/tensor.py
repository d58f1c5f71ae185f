"""tf.Tensor: an immutable value wrapping one NumPy array (eager) or a graph value (symbolic)."""
from __future__ import annotations

import numpy as np

from tensorweave.framework import dtypes, memory  # noqa: F401 - memory: tunes the allocator
from tensorweave.framework.tensor_shape import TensorShape

CPU_DEVICE = "/job:localhost/replica:0/task:0/device:CPU:0"


def _numpy_text(value, is_repr: bool) -> str:
    if value.ndim == 0:
        item = value.item() if isinstance(value, (np.ndarray, np.generic)) else value
        text = repr(item) if is_repr else str(value if not isinstance(item, bytes) else item)
    else:
        text = repr(value) if is_repr else str(value)
    return "\n" + text if "\n" in text else text


class Tensor:
    """An immutable multidimensional array with a `dtype` and a `shape`.

    `_value` is an `np.ndarray` or, for rank 0, a NumPy scalar (what NumPy ops return);
    `_dtype` is the `tf.DType`. Operators are installed by `tensorweave.ops.operators`.
    """

    # `_variable_slice` is set only on `variable[key]` results, for `variable[key].assign(...)`;
    # `_keras_mask` only on outputs of Keras layers that compute a mask, `_keras_logits` on outputs
    # of softmax/sigmoid activations (as on TF's tensors, so a cross-entropy can use the logits).
    __slots__ = ("_value", "_dtype", "_variable_slice", "_keras_mask", "_keras_logits",
                 "__weakref__")
    __array_priority__ = 100  # so `ndarray + tensor` defers to Tensor.__radd__

    def __init__(self, value, dtype: dtypes.DType):
        self._value = value
        self._dtype = dtype

    @property
    def shape(self) -> TensorShape:
        return TensorShape._of_array(self._value.shape)

    def get_shape(self) -> TensorShape:
        return self.shape

    def set_shape(self, shape) -> None:
        if not self.shape.is_compatible_with(shape):
            raise ValueError(f"Tensor's shape {self.shape} is not compatible with supplied shape "
                             f"{TensorShape(shape)}.")

    @property
    def dtype(self) -> dtypes.DType:
        return self._dtype

    @property
    def ndim(self) -> int:
        return self._value.ndim

    @property
    def device(self) -> str:
        return CPU_DEVICE

    @property
    def name(self):
        raise AttributeError("Tensor.name is undefined when eager execution is enabled.")

    def numpy(self):
        """The value as a NumPy array (a NumPy scalar for rank 0); it may share memory."""
        value = self._value
        if value.ndim == 0 and isinstance(value, np.ndarray):
            return value[()]
        return value

    def __array__(self, dtype=None, copy=None):
        value = np.asarray(self._value)
        if dtype is not None and value.dtype != dtype:
            return value.astype(dtype)
        return value.copy() if copy else value

    def __len__(self):
        if self._value.ndim == 0:
            raise TypeError("Scalar tensor has no `len()`")
        return self._value.shape[0]

    def __iter__(self):
        if self._value.ndim == 0:
            raise TypeError("Cannot iterate over a scalar tensor.")
        return (self[i] for i in range(self._value.shape[0]))

    def __bool__(self):
        value = self._value
        return bool(value) if value.size else False  # an empty tensor is False, as in TF

    def __float__(self):
        return float(self._value)

    def __int__(self):
        return int(self._value)

    def __complex__(self):
        return complex(self._value)

    def __index__(self):
        return self.numpy().__index__()  # NumPy's own errors, as TensorFlow gives them

    def __getattr__(self, name):
        # Only reached when normal lookup fails: `v[0, 1].assign(42)` on a slice of a variable.
        if name == "assign":
            try:
                variable, key = object.__getattribute__(self, "_variable_slice")
            except AttributeError:
                pass
            else:
                return lambda value, use_locking=None, name=None, read_value=True: \
                    variable._assign_slice(key, value)
        raise AttributeError(f"'tensorflow.python.framework.ops.EagerTensor' object has no "
                             f"attribute '{name}'")

    def __hash__(self):
        raise TypeError("Tensor is unhashable. Instead, use tensor.ref() as the key.")

    def ref(self) -> "Reference":
        """A hashable reference to this tensor (equality is identity)."""
        return Reference(self)

    experimental_ref = ref

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __reduce__(self):
        from tensorweave.framework.convert import constant
        return constant, (self.numpy(), self._dtype)

    def __repr__(self):
        return (f"<tf.Tensor: shape={self.shape}, dtype={self._dtype.name}, "
                f"numpy={_numpy_text(self._value, True)}>")

    def __str__(self):
        return f"tf.Tensor({_numpy_text(self._value, False)}, shape={self.shape}, dtype={self._dtype.name})"

    def __format__(self, spec: str) -> str:
        # NumPy's formatting of the value: f"{loss:.4f}" on a scalar, str(array) for "" on others
        return self.numpy().__format__(spec)


class Reference:
    """What `Tensor.ref()` returns: hashable by identity, `deref()` gives the object back."""

    __slots__ = ("_obj",)

    def __init__(self, obj):
        self._obj = obj

    def deref(self):
        return self._obj

    def __hash__(self):
        return id(self._obj)

    def __eq__(self, other):
        return isinstance(other, Reference) and other._obj is self._obj

    def __repr__(self):
        return f"<Reference wrapping {self._obj!r}>"


def is_tensor(x) -> bool:
    """True for a Tensor or anything TensorFlow treats as one (a Variable)."""
    return isinstance(x, Tensor) or getattr(x, "_is_tensor_like", False)
