"""keras.datasets: re-exports only."""
from tensorweave.keras.datasets import digits  # noqa: F401 - a tensorweave addition (shipped data)
