"""The Loss base class and the one place for Keras's rules of weighting, masking and reducing
per-sample losses (metrics use the same rules)."""
from __future__ import annotations

from typing import Optional

from tensorweave.framework import dtypes
from tensorweave.framework.convert import convert_to_tensor
from tensorweave.keras.engine import dtype_policy
from tensorweave.keras.engine.layer import _get_mask
from tensorweave.keras.engine.naming import to_snake_case, unique_name
from tensorweave.ops import array_ops, math_ops, reduction_ops

REDUCTIONS = ("sum_over_batch_size", "sum", None, "none", "mean", "mean_with_sample_weight")


class Loss:
    """Base class of losses: subclasses implement `call(y_true, y_pred)` returning per-sample
    losses; calling the loss weights, masks and reduces them."""

    _keras_module = "keras.losses"

    def __init__(self, name: Optional[str] = None, reduction: Optional[str] = "sum_over_batch_size",
                 dtype=None):
        self.name = name or unique_name(to_snake_case(type(self).__name__))
        self.reduction = standardize_reduction(reduction)
        self._dtype_policy = dtype_policy.get(dtype)
        self._dtype = self._dtype_policy.compute_dtype

    @property
    def dtype(self) -> str:
        return self._dtype

    def __call__(self, y_true, y_pred, sample_weight=None):
        in_mask = _get_mask(y_pred)
        y_pred = _convert_structure(y_pred, self._dtype)
        y_true = _convert_structure(y_true, self._dtype)
        losses = self.call(y_true, y_pred)
        out_mask = _get_mask(losses)
        if in_mask is not None and out_mask is not None:
            mask = math_ops.logical_and(math_ops.cast(in_mask, "bool"),
                                        math_ops.cast(out_mask, "bool"))
        else:
            mask = in_mask if in_mask is not None else out_mask
        return reduce_weighted_values(losses, sample_weight=sample_weight, mask=mask,
                                      reduction=self.reduction, dtype=self._dtype)

    def call(self, y_true, y_pred):
        raise NotImplementedError(f"{type(self).__name__} must implement call(y_true, y_pred)")

    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)


def _convert_structure(values, dtype):
    """Tensors of `dtype`; a list or tuple of tensors or arrays, or a dict, is a structure (a
    nested list of numbers is one tensor)."""
    if isinstance(values, (list, tuple)) and values and all(hasattr(v, "shape") for v in values):
        return type(values)(_convert_structure(v, dtype) for v in values)
    if isinstance(values, dict):
        return {k: _convert_structure(v, dtype) for k, v in values.items()}
    tensor = convert_to_tensor(values)
    return tensor if tensor.dtype == dtypes.as_dtype(dtype) else math_ops.cast(tensor, dtype)


def standardize_reduction(reduction):
    if reduction not in REDUCTIONS:
        allowed = "{" + ", ".join(repr(r) for r in REDUCTIONS) + "}"
        raise ValueError(f"Invalid value for argument `reduction`. Expected one of {allowed}. "
                         f"Received: reduction={reduction}")
    return reduction


def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1: bool = True):
    """Makes ranks equal when they differ by one and the longer has a trailing 1: a rank-1 partner
    is expanded (if `expand_rank_1`), otherwise the trailing 1 is squeezed."""
    rank1, rank2 = x1.shape.rank, x2.shape.rank
    if rank1 == rank2:
        return x1, x2
    if rank1 == rank2 + 1 and x1.shape[-1] == 1:
        if rank2 == 1 and expand_rank_1:
            x2 = array_ops.expand_dims(x2, -1)
        else:
            x1 = array_ops.squeeze(x1, axis=-1)
    if rank2 == rank1 + 1 and x2.shape[-1] == 1:
        if rank1 == 1 and expand_rank_1:
            x1 = array_ops.expand_dims(x1, -1)
        else:
            x2 = array_ops.squeeze(x2, axis=-1)
    return x1, x2


def _element_count(values, dtype):
    return math_ops.cast(array_ops.size(values), dtype)


def reduce_values(values, sample_weight=None, reduction="sum_over_batch_size"):
    """The reduced loss: its sum, or its sum divided by its element count (or by the sum of the
    sample weights for "mean_with_sample_weight"); "none" and scalars pass through."""
    if reduction in (None, "none") or values.shape.rank == 0 or tuple(values.shape) == (0,):
        return values
    loss = reduction_ops.reduce_sum(values)
    if reduction == "sum":
        return loss
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        divisor = math_ops.cast(reduction_ops.reduce_sum(sample_weight), loss.dtype)
    else:
        divisor = _element_count(values, loss.dtype)
    return math_ops.divide_no_nan(loss, divisor)


def apply_mask(sample_weight, mask, dtype, reduction):
    """Folds a mask into the sample weights. For mean reductions the kept entries are scaled by
    total/kept, so the mean runs over the unmasked entries only."""
    if mask is None:
        return sample_weight
    bool_mask = math_ops.cast(mask, "bool")
    if reduction in ("mean", "sum_over_batch_size"):
        total = _element_count(mask, dtype)
        valid = reduction_ops.reduce_sum(math_ops.cast(bool_mask, dtype))
        float_mask = array_ops.where(bool_mask, math_ops.divide_no_nan(total, valid),
                                     math_ops.cast(0, dtype))
    else:
        float_mask = math_ops.cast(bool_mask, dtype)
    if sample_weight is None:
        return float_mask
    sample_weight = math_ops.cast(sample_weight, dtype)
    float_mask, sample_weight = squeeze_or_expand_to_same_rank(float_mask, sample_weight)
    return math_ops.multiply(sample_weight, float_mask)


def reduce_weighted_values(values, sample_weight=None, mask=None,
                           reduction="sum_over_batch_size", dtype=None):
    """Per-sample losses times their (masked) weights, reduced as `reduction` says."""
    reduction = standardize_reduction(reduction)
    values = convert_to_tensor(values)
    if dtype is not None and values.dtype != dtypes.as_dtype(dtype):
        values = math_ops.cast(values, dtype)
    if sample_weight is not None:
        sample_weight = math_ops.cast(convert_to_tensor(sample_weight), values.dtype)
    sample_weight = apply_mask(sample_weight, mask, values.dtype, reduction)
    if sample_weight is not None:
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        values = math_ops.multiply(values, sample_weight)
    return reduce_values(values, sample_weight, reduction)
