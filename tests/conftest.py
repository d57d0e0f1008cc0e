from pathlib import Path

import pytest

import engine
from workbook.build import build_workbook, save_atomic


@pytest.fixture(scope="session")
def base() -> engine.Result:
    return engine.run()


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Path:
    """A freshly built model workbook; tests that tamper with it save their copy elsewhere."""
    path = tmp_path_factory.mktemp("built") / "model.xlsx"
    save_atomic(build_workbook(), path)
    return path
