"""Writing output files safely: the one place the rules of docs/files.md live.

Every file the project writes goes through `replacing`: a temporary file beside the target, renamed
over it only when complete, so a failure or a kill never leaves a half-written file. On the way it
refuses to write over the command's own input (same device and inode: through a symlink or a hard
link too) and over an existing file unless told to; refuses a file the user may not write (read-only) or
whose owner and group it cannot keep; gives a new file the mode the umask allows and a rewritten one its
old mode, owner and group; writes through a symlink to the file it names; refuses a file with other
hard links (renaming would split them); holds a lock against other stmodel processes and refuses to
replace a file that changed since it was read. Temporary names carry the writer's pid and host, so a
later run on the same host removes those a killed process left (on Windows: those older than a day).
"""

from __future__ import annotations

import gc
import hashlib
import os
import re
import shutil
import socket
import stat as st
import sys
import tempfile
import time
import traceback
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import NamedTuple

from .errors import StmodelError

LOCK_WAIT = 30.0  # seconds a writer waits for another stmodel process; STMODEL_LOCK_WAIT overrides
STALE_AGE = 24 * 3600  # seconds: on Windows (no way to ask whether a pid runs) older temporary files are stale
_MARK = ".stmodel-"
# `.NAME.stmodel-PID-HOST-xxxxxxxx.ext` beside an output, `stmodel-KIND-PID-HOST-xxxxxxxx` in the temp folder;
# a pid has at most 10 digits (anything longer is not a name stmodel wrote, and would overflow os.kill)
_TEMP_FILE = re.compile(r"^\..+\.stmodel-(?P<pid>\d{1,10})-(?P<host>[a-z0-9_]{1,32})-[a-z0-9_]{8}(?:\.[A-Za-z0-9]+)?$")
_TEMP_DIR = re.compile(r"^stmodel-[a-z]+-(?P<pid>\d{1,10})-(?P<host>[a-z0-9_]{1,32})-[a-z0-9_]{8}$")
_WINDOWS = os.name == "nt"


def host() -> str:
    """This machine's short name as temporary names carry it (lower case, [a-z0-9_], at most 32 characters):
    on a shared folder, a run sweeps only the temporary files of its own host, whose pids it can check."""
    try:
        name = socket.gethostname()
    except OSError:
        name = ""
    short = re.sub(r"[^a-z0-9]+", "_", name.split(".")[0].lower()).strip("_")[:32]
    return short or "host"


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
        sa, sb = os.stat(a), os.stat(b)
    except (OSError, ValueError):
        return False
    if sa.st_ino == 0 or sb.st_ino == 0:  # a file system without inode numbers (some network drives): by path
        return os.path.normcase(os.path.realpath(a)) == os.path.normcase(os.path.realpath(b))
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


