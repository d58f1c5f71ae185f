"""keras.callbacks: re-exports only."""
from tensorweave.keras.callbacks.callback import Callback
from tensorweave.keras.callbacks.callback_list import CallbackList
from tensorweave.keras.callbacks.history import History
from tensorweave.keras.callbacks.progbar_logger import ProgbarLogger
# -- built-in callbacks --
from tensorweave.keras.callbacks.backup_and_restore import BackupAndRestore
from tensorweave.keras.callbacks.csv_logger import CSVLogger
from tensorweave.keras.callbacks.early_stopping import EarlyStopping
from tensorweave.keras.callbacks.lambda_callback import LambdaCallback
from tensorweave.keras.callbacks.learning_rate import LearningRateScheduler, ReduceLROnPlateau
from tensorweave.keras.callbacks.model_checkpoint import ModelCheckpoint
from tensorweave.keras.callbacks.terminate_on_nan import TerminateOnNaN
# -- end built-in callbacks --
