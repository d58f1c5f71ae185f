"""Keras 3's merging layers: Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot,
and their functional forms (`add([a, b])` builds the layer and calls it on the list).

A merge layer takes a list of tensors. The elementwise ones broadcast the inputs' shapes after
the batch axis (an input of lower rank gets new axes after its batch axis), check the shapes when
built (ValueError naming them), and combine the inputs' masks with a logical OR.
"""
from __future__ import annotations

from tensorweave.keras.engine.layer import Layer
from tensorweave.ops import array_ops, linalg_ops, math_ops, reduction_ops


def _get_mask(x):
    return getattr(x, "_keras_mask", None)


def _is_shape(value) -> bool:
    return isinstance(value, (tuple, list)) and all(
        d is None or isinstance(d, int) for d in value)


def _check_masks(inputs, mask, received: str) -> None:
    """Keras's errors for a mask that is not a list matching the inputs (`received` is how
    the layer's message words it: Concatenate says "Received mask=")."""
    if not isinstance(mask, (tuple, list)):
        raise ValueError(f"`mask` should be a list. {received}mask={mask}")
    if not isinstance(inputs, (tuple, list)):
        raise ValueError(f"`inputs` should be a list. Received: inputs={inputs}")
    if len(mask) != len(inputs):
        raise ValueError("The lists `inputs` and `mask` should have the same length. "
                         f"Received: inputs={inputs} of length {len(inputs)}, and "
                         f"mask={mask} of length {len(mask)}")