def read_only(path: Path) -> bool:
    """True when the file `path` names exists and may not be written: the user lacks permission, or no
    one may write it (no write bit at all, root included; Windows' read-only attribute)."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return False
    return not os.access(path, os.W_OK) or not mode & 0o222


def _read_only_error(target: Path) -> WriteError:
    return WriteError(f"{target}: read-only (no permission to write it); not replaced")


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
    if read_only(target):
        raise _read_only_error(target)


def process_alive(pid: int) -> bool:
    """Whether process `pid` runs on this host (POSIX). A pid no process can have is "alive": the name
    that carries it is not one stmodel wrote, so it is left alone."""
    if pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError, ValueError):
        return True  # someone else's process, or not a pid at all
    return True


def _stale(path: Path, pid: int) -> bool:
    """Left by a writer that is gone: its process no longer runs, or on Windows (where os.kill(pid, 0)
    would end the process) the file is older than STALE_AGE."""
    if pid == os.getpid():
        return False
    if _WINDOWS:
        try:
            return time.time() - os.lstat(path).st_mtime > STALE_AGE
        except OSError:
            return False
    return not process_alive(pid)


def _same_inode(path: Path, target: Path | None) -> bool:
    """`path` is another name of `target`: a writer killed between linking its temporary file to the
    target and removing the temporary name (the target holds the complete new content already)."""
    if target is None or path.name == target.name:  # a temporary file being rewritten itself (export's draft)
        return False
    try:
        a, b = os.lstat(path), os.stat(target)
    except OSError:
        return False
    return a.st_ino != 0 and st.S_ISREG(a.st_mode) and (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def remove_stale(folder: Path, target: Path | None = None) -> list[Path]:
    """Remove the temporary files (in `folder`) and folders (in the system's temp folder) that stmodel
    processes of this host no longer running left behind (killed with SIGKILL, power lost), and any
    temporary name of this host that is a hard link of `target` (a kill after the link); returns what
    went. Another host's temporary files (a shared folder) are never touched."""
    gone: list[Path] = []
    ours = host()
    for where, pattern in ((Path(folder), _TEMP_FILE), (Path(tempfile.gettempdir()), _TEMP_DIR)):
        try:
            names = os.listdir(where)
        except OSError:
            continue
        for name in names:
            m = pattern.match(name)
            if not m or m.group("host") != ours:
                continue
            path = where / name
            linked = pattern is _TEMP_FILE and _same_inode(path, target)
            if not linked and not _stale(path, int(m.group("pid"))):
                continue
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


def _private(real: Path) -> bool:
    """`real` is a file no other process writes, so it needs no lock (whose file would stay behind in the
    lock folder for ever): one of this process's own temporary files, or a file in a private folder
    (mode 0700, this user's) named `stmodel-*` in the system's temp folder (`scratch`, audit --recalc)."""
    m = _TEMP_FILE.match(real.name)
    if m and int(m.group("pid")) == os.getpid() and m.group("host") == host():
        return True
    folder = real.parent
    if folder.parent != Path(os.path.realpath(tempfile.gettempdir())):
        return False
    if not folder.name.startswith("stmodel-") or folder.name.startswith("stmodel-locks"):
        return False
    try:
        info = os.lstat(folder)
    except OSError:
        return False
    if not st.S_ISDIR(info.st_mode) or info.st_mode & 0o077:
        return False
    return not hasattr(os, "getuid") or info.st_uid == os.getuid()


def _keep_owner(tmp: str, old: os.stat_result, target: Path) -> None:
    """Give `tmp` the old file's group and owner (the group alone is allowed more often); refuse when it
    cannot have them, since the rename would silently give the file to this user."""
    if not hasattr(os, "chown"):
        return
    for uid, gid in ((-1, old.st_gid), (old.st_uid, -1)):
        with suppress(OSError):
            os.chown(tmp, uid, gid)
    now = os.stat(tmp)
    if (now.st_uid, now.st_gid) != (old.st_uid, old.st_gid):
        raise WriteError(
            f"{target}: belongs to another user or group (uid {old.st_uid}, gid {old.st_gid}) that this user cannot "
            "give a new file; not replaced (replacing it would make it yours)"
        )


def _keep_mode(tmp: str, mode: int) -> None:
    """Best effort, as the owner: file systems without Unix modes (FAT, exFAT, some CIFS) refuse chmod.
    Not on Windows, where a mode only sets the read-only flag, which would make the rename fail and the
    temporary file undeletable (a read-only file is refused before this; a new one is writable)."""
    if _WINDOWS:
        return
    with suppress(OSError, NotImplementedError):
        os.chmod(tmp, mode)


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
    lock: bool | None = None,
) -> Iterator[Path]:
    """A temporary path beside `target`: write it in the `with` block; on success it replaces `target`.

    On any failure the temporary file is removed and `target` keeps its old content (if it had one).
    `inputs` are never overwritten; an existing `target` only with `overwrite`; `since` is the stamp of
    the version the new content was made from (see `updating`). `lock` False writes without the stmodel
    lock (a target in a private scratch folder); None (the default) locks unless the target is private.
    """
    target = Path(target)
    check_target(target, inputs, overwrite)
    real = Path(os.path.realpath(target))  # through symlinks: the link stays, the file it names changes
    folder = real.parent
    if not folder.is_dir():
        raise WriteError(f"{target}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise WriteError(f"{target}: no permission to write in {folder}")
    if lock is None:
        lock = not _private(real)
    with locked(real) if lock else _unlocked():
        remove_stale(folder, real)  # first: a kill after linking a temporary name left the target two links
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
        if old is not None and read_only(real):
            raise _read_only_error(target)
        if old is not None and old.st_nlink > 1:
            raise WriteError(
                f"{target}: has {old.st_nlink - 1} other hard link(s), which a rewrite would leave with the old "
                "content; not replaced (copy the file and write the copy)"
            )
        mode = (old.st_mode & 0o7777) if old is not None else (0o666 & ~_umask())
        prefix = f".{real.name[:80]}{_MARK}{os.getpid()}-{host()}-"
        try:
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=prefix, suffix=suffix)
        except OSError as e:
            raise WriteError(f"{target}: cannot write in {folder} ({e.strerror})") from None
        os.close(fd)
        try:
            if old is not None:
                _keep_owner(tmp, old, target)  # before the content: refused before any long work
            yield Path(tmp)
            if old is not None:
                _keep_owner(tmp, old, target)  # again: the caller may have put another file there
            _keep_mode(tmp, mode)  # after chown, which may clear set-id bits
            if stamp(real) != before:
                raise _changed(target)
            if old is None and not overwrite:
                try:
                    os.link(tmp, real)  # fails if someone created it meanwhile, where a rename would not
                except FileExistsError:
                    raise OutputExistsError(f"{target}: exists; not replaced") from None
                except OSError:
                    _rename(tmp, real, target)  # a file system without hard links
            else:
                _rename(tmp, real, target)
        except OSError as e:
            _forget(e)
            raise WriteError(f"{target}: cannot write ({e.strerror or e})") from None
        finally:
            with suppress(OSError):
                os.unlink(tmp)


@contextmanager
def _unlocked() -> Iterator[None]:
    yield


def _rename(tmp: str, real: Path, target: Path) -> None:
    try:
        os.replace(tmp, real)
    except PermissionError as e:
        if not _WINDOWS:
            raise
        raise WriteError(
            f"{target}: cannot write ({e.strerror or e}) (is it open in another program, e.g. Excel?)"
        ) from None


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
    """A private temporary folder, `stmodel-KIND-PID-HOST-xxxxxxxx` in the system's temp folder, removed
    on exit; those of processes that died without removing theirs go first."""
    remove_stale(Path(tempfile.gettempdir()))
    with tempfile.TemporaryDirectory(prefix=f"stmodel-{kind}-{os.getpid()}-{host()}-") as tmp:
        yield Path(tmp)
