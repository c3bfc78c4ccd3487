import os
import warnings

import pytest

os.environ.setdefault("PYTHONWARNINGS", "ignore")
warnings.filterwarnings("ignore")


@pytest.fixture(scope="session")
def digits_model():
    from qloom.models import model_path

    return model_path()
