"""keras.optimizers.schedules: re-exports only; the schedules live in learning_rate_schedule.py."""
from tensorweave.keras.optimizers.schedules.learning_rate_schedule import (  # noqa: F401
    CosineDecay, CosineDecayRestarts, ExponentialDecay, InverseTimeDecay, LearningRateSchedule,
    PiecewiseConstantDecay, PolynomialDecay, deserialize, serialize)
