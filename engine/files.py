"""Writing output files safely: the one place the rules of docs/files.md live.

Every file the project writes goes through `replacing`: a temporary file beside the target, renamed
over it only when complete, so a failure or a kill never leaves a half-written file. On the way it
refuses to write over the command's own input (same device and inode: through a symlink or a hard
link too) and over an existing file unless told to; gives a new file the mode the umask allows and a
rewritten one its old mode, owner and group; writes through a symlink to the file it names; refuses a
file with other hard links (renaming would split them); holds a lock against other stmodel processes
and refuses to replace a file that changed since it was read. Temporary names carry the writer's pid,
so a later run removes those a killed process left.
"""

from __future__ import annotations

import gc
import hashlib
import os
import re
import shutil
import stat as st
import sys
import tempfile
import traceback
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import NamedTuple

from .errors import StmodelError

LOCK_WAIT = 30.0  # seconds a writer waits for another stmodel process; STMODEL_LOCK_WAIT overrides
_MARK = ".stmodel-"
_TEMP_FILE = re.compile(r"^\..+\.stmodel-(?P<pid>\d+)-[a-z0-9_]{8}(?:\.[A-Za-z0-9]+)?$")
_TEMP_DIR = re.compile(r"^stmodel-[a-z]+-(?P<pid>\d+)-[a-z0-9_]{8}$")


class WriteError(StmodelError, ValueError):
    """The file cannot be written; the message names it and says why."""


class OutputExistsError(WriteError):
    """The output exists and the command was not told to replace it."""


class InUseError(WriteError):
    """Another stmodel process holds the file's lock for longer than a writer waits."""


class Stamp(NamedTuple):
    """What identifies one version of a file: replacing a file whose stamp moved would lose someone's save."""

    device: int
    inode: int
    size: int
    mtime_ns: int


def stamp(path: Path) -> Stamp | None:
    """The stamp of the file `path` names (through symlinks), or None when there is none."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return Stamp(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def same_file(a: Path, b: Path) -> bool:
    """True when both paths name one file (same device and inode: through symlinks and hard links too)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check_target(target: Path, inputs: Iterable[Path] = (), overwrite: bool = True) -> None:
    """Refuse an output that is one of the command's inputs (same device and inode), a folder, or an
    existing file when `overwrite` is false. Commands call it first, before any long work."""
    target = Path(target)
    if target.is_dir():
        raise WriteError(f"{target}: is a folder; give a file name")
    for source in inputs:
        if same_file(target, source):
            raise WriteError(f"{target}: is the input {source} (same file); write the output elsewhere")
    if not overwrite and os.path.lexists(target):
        raise OutputExistsError(f"{target}: exists; not replaced")


def _alive(pid: int) -> bool:
    if os.name == "nt":
        return True  # os.kill(pid, 0) would end the process there: never sweep on Windows
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # someone else's process
    return True


def remove_stale(folder: Path) -> list[Path]:
    """Remove the temporary files (in `folder`) and folders (in the system's temp folder) that stmodel
    processes no longer running left behind (killed with SIGKILL, power lost); returns what went."""
    gone: list[Path] = []
    for where, pattern in ((Path(folder), _TEMP_FILE), (Path(tempfile.gettempdir()), _TEMP_DIR)):
        try:
            names = os.listdir(where)
        except OSError:
            continue
        for name in names:
            m = pattern.match(name)
            if not m or _alive(int(m.group("pid"))):
                continue
            path = where / name
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                with suppress(OSError):
                    path.unlink()
            gone.append(path)
    return gone


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _lock_wait() -> float:
    try:
        return float(os.environ.get("STMODEL_LOCK_WAIT", LOCK_WAIT))
    except ValueError:
        return LOCK_WAIT


_held: dict[str, int] = {}


def _lock_path(real: Path) -> Path:
    """The lock file of the file at `real`: in a private folder of the user's temp folder, named after the
    file's full path, and never deleted (deleting a lock file others may wait on breaks the lock, as
    filelock documents); so nothing is left beside the user's file."""
    uid = os.getuid() if hasattr(os, "getuid") else None
    folder = Path(tempfile.gettempdir()) / ("stmodel-locks" if uid is None else f"stmodel-locks-{uid}")
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        owner = folder.stat().st_uid
    except OSError as e:
        raise WriteError(f"{real}: cannot lock it ({folder}: {e.strerror})") from None
    if uid is not None and owner != uid:
        raise WriteError(f"{real}: cannot lock it ({folder} belongs to another user)")
    digest = hashlib.sha256(os.fsencode(real)).hexdigest()[:24]
    return folder / f"{real.name[:60]}.{digest}.lock"


