"""keras.regularizers: re-exports only; the classes live in regularizers.py."""
from tensorweave.keras.regularizers.regularizers import (
    L1, L1L2, L2, OrthogonalRegularizer, Regularizer, deserialize, get, l1, l1_l2, l2,
    orthogonal_regularizer, serialize)
