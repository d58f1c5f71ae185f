"""keras.metrics: re-exports only."""
from tensorweave.keras.metrics.metric import Metric
from tensorweave.keras.metrics.reduction_metrics import Mean, MeanMetricWrapper, Sum
# -- metrics A --
from tensorweave.keras.metrics.accuracy_metrics import (
    Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy, TopKCategoricalAccuracy, binary_accuracy, categorical_accuracy,
    sparse_categorical_accuracy, sparse_top_k_categorical_accuracy, top_k_categorical_accuracy)
from tensorweave.keras.metrics.hinge_metrics import CategoricalHinge, Hinge, SquaredHinge
from tensorweave.keras.metrics.probabilistic_metrics import (
    BinaryCrossentropy, CategoricalCrossentropy, KLDivergence, Poisson,
    SparseCategoricalCrossentropy)
from tensorweave.keras.metrics.registry import deserialize, get, serialize
from tensorweave.keras.metrics.regression_metrics import (
    CosineSimilarity, LogCoshError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredError, MeanSquaredLogarithmicError, RootMeanSquaredError)
# the loss functions keras.metrics (and tf.keras.metrics's legacy aliases) re-export
from tensorweave.keras.losses import (
    KLD, MAE, MAPE, MSE, MSLE, binary_crossentropy, binary_focal_crossentropy,
    categorical_crossentropy, categorical_focal_crossentropy, categorical_hinge, hinge, huber,
    kl_divergence, kld, kullback_leibler_divergence, log_cosh, logcosh, mae, mape,
    mean_absolute_error, mean_absolute_percentage_error, mean_squared_error,
    mean_squared_logarithmic_error, mse, msle, poisson, sparse_categorical_crossentropy,
    squared_hinge)
# -- end metrics A --
# -- metrics B --
from tensorweave.keras.metrics.confusion_metrics import (
    AUC, FalseNegatives, FalsePositives, Precision, PrecisionAtRecall, Recall, RecallAtPrecision,
    SensitivityAtSpecificity, SpecificityAtSensitivity, TrueNegatives, TruePositives)
from tensorweave.keras.metrics.correlation_metrics import (
    ConcordanceCorrelation, PearsonCorrelation, R2Score, concordance_correlation,
    pearson_correlation)
from tensorweave.keras.metrics.f_score_metrics import F1Score, FBetaScore
from tensorweave.keras.metrics.iou_metrics import BinaryIoU, IoU, MeanIoU, OneHotIoU, OneHotMeanIoU
# -- end metrics B --
