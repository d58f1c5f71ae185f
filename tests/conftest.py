import importlib.util
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


def pytest_collection_modifyitems(config, items):
    if importlib.util.find_spec("tensorflow") is None:
        skip = pytest.mark.skip(reason="TensorFlow is not installed beside tensorweave")
        for item in items:
            if "tfref" in item.keywords:
                item.add_marker(skip)
