import pytest

import engine


@pytest.fixture(scope="session")
def base() -> engine.Result:
    return engine.run()
