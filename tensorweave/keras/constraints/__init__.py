"""keras.constraints: re-exports only; the classes live in constraints.py."""
from tensorweave.keras.constraints.constraints import (
    Constraint, MaxNorm, MinMaxNorm, NonNeg, UnitNorm, deserialize, get, max_norm, min_max_norm,
    non_neg, serialize, unit_norm)