class Merge(Layer):
    """The base of the merging layers: subclasses implement `_merge_function(inputs)`."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def _merge_function(self, inputs):
        raise NotImplementedError

    # -- shapes ---------------------------------------------------------------------------------
    @staticmethod
    def _compute_elemwise_op_output_shape(shape1, shape2):
        """The broadcast of two shapes (without batch axis), aligned on their last axes."""
        if shape1 is None or shape2 is None:
            return None
        if len(shape1) < len(shape2):
            return Merge._compute_elemwise_op_output_shape(shape2, shape1)
        if not shape2:
            return tuple(shape1)
        output = list(shape1[:len(shape1) - len(shape2)])
        for i, j in zip(shape1[len(shape1) - len(shape2):], shape2):
            if i is None or j is None:
                output.append(None)
            elif i == 1:
                output.append(j)
            elif j == 1:
                output.append(i)
            else:
                if i != j:
                    raise ValueError("Inputs have incompatible shapes. Received shapes "
                                     f"{tuple(shape1)} and {tuple(shape2)}")
                output.append(i)
        return tuple(output)

    def _elementwise_shape(self, input_shape):
        output = None if input_shape[0] is None else tuple(input_shape[0][1:])
        for shape in input_shape[1:]:
            output = self._compute_elemwise_op_output_shape(
                output, None if shape is None else tuple(shape[1:]))
        return output

    def build(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or _is_shape(input_shape) \
                and input_shape:
            raise ValueError("A merge layer should be called on a list of inputs. Received: "
                             f"input_shape={input_shape} (not a list of shapes)")
        if len(input_shape) < 1:
            raise ValueError("A merge layer should be called on a list of at least 1 input. "
                             f"Received {len(input_shape)} inputs. Full input_shape received: "
                             f"{input_shape}")
        batch_sizes = {s[0] for s in input_shape if s} - {None}
        if len(batch_sizes) > 1:
            raise ValueError("Cannot merge tensors with different batch sizes. Received tensors "
                             f"with shapes {list(input_shape)}")
        self._elementwise_shape(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        output = self._elementwise_shape(input_shape)
        batch_sizes = {s[0] for s in input_shape if s is not None} - {None}
        batch = next(iter(batch_sizes)) if len(batch_sizes) == 1 else None
        return (batch,) + tuple(output)

    # -- call -----------------------------------------------------------------------------------
    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError("A merge layer should be called on a list of inputs. Received: "
                             f"inputs={inputs} (not a list of tensors)")
        ranks = [x.shape.rank for x in inputs]
        if len(set(ranks)) > 1:
            # Inputs of lower rank get new axes after the batch axis, so that they broadcast.
            top = max(ranks)
            expanded = []
            for x, rank in zip(inputs, ranks):
                for _ in range(top - rank):
                    x = array_ops.expand_dims(x, 1)
                expanded.append(x)
            inputs = expanded
        return self._merge_function(list(inputs))

    def _apply_merge_op_and_or_mask(self, op, inputs):
        """Folds `op` over the inputs; a masked-out entry of one input takes the other's value
        (where both are masked out the result is masked: the output mask is the OR)."""
        output = None
        output_mask = None
        for x in inputs:
            mask = _get_mask(x)
            if mask is not None:
                mask = array_ops.broadcast_to(array_ops.expand_dims(mask, -1),
                                              array_ops.shape(x))
            if output is None:
                output, output_mask = x, mask
                continue
            if mask is not None:
                x = array_ops.where(mask, x, output)
            if output_mask is not None:
                output = array_ops.where(output_mask, output, x)
            if mask is not None and output_mask is not None:
                output_mask = math_ops.logical_or(output_mask, mask)
            else:
                output_mask = None
            output = op(output, x)
        return output

    def compute_mask(self, inputs, mask=None):
        if mask is None:
            return None
        _check_masks(inputs, mask, "Received: ")
        if any(m is None for m in mask):
            return None
        output = mask[0]
        for m in mask[1:]:
            output = math_ops.logical_or(output, m)
        return output

    def get_config(self) -> dict:
        return super().get_config()


class Add(Merge):
    """The elementwise sum of the inputs."""

    def _merge_function(self, inputs):
        output = inputs[0]
        for x in inputs[1:]:
            output = math_ops.add(output, x)
        return output


class Subtract(Merge):
    """inputs[0] - inputs[1] (exactly two inputs)."""

    def build(self, input_shape):
        super().build(input_shape)
        if len(input_shape) != 2:
            raise ValueError("A `Subtract` layer should be called on exactly 2 inputs. "
                             f"Received: input_shape={list(input_shape)}")

    def _merge_function(self, inputs):
        if len(inputs) != 2:
            raise ValueError("A `Subtract` layer should be called on exactly 2 inputs. "
                             f"Received: inputs={inputs}")
        return math_ops.subtract(inputs[0], inputs[1])


class Multiply(Merge):
    """The elementwise product of the inputs; masked-out entries count as 1 (and the output is
    0 where every input is masked out)."""

    def _merge_function(self, inputs):
        masks = [_get_mask(x) for x in inputs]
        all_masked = all(m is not None for m in masks)
        output = None
        output_mask = None
        for x, mask in zip(inputs, masks):
            if mask is not None:
                mask = array_ops.broadcast_to(array_ops.expand_dims(mask, -1),
                                              array_ops.shape(x))
                x = array_ops.where(mask, x, array_ops.ones_like(x))
                if all_masked:
                    output_mask = mask if output_mask is None else \
                        math_ops.logical_or(output_mask, mask)
            output = x if output is None else math_ops.multiply(output, x)
        if all_masked:
            output = array_ops.where(output_mask, output, array_ops.zeros_like(output))
        return output


class Average(Merge):
    """The elementwise mean of the inputs."""

    def _merge_function(self, inputs):
        output = inputs[0]
        for x in inputs[1:]:
            output = math_ops.add(output, x)
        return math_ops.divide(output, math_ops.cast(len(inputs), output.dtype))


class Maximum(Merge):
    """The elementwise maximum of the inputs (masked-out entries ignored)."""

    def _merge_function(self, inputs):
        return self._apply_merge_op_and_or_mask(math_ops.maximum, inputs)


class Minimum(Merge):
    """The elementwise minimum of the inputs (masked-out entries ignored)."""

    def _merge_function(self, inputs):
        return self._apply_merge_op_and_or_mask(math_ops.minimum, inputs)


class Concatenate(Merge):
    """Concatenates the inputs along `axis`; the other axes must match."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis
        self.supports_masking = True

    def build(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or len(input_shape) < 1 or \
                not isinstance(input_shape[0], (tuple, list)):
            raise ValueError("A `Concatenate` layer should be called on a list of at least 1 "
                             f"input. Received: input_shape={input_shape}")
        self.built = True
        if all(shape is None for shape in input_shape):
            return
        reduced = set()
        for shape in input_shape:
            shape = list(shape)
            if len(shape) > self.axis:
                del shape[self.axis]
            reduced.add(tuple(shape))
        if len(reduced) == 1:
            return
        message = ("A `Concatenate` layer requires inputs with matching shapes except for the "
                   f"concatenation axis. Received: input_shape={list(input_shape)}")
        ranks = {len(shape) for shape in reduced}
        if len(ranks) != 1:
            raise ValueError(message)
        for axis in range(next(iter(ranks))):
            sizes = {shape[axis] for shape in reduced if shape[axis] is not None}
            if len(sizes) > 1:
                raise ValueError(message)

    def _merge_function(self, inputs):
        return array_ops.concat(inputs, axis=self.axis)

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError("A merge layer should be called on a list of inputs. Received: "
                             f"inputs={inputs} (not a list of tensors)")
        return self._merge_function(list(inputs))

    def compute_output_shape(self, input_shape):
        if not isinstance(input_shape, (tuple, list)) or \
                not isinstance(input_shape[0], (tuple, list)):
            raise ValueError("A `Concatenate` layer should be called on a list of inputs. "
                             f"Received: input_shape={input_shape}")
        output = list(input_shape[0])
        for shape in input_shape[1:]:
            if output[self.axis] is None or shape[self.axis] is None:
                output[self.axis] = None
                break
            output[self.axis] += shape[self.axis]
        return tuple(output)

    def compute_mask(self, inputs, mask=None):
        if mask is None:
            return None
        _check_masks(inputs, mask, "Received ")
        if all(m is None for m in mask):
            return None
        masks = []
        for x, m in zip(inputs, mask):
            if m is None:
                masks.append(array_ops.ones_like(x, dtype="bool"))
            elif m.shape.rank < x.shape.rank:
                masks.append(math_ops.logical_or(array_ops.expand_dims(m, -1),
                                                 array_ops.zeros_like(x, dtype="bool")))
            else:
                masks.append(m)
        joined = array_ops.concat(masks, axis=self.axis)
        return reduction_ops.reduce_any(joined, axis=-1, keepdims=False)

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}