@contextmanager
def locked(path: Path, wait: float | None = None) -> Iterator[None]:
    """Hold the stmodel lock of the file `path` names (through symlinks); waits up to `wait` seconds
    (STMODEL_LOCK_WAIT, else 30 s), then raises InUseError. Re-entrant within a process, so an update
    may hold it from its read to its write."""
    from filelock import FileLock, Timeout

    lock_path = str(_lock_path(Path(os.path.realpath(path))))
    if _held.get(lock_path):
        _held[lock_path] += 1
        try:
            yield
        finally:
            _held[lock_path] -= 1
        return
    lock = FileLock(lock_path, timeout=_lock_wait() if wait is None else wait)
    try:
        lock.acquire()
    except Timeout:
        raise InUseError(f"{path}: in use by another stmodel process (still locked after waiting)") from None
    except OSError as e:
        raise WriteError(f"{path}: cannot lock it ({e.strerror})") from None
    _held[lock_path] = 1
    try:
        yield
    finally:
        _held.pop(lock_path, None)
        lock.release()


@contextmanager
def updating(path: Path, wait: float | None = None) -> Iterator[Stamp | None]:
    """Lock `path` for a read-modify-write and yield the stamp of the version about to be read; give it
    to `replacing(..., since=)` so a file changed meanwhile (by Excel, say) is not overwritten."""
    with locked(path, wait):
        yield stamp(path)


def _changed(target: Path) -> WriteError:
    return WriteError(f"{target}: changed on disk since stmodel read it (saved by another program?); not replaced")


@contextmanager
def replacing(
    target: Path,
    suffix: str = ".tmp",
    *,
    inputs: Iterable[Path] = (),
    overwrite: bool = True,
    since: Stamp | None = None,
) -> Iterator[Path]:
    """A temporary path beside `target`: write it in the `with` block; on success it replaces `target`.

    On any failure the temporary file is removed and `target` keeps its old content (if it had one).
    `inputs` are never overwritten; an existing `target` only with `overwrite`; `since` is the stamp of
    the version the new content was made from (see `updating`).
    """
    target = Path(target)
    check_target(target, inputs, overwrite)
    real = Path(os.path.realpath(target))  # through symlinks: the link stays, the file it names changes
    folder = real.parent
    if not folder.is_dir():
        raise WriteError(f"{target}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise WriteError(f"{target}: no permission to write in {folder}")
    with locked(real):
        try:
            old = os.stat(real)
        except FileNotFoundError:
            old = None
        except OSError as e:
            raise WriteError(f"{target}: cannot read ({e.strerror})") from None
        before = stamp(real)
        if since is not None and before != since:
            raise _changed(target)
        if old is not None and not st.S_ISREG(old.st_mode):
            raise WriteError(f"{target}: not a regular file; not replaced")
        if old is not None and old.st_nlink > 1:
            raise WriteError(
                f"{target}: has {old.st_nlink - 1} other hard link(s), which a rewrite would leave with the old "
                "content; not replaced (copy the file and write the copy)"
            )
        remove_stale(folder)
        mode = (old.st_mode & 0o7777) if old is not None else (0o666 & ~_umask())
        try:
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{real.name}{_MARK}{os.getpid()}-", suffix=suffix)
        except OSError as e:
            raise WriteError(f"{target}: cannot write in {folder} ({e.strerror})") from None
        os.close(fd)
        try:
            yield Path(tmp)
            if old is not None and hasattr(os, "chown"):
                for uid, gid in ((-1, old.st_gid), (old.st_uid, -1)):  # the group alone is allowed more often
                    with suppress(PermissionError):
                        os.chown(tmp, uid, gid)
            os.chmod(tmp, mode)  # after chown, which may clear set-id bits
            if stamp(real) != before:
                raise _changed(target)
            if old is None and not overwrite:
                try:
                    os.link(tmp, real)  # fails if someone created it meanwhile, where a rename would not
                except FileExistsError:
                    raise OutputExistsError(f"{target}: exists; not replaced") from None
                except OSError:
                    os.replace(tmp, real)  # a file system without hard links
            else:
                os.replace(tmp, real)
        except OSError as e:
            _forget(e)
            raise WriteError(f"{target}: cannot write ({e.strerror or e})") from None
        finally:
            with suppress(OSError):
                os.unlink(tmp)


def _forget(error: BaseException) -> None:
    """Close now, quietly, what a failed write left open: on a full disk their own closing fails again,
    which Python would print at exit as an "Exception ignored" traceback after the one-line error."""
    hook = sys.unraisablehook
    sys.unraisablehook = lambda _: None
    try:
        traceback.clear_frames(error.__traceback__)
        gc.collect()
    finally:
        sys.unraisablehook = hook


@contextmanager
def scratch(kind: str) -> Iterator[Path]:
    """A private temporary folder, `stmodel-KIND-PID-xxxxxxxx` in the system's temp folder, removed on
    exit; those of processes that died without removing theirs go first."""
    remove_stale(Path(tempfile.gettempdir()))
    with tempfile.TemporaryDirectory(prefix=f"stmodel-{kind}-{os.getpid()}-") as tmp:
        yield Path(tmp)
