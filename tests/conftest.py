import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

# One temporary folder for the whole session, this process's and the commands' it starts (TMPDIR): stmodel's
# lock folder (stmodel-locks-UID), scratch folders and pytest's own tmp_path all go there, and it goes at
# the end, so the suite leaves nothing in /tmp. Traversable (0711) so a test may run a command as another user
# on a folder it makes here and opens to that user.
SESSION_TMP = tempfile.mkdtemp(prefix="pytest-stmodel-")
os.chmod(SESSION_TMP, 0o711)
os.environ["TMPDIR"] = SESSION_TMP
tempfile.tempdir = SESSION_TMP
atexit.register(shutil.rmtree, SESSION_TMP, ignore_errors=True)

import engine  # noqa: E402 - after the temporary folder is set
from workbook.build import build_workbook, save_atomic  # noqa: E402


@pytest.fixture(scope="session")
def base() -> engine.Result:
    return engine.run()


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Path:
    """A freshly built model workbook; tests that tamper with it save their copy elsewhere."""
    path = tmp_path_factory.mktemp("built") / "model.xlsx"
    save_atomic(build_workbook(), path)
    return path


@pytest.fixture(scope="session", autouse=True)
def warm_office():
    """One warm LibreOffice for the whole run: every in-process recalculation goes through it (started at
    the first, ended here). The `stmodel` processes tests start still cold-start LibreOffice, as users' do:
    test_kill.py and test_file_safety.py test that path's kills and clean-up; test_warm_office.py compares
    the two paths."""
    from workbook import recalc

    office = recalc.use_warm_office()
    yield office
    recalc.use_warm_office(False)


@pytest.fixture
def cold_office(monkeypatch):
    """Recalculations in this test cold-start LibreOffice, as without the warm instance."""
    from workbook import recalc

    monkeypatch.setattr(recalc, "_warm", None)
