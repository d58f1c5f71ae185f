"""keras.initializers: re-exports only; the classes live in initializers.py."""
from tensorweave.keras.initializers.initializers import (
    STFT, Constant, GlorotNormal, GlorotUniform, HeNormal, HeUniform, Identity,
    IdentityInitializer, Initializer, LecunNormal, LecunUniform, Ones, Orthogonal,
    OrthogonalInitializer, RandomNormal, RandomUniform, STFTInitializer, TruncatedNormal,
    VarianceScaling, Zeros, constant, deserialize, get, glorot_normal, glorot_uniform, he_normal,
    he_uniform, identity, lecun_normal, lecun_uniform, ones, orthogonal, random_normal,
    random_uniform, serialize, stft, truncated_normal, variance_scaling, zeros)
