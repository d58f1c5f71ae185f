"""Global Keras settings: floatx, epsilon, image_data_format (keras.backend / keras.config)."""
from __future__ import annotations

_settings = {"floatx": "float32", "epsilon": 1e-7, "image_data_format": "channels_last"}


def floatx() -> str:
    """The default float dtype of layers and weights, as a string."""
    return _settings["floatx"]


def set_floatx(value: str) -> None:
    accepted = {"bfloat16", "float16", "float32", "float64"}
    value = str(getattr(value, "name", value))
    if value not in accepted:
        raise ValueError(f"Unknown `floatx` value: {value}. Expected one of {accepted}")
    _settings["floatx"] = value


def epsilon() -> float:
    """The fuzz factor used to avoid division by zero."""
    return _settings["epsilon"]


def set_epsilon(value: float) -> None:
    _settings["epsilon"] = float(value)


def image_data_format() -> str:
    return _settings["image_data_format"]


def set_image_data_format(data_format: str) -> None:
    data_format = str(data_format).lower()
    if data_format not in {"channels_first", "channels_last"}:
        raise ValueError("The `data_format` argument must be one of {'channels_first', "
                         f"'channels_last'}}. Received: data_format={data_format}")
    _settings["image_data_format"] = data_format


def standardize_data_format(data_format) -> str:
    """`None` -> the global setting; otherwise checked and lower-cased."""
    if data_format is None:
        return image_data_format()
    data_format = str(data_format).lower()
    if data_format not in {"channels_first", "channels_last"}:
        raise ValueError("The `data_format` argument must be one of {'channels_first', "
                         f"'channels_last'}}. Received: data_format={data_format}")
    return data_format
