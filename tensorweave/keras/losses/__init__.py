"""keras.losses: re-exports only; the functions and classes live in losses.py and
probabilistic.py (tf.keras's legacy aliases included: mse, MSE, kld, logcosh, Reduction...)."""
from tensorweave.keras.losses.loss import Loss
from tensorweave.keras.losses.losses import (
    ALL_OBJECTS, ALL_OBJECTS_DICT, BinaryCrossentropy, BinaryFocalCrossentropy,
    CategoricalCrossentropy, CategoricalFocalCrossentropy, CategoricalGeneralizedCrossEntropy,
    CategoricalHinge, CosineSimilarity, Dice, Hinge, Huber, KLDivergence, LogCosh,
    LossFunctionWrapper, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredError,
    MeanSquaredLogarithmicError, Poisson, Reduction, SparseCategoricalCrossentropy, SquaredHinge,
    Tversky, binary_crossentropy, binary_focal_crossentropy, categorical_crossentropy,
    categorical_focal_crossentropy, categorical_generalized_cross_entropy, categorical_hinge,
    cosine_similarity, deserialize, dice, get, hinge, huber, kl_divergence, log_cosh,
    mean_absolute_error, mean_absolute_percentage_error, mean_squared_error,
    mean_squared_logarithmic_error, poisson, serialize, sparse_categorical_crossentropy,
    squared_hinge, tversky)

# tf.keras.losses's legacy aliases (the same function objects)
from tensorweave.keras.losses.losses import kl_divergence as KLD
from tensorweave.keras.losses.losses import kl_divergence as kld
from tensorweave.keras.losses.losses import kl_divergence as kullback_leibler_divergence
from tensorweave.keras.losses.losses import log_cosh as logcosh
from tensorweave.keras.losses.losses import mean_absolute_error as MAE
from tensorweave.keras.losses.losses import mean_absolute_error as mae
from tensorweave.keras.losses.losses import mean_absolute_percentage_error as MAPE
from tensorweave.keras.losses.losses import mean_absolute_percentage_error as mape
from tensorweave.keras.losses.losses import mean_squared_error as MSE
from tensorweave.keras.losses.losses import mean_squared_error as mse
from tensorweave.keras.losses.losses import mean_squared_logarithmic_error as MSLE
from tensorweave.keras.losses.losses import mean_squared_logarithmic_error as msle