def _l2_normalize(x, axis):
    """x / ||x|| along `axis` (Keras's `normalize`: x * min(rsqrt(sum x^2), 1 / epsilon))."""
    from tensorweave.keras.engine import backend_config
    square_sum = reduction_ops.reduce_sum(math_ops.square(x), axis=axis, keepdims=True)
    inv_norm = math_ops.minimum(math_ops.rsqrt(square_sum),
                                math_ops.cast(1.0 / backend_config.epsilon(), x.dtype))
    return math_ops.multiply(x, inv_norm)


_LETTERS = "bcdefghijklmnopqrstuvwxy"  # "a": the contracted axis, "z": the batch


def batch_dot(x, y, axes):
    """Per batch entry, the dot product of x and y over x's axis axes[0] and y's axes[1]: the
    result has x's other axes, then y's other axes; (batch, 1) when both inputs are 2-D."""
    x_rank, y_rank = x.shape.rank, y.shape.rank
    a0, a1 = axes
    x_letters = list(_LETTERS[:x_rank - 1])
    y_letters = list(_LETTERS[x_rank - 1:x_rank + y_rank - 2])
    contracted = "a"
    x_sub = ["z"] + x_letters
    y_sub = ["z"] + y_letters
    x_sub[a0] = contracted
    y_sub[a1] = contracted
    out = ["z"] + [c for c in x_sub[1:] if c != contracted] + \
        [c for c in y_sub[1:] if c != contracted]
    result = linalg_ops.einsum(f"{''.join(x_sub)},{''.join(y_sub)}->{''.join(out)}", x, y)
    if x_rank == 2 and y_rank == 2:
        result = array_ops.expand_dims(result, -1)
    return result


