"""keras.optimizers: re-exports only; each algorithm lives in its own module."""
from tensorweave.keras.optimizers import legacy, schedules  # noqa: F401 - namespaces
from tensorweave.keras.optimizers.adadelta import Adadelta
from tensorweave.keras.optimizers.adafactor import Adafactor
from tensorweave.keras.optimizers.adagrad import Adagrad
from tensorweave.keras.optimizers.adam import Adam, AdamW
from tensorweave.keras.optimizers.adamax import Adamax
from tensorweave.keras.optimizers.base_optimizer import Optimizer
from tensorweave.keras.optimizers.ftrl import Ftrl
from tensorweave.keras.optimizers.identifiers import deserialize, get, serialize
from tensorweave.keras.optimizers.lamb import Lamb
from tensorweave.keras.optimizers.lion import Lion
from tensorweave.keras.optimizers.nadam import Nadam
from tensorweave.keras.optimizers.rmsprop import RMSprop
from tensorweave.keras.optimizers.sgd import SGD
