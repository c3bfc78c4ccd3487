import pytest


@pytest.fixture(scope="session")
def digits_model():
    from qloom.models import model_path

    return model_path()