class Dot(Merge):
    """The dot product of two inputs along `axes` (an int, or one axis per input), per batch
    entry; `normalize=True` gives the cosine similarity."""

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(axes, int):
            if not isinstance(axes, (list, tuple)):
                raise TypeError("Invalid type for argument `axes`: it should be a list or an "
                                f"int. Received: axes={axes}")
            if len(axes) != 2:
                raise ValueError("Invalid format for argument `axes`: it should contain two "
                                 f"elements. Received: axes={axes}")
            if not isinstance(axes[0], int) or not isinstance(axes[1], int):
                raise ValueError("Invalid format for argument `axes`: list elements should be "
                                 f"integers. Received: axes={axes}")
        self.axes = axes
        self.normalize = normalize
        self.supports_masking = True

    def _axes_for(self, rank1: int, rank2: int) -> list:
        if isinstance(self.axes, int):
            if self.axes < 0:
                return [self.axes % rank1, self.axes % rank2]
            return [self.axes] * 2
        return [a % r if a < 0 else a for a, r in zip(self.axes, (rank1, rank2))]

    def build(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or not input_shape or \
                not isinstance(input_shape[0], (tuple, list)) or len(input_shape) != 2:
            raise ValueError("A `Dot` layer should be called on a list of 2 inputs. Received: "
                             f"input_shape={input_shape}")
        self.built = True
        shape1, shape2 = input_shape
        if shape1 is None or shape2 is None:
            return
        axes = self._axes_for(len(shape1), len(shape2))
        if shape1[axes[0]] != shape2[axes[1]]:
            raise ValueError(f"Incompatible input shapes: axis values {shape1[axes[0]]} (at axis "
                             f"{axes[0]}) != {shape2[axes[1]]} (at axis {axes[1]}). Full input "
                             f"shapes: {tuple(shape1)}, {tuple(shape2)}")

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError("A merge layer should be called on a list of inputs. Received: "
                             f"inputs={inputs} (not a list of tensors)")
        return self._merge_function(list(inputs))

    def _merge_function(self, inputs):
        if len(inputs) != 2:
            raise ValueError("A `Dot` layer should be called on exactly 2 inputs. Received: "
                             f"inputs={inputs}")
        x1, x2 = inputs
        x_rank, y_rank = x1.shape.rank, x2.shape.rank
        axes = self._axes_for(x_rank, y_rank)
        if self.normalize:
            x1 = _l2_normalize(x1, axes[0])
            x2 = _l2_normalize(x2, axes[1])
        if x_rank < 2 or y_rank < 2:
            raise ValueError("Cannot do batch_dot on inputs with rank < 2. Received inputs with "
                             f"shapes {tuple(x1.shape)} and {tuple(x2.shape)}.")
        if 0 in axes:
            raise ValueError("Cannot perform batch_dot over axis 0. If your inputs are not "
                             "batched, add a dummy batch dimension to your inputs using "
                             "keras.ops.expand_dims(x, 0)")
        return batch_dot(x1, x2, axes)

    def compute_output_shape(self, input_shape):
        if not isinstance(input_shape, (tuple, list)) or len(input_shape) != 2:
            raise ValueError("A `Dot` layer should be called on a list of 2 inputs. Received: "
                             f"input_shape={input_shape}")
        shape1, shape2 = list(input_shape[0]), list(input_shape[1])
        axes = self._axes_for(len(shape1), len(shape2))
        shape1.pop(axes[0])
        shape2.pop(axes[1])
        shape2.pop(0)
        output = shape1 + shape2
        if len(output) == 1:
            output += [1]
        return tuple(output)

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self) -> dict:
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


# -- functional forms --------------------------------------------------------------------------
def add(inputs, **kwargs):
    """`Add(**kwargs)(inputs)`."""
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    """`Subtract(**kwargs)(inputs)`."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    """`Multiply(**kwargs)(inputs)`."""
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    """`Average(**kwargs)(inputs)`."""
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    """`Maximum(**kwargs)(inputs)`."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    """`Minimum(**kwargs)(inputs)`."""
    return Minimum(**kwargs)(inputs)


def concatenate(inputs, axis=-1, **kwargs):
    """`Concatenate(axis=axis, **kwargs)(inputs)`."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs, axes=-1, **kwargs):
    """`Dot(axes=axes, **kwargs)(inputs)`."""
    return Dot(axes=axes, **kwargs)(inputs)
