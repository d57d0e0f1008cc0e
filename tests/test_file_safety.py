"""Files are the user's (docs/files.md): never written over the input, an existing output only with
--overwrite, modes, owners, links and macros kept, one writer at a time, no temporary file left behind
by a signal or a kill, no traceback on a full disk, and the same bytes from the same model."""

from __future__ import annotations

import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from procs import running
from typer.testing import CliRunner

from engine.files import host
from stmodel.cli import app
from workbook.layout import ENGINE, NOT_REFRESHED, REFRESHED_CELL, SIMULATION

ROOT = Path(__file__).resolve().parents[1]
MACRO_MAIN = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
VBA_TYPE = "application/vnd.ms-office.vbaProject"


def cli(*args: object) -> tuple[int, str]:
    result = CliRunner().invoke(app, [str(a) for a in args])
    return result.exit_code, result.output


def run(*args: object, cwd: Path | None = None, **kwargs: object) -> subprocess.CompletedProcess[str]:
    """`stmodel ARGS` in a process of its own (signals, limits and umask are per process)."""
    return subprocess.run(
        [sys.executable, "-m", "stmodel", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        **kwargs,  # type: ignore[call-overload]
    )


def leftovers(folder: Path) -> list[str]:
    """Hidden files beside an output (stmodel's temporary files are hidden: `.NAME.stmodel-PID-...`)."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    assert "Traceback" not in text and "Exception ignored" not in text, text
    return lines[0]


@pytest.fixture
def model(built: Path, tmp_path: Path) -> Path:
    path = tmp_path / "model.xlsx"
    shutil.copyfile(built, path)
    return path


# ------------------------------------------------------------------ output onto its input, --overwrite


@pytest.mark.parametrize("how", ["same path", "symlink", "hard link"])
@pytest.mark.parametrize("command", ["export", "recalc", "refresh"])
def test_output_onto_its_input_is_refused(model: Path, how: str, command: str) -> None:
    before = model.read_bytes()
    target = model
    if how == "symlink":
        target = model.with_name("link.xlsx")
        target.symlink_to(model.name)
    elif how == "hard link":
        target = model.with_name("hard.xlsx")
        os.link(model, target)
    code, output = cli(command, model, "-o", target)
    if command == "refresh" and how != "hard link":
        assert code == 0, output  # refresh works in place: its purpose
        assert target.is_symlink() or how == "same path"
        return
    assert code == 2, output
    line = one_line(output)
    assert "same file" in line or "hard link" in line, line
    assert model.read_bytes() == before


@pytest.mark.parametrize(
    "args",
    [
        ["build", "-o", "{out}.xlsx"],
        ["refresh", "{model}", "-o", "{out}.xlsx"],
        ["export", "{model}", "-o", "{out}.xlsx"],
        ["recalc", "{model}", "-o", "{out}.xlsx"],
        ["errata", "-o", "{out}.md"],
        ["addin", "build", "-o", "{out}.xlam"],
        ["simulate", "-n", "2000", "--histogram", "{out}.png"],
    ],
    ids=lambda a: " ".join(a[:2]),
)
def test_an_existing_output_is_replaced_only_with_overwrite(model: Path, args: list[str]) -> None:
    out = model.with_name("existing")
    args = [a.format(model=model, out=out) for a in args]
    target = Path(args[-1])
    target.write_bytes(b"the user's own file")
    code, output = cli(*args)
    assert code == 2, output
    assert "exists" in one_line(output) and "--overwrite" in output
    assert target.read_bytes() == b"the user's own file"
    if args[0] in ("build", "errata", "refresh", "simulate"):  # the quick ones: --overwrite replaces it
        code, output = cli(*args, "--overwrite")
        assert code == 0, output
        assert target.read_bytes() != b"the user's own file"


@pytest.mark.parametrize(
    "command", [["build"], ["recalc"], ["refresh"], ["export"], ["errata"], ["addin", "build"], ["simulate"]]
)
def test_help_names_overwrite(command: list[str]) -> None:
    code, output = cli(*command, "--help")
    assert code == 0 and "--overwrite" in output
    if command == ["export"]:
        assert "--force" in output and "audit" in output


# ------------------------------------------------------------------ modes, owners, links


def test_a_new_file_gets_the_mode_the_umask_gives(tmp_path: Path) -> None:
    for mask, mode in ((0o022, 0o644), (0o002, 0o664), (0o077, 0o600)):
        out = tmp_path / f"m{mask:o}.xlsx"
        result = run("build", "-o", out, preexec_fn=lambda mask=mask: os.umask(mask))
        assert result.returncode == 0, result.stderr
        assert stat.S_IMODE(out.stat().st_mode) == mode, (oct(mask), oct(out.stat().st_mode))


def test_refresh_in_place_keeps_mode_owner_and_group(model: Path) -> None:
    os.chmod(model, 0o640)
    owner = (model.stat().st_uid, model.stat().st_gid)
    if os.geteuid() == 0:
        os.chown(model, 4321, 4322)  # as root the test can give the file someone else's owner
        owner = (4321, 4322)
    inode = model.stat().st_ino
    code, output = cli("refresh", model)
    assert code == 0, output
    st = model.stat()
    assert st.st_ino != inode, "rewritten through a temporary file"
    assert stat.S_IMODE(st.st_mode) == 0o640
    assert (st.st_uid, st.st_gid) == owner


def test_refresh_through_a_symlink_rewrites_the_target_and_keeps_the_link(model: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "shared"
    elsewhere.mkdir()
    real = elsewhere / "model.xlsx"
    model.rename(real)
    link = tmp_path / "link.xlsx"
    link.symlink_to(real)
    code, output = cli("refresh", link)
    assert code == 0, output
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert load_workbook(real)[ENGINE][REFRESHED_CELL].value != NOT_REFRESHED
    assert leftovers(tmp_path) == [] and leftovers(elsewhere) == []


def test_a_file_with_other_hard_links_is_refused_not_split(model: Path) -> None:
    """Chosen: refused (a rename would leave the other names with the old content; an in-place rewrite
    could be left half-written by a kill)."""
    other = model.with_name("other-name.xlsx")
    os.link(model, other)
    before = model.read_bytes()
    code, output = cli("refresh", model)
    assert code == 2, output
    assert "hard link" in one_line(output)
    assert model.read_bytes() == before and os.path.samefile(model, other)


# ------------------------------------------------------------------ macros


def make_xlsm(src: Path, dst: Path) -> bytes:
    """`src` with a VBA project, as Excel saves a macro-enabled workbook; returns the project's bytes."""
    from addin.build import TEMPLATE

    with zipfile.ZipFile(TEMPLATE) as z:
        vba = z.read("xl/vbaProject.bin")
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "[Content_Types].xml":
                text = data.decode().replace(
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml", MACRO_MAIN
                )
                text = text.replace(
                    "</Types>", f'<Override PartName="/xl/vbaProject.bin" ContentType="{VBA_TYPE}"/></Types>'
                )
                data = text.encode()
            elif info.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(
                    b"</Relationships>",
                    b'<Relationship Id="rIdVba" Type="http://schemas.microsoft.com/office/2006/relationships/'
                    b'vbaProject" Target="vbaProject.bin"/></Relationships>',
                )
            zout.writestr(info, data)
        zout.writestr("xl/vbaProject.bin", vba)
    return vba


def assert_macros_kept(path: Path, vba: bytes) -> None:
    with zipfile.ZipFile(path) as z:
        assert z.read("xl/vbaProject.bin") == vba
        types = z.read("[Content_Types].xml").decode()
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
    assert MACRO_MAIN in types and VBA_TYPE in types
    assert "vbaProject.bin" in rels


@pytest.mark.parametrize("command", ["refresh", "simulate"])
def test_a_macro_enabled_workbook_keeps_its_vba_project(model: Path, command: str) -> None:
    xlsm = model.with_suffix(".xlsm")
    vba = make_xlsm(model, xlsm)
    args = ["refresh", xlsm] if command == "refresh" else ["simulate", "-n", "2000", "--workbook", xlsm]
    code, output = cli(*args)
    assert code == 0, output
    assert_macros_kept(xlsm, vba)
    wb = load_workbook(xlsm)
    assert (SIMULATION in wb.sheetnames) == (command == "simulate")


def with_part(src: Path, dst: Path, name: str, data: bytes, content_type: str) -> None:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            content = zin.read(info.filename)
            if info.filename == "[Content_Types].xml":
                override = f'<Override PartName="/{name}" ContentType="{content_type}"/></Types>'
                content = content.decode().replace("</Types>", override).encode()
            zout.writestr(info, content)
        zout.writestr(name, data)


MACRO_SHEET = (
    b'<?xml version="1.0" encoding="UTF-8"?><xm:macrosheet xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main"'
    b' xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData/></xm:macrosheet>'
)


@pytest.mark.parametrize(
    "name, content_type, data",
    [
        ("xl/code/project.bin", "application/vnd.ms-office.vbaProject", b"a VBA project by another name"),
        ("xl/macrosheets/sheet1.xml", "application/vnd.ms-excel.macrosheet+xml", MACRO_SHEET),
    ],
    ids=["vba-elsewhere", "excel4-macro-sheet"],
)
@pytest.mark.parametrize("suffix", [".xlsx", ".xlsm"])
def test_macros_the_package_reader_finds_are_refused_not_dropped(
    model: Path, name: str, content_type: str, data: bytes, suffix: str
) -> None:
    book = model.with_name("book" + suffix)
    if suffix == ".xlsm":
        xlsm = model.with_name("plain.xlsm")
        make_xlsm(model, xlsm)
        with_part(xlsm, book, name, data, content_type)
    else:
        with_part(model, book, name, data, content_type)
    before = book.read_bytes()
    code, output = cli("refresh", book)
    assert code == 2, output
    assert "macro" in one_line(output)
    assert book.read_bytes() == before


def test_macros_are_never_stripped_silently(model: Path) -> None:
    xlsm = model.with_suffix(".xlsm")
    make_xlsm(model, xlsm)
    code, output = cli("refresh", xlsm, "-o", model.with_name("copy.xlsx"))
    assert code == 2 and ".xlsm" in one_line(output)
    assert not model.with_name("copy.xlsx").exists()
    misnamed = model.with_name("misnamed.xlsx")
    shutil.copyfile(xlsm, misnamed)
    before = misnamed.read_bytes()
    code, output = cli("refresh", misnamed)
    assert code == 2 and "macros" in one_line(output)
    assert misnamed.read_bytes() == before


# ------------------------------------------------------------------ one writer at a time


def test_a_locked_workbook_is_in_use(model: Path) -> None:
    from engine.files import locked

    before = model.read_bytes()
    with locked(model):
        result = run("refresh", model, env=dict(os.environ, STMODEL_LOCK_WAIT="0.5"))
    assert result.returncode == 2, result.stderr
    assert "in use by another stmodel process" in one_line(result.stderr)
    assert model.read_bytes() == before
    assert leftovers(model.parent) == []


def test_a_file_changed_since_it_was_read_is_not_replaced(model: Path) -> None:
    from engine.files import WriteError, updating
    from workbook.book import open_for_update, save_atomic

    with updating(model) as since:
        wb = open_for_update(model)
        wb[ENGINE][REFRESHED_CELL] = "ours"
        model.write_bytes(model.read_bytes())  # another program saves it meanwhile
        os.utime(model, ns=(time.time_ns(), time.time_ns() + 10**9))
        with pytest.raises(WriteError, match="changed on disk since stmodel read it"):
            save_atomic(wb, model, since=since)
    assert load_workbook(model)[ENGINE][REFRESHED_CELL].value == NOT_REFRESHED


def test_refresh_and_simulate_at_once_lose_no_update(model: Path) -> None:
    for trial in range(4):
        book = model.with_name(f"trial{trial}.xlsx")
        shutil.copyfile(model, book)
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "stmodel", *args],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            for args in (["refresh", str(book)], ["simulate", "-n", "2000", "--workbook", str(book)])
        ]
        codes = [p.wait(timeout=120) for p in procs]
        errors = [p.stderr.read() if p.stderr else "" for p in procs]
        wb = load_workbook(book)
        refreshed = wb[ENGINE][REFRESHED_CELL].value != NOT_REFRESHED
        simulated = SIMULATION in wb.sheetnames
        for code, error, present in zip(codes, errors, (refreshed, simulated), strict=True):
            if code == 0:
                assert present, (trial, codes, errors, refreshed, simulated)
            else:
                assert "in use by another stmodel process" in error or "changed on disk" in error, error


# ------------------------------------------------------------------ signals, kills, full disk


def descendants(pid: int) -> set[int]:
    """Every process below `pid` (from /proc)."""
    children: dict[int, set[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = entry.joinpath("stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), set()).add(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text("latin-1")
    except OSError:
        return ""


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_during_export_leaves_no_temporary_file_and_no_libreoffice(model: Path, sig: int) -> None:
    out = model.with_name("analyst.xlsx")
    proc = subprocess.Popen(
        [sys.executable, "-m", "stmodel", "export", str(model), "-o", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    office: set[int] = set()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        office = {p for p in descendants(proc.pid) if "soffice" in cmdline(p) or "oosplash" in cmdline(p)}
        if any("soffice.bin" in cmdline(p) for p in office if running(p)):
            break
        time.sleep(0.05)
    assert office, "LibreOffice never started"
    proc.send_signal(sig)
    proc.wait(timeout=60)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(running(p) for p in office):
        time.sleep(0.1)
    assert not [p for p in office if running(p)], "LibreOffice outlived stmodel"
    assert proc.returncode != 0
    assert leftovers(model.parent) == []
    assert not out.exists()
    assert not list(Path(tempfile.gettempdir()).glob(f"stmodel-*-{proc.pid}-*"))


def test_the_next_run_removes_temporary_files_a_killed_run_left(model: Path) -> None:
    dead = subprocess.Popen(["true"])  # its pid runs no more once waited for
    dead.wait()
    out = model.with_name("out.xlsx")
    stale = model.with_name(f".out.xlsx.stmodel-{dead.pid}-{host()}-abcdefgh.xlsx")
    stale.write_bytes(b"half a workbook")
    alive = model.with_name(f".out.xlsx.stmodel-{os.getpid()}-{host()}-abcdefgh.tmp")  # a running writer's: kept
    alive.write_bytes(b"being written")
    elsewhere = model.with_name(f".out.xlsx.stmodel-{dead.pid}-otherhost-abcdefgh.xlsx")  # another machine's
    elsewhere.write_bytes(b"being written on another machine sharing the folder")
    result = run("build", "-o", out)
    assert result.returncode == 0, result.stderr
    assert not stale.exists()
    assert alive.exists()
    assert elsewhere.exists(), "the pid is only meaningful on the host that wrote it"


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_names_no_writer_could_have_are_left_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A pid too large for os.kill (crafted, or another system's) is not a traceback in every write: such
    names are not stmodel's, so they stay; the same for LibreOffice profiles naming such a pid."""
    from workbook import recalc

    huge, big = "9" * 20, "9" * 10  # 10 digits still overflow a pid_t
    temp = Path(tempfile.gettempdir())
    folders = [temp / f"stmodel-evil-{huge}-abcdefgh", temp / f"stmodel-evil-{big}-{host()}-abcdefgh"]
    out = tmp_path / "x.xlsx"
    files = [
        tmp_path / f".x.xlsx.stmodel-{huge}-abcdefgh.xlsx",
        tmp_path / f".x.xlsx.stmodel-{big}-{host()}-abcdefgh.xlsx",
        tmp_path / f".x.xlsx.stmodel-0-{host()}-abcdefgh.xlsx",
    ]
    try:
        for folder in folders:
            folder.mkdir()
        for f in files:
            f.write_bytes(b"not ours")
        code, output = cli("build", "-o", out)
        assert code == 0, output
        assert all(f.exists() for f in files + folders)
    finally:
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)
    cmdlines = [f"soffice -env:UserInstallation=file:///tmp/stmodel-lo-{pid}-x/profile" for pid in (huge, big, "0")]
    monkeypatch.setattr(recalc, "_processes", lambda: iter((os.getpid(), c) for c in cmdlines))
    killed: list[int] = []
    real_kill = os.kill  # asks (signal 0) for real: 9999999999 overflows it; records instead of ending anything
    monkeypatch.setattr(recalc.os, "kill", lambda pid, sig: real_kill(pid, sig) if sig == 0 else killed.append(pid))
    assert recalc.end_orphans() == 0 and killed == []


def test_a_temporary_name_left_linked_to_the_output_is_swept_not_refused(tmp_path: Path) -> None:
    """A kill between linking the temporary file to a new output and removing the temporary name leaves the
    output with two links; the next write removes the extra name instead of refusing for ever."""
    out = tmp_path / "out.xlsx"
    assert cli("build", "-o", out)[0] == 0
    left = tmp_path / f".out.xlsx.stmodel-{dead_pid()}-{host()}-abcdefgh.xlsx"
    os.link(out, left)
    code, output = cli("build", "-o", out, "--overwrite")
    assert code == 0, output
    assert not left.exists() and out.stat().st_nlink == 1
    assert leftovers(tmp_path) == []


def test_on_windows_temporary_files_are_swept_by_age(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from engine import files

    monkeypatch.setattr(files, "_WINDOWS", True)
    old = tmp_path / f".out.xlsx.stmodel-{dead_pid()}-{host()}-abcdefgh.xlsx"
    fresh = tmp_path / f".out.xlsx.stmodel-{dead_pid()}-{host()}-ijklmnop.xlsx"
    for f in (old, fresh):
        f.write_bytes(b"x")
    day_and_more = time.time() - files.STALE_AGE - 60
    os.utime(old, (day_and_more, day_and_more))
    assert files.remove_stale(tmp_path) == [old]
    assert fresh.exists()


def test_on_windows_the_mode_is_not_applied_and_a_locked_file_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read-only flag on the temporary file would make the rename fail and the file undeletable there;
    a rename refused (the file open in Excel) says what to do."""
    from engine import files

    monkeypatch.setattr(files, "_WINDOWS", True)
    chmods: list[object] = []
    monkeypatch.setattr(files.os, "chmod", lambda *a, **k: chmods.append(a))
    out = tmp_path / "out.txt"
    out.write_text("old")
    with files.replacing(out) as tmp:
        tmp.write_text("new")
    assert out.read_text() == "new" and chmods == []

    def denied(*_: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(files.os, "replace", denied)
    with pytest.raises(files.WriteError, match=r"open in another program, e\.g\. Excel"), files.replacing(out) as tmp:
        tmp.write_text("newer")
    assert out.read_text() == "new" and leftovers(tmp_path) == []


def test_same_file_compares_paths_where_inodes_are_zero(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.files import same_file

    a, b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    a.write_text("a")
    b.write_text("b")
    real_stat = os.stat

    def no_inodes(path: object, *args: object, **kwargs: object) -> os.stat_result:
        s = real_stat(path, *args, **kwargs)  # type: ignore[arg-type]
        return os.stat_result((s.st_mode, 0, 0, s.st_nlink, s.st_uid, s.st_gid, s.st_size, 0, 0, 0))

    monkeypatch.setattr(os, "stat", no_inodes)
    assert not same_file(a, b)
    assert same_file(a, tmp_path / "." / "a.xlsx")


def lock_files() -> set[str]:
    folder = Path(tempfile.gettempdir()) / f"stmodel-locks-{os.getuid()}"
    return set(os.listdir(folder)) if folder.is_dir() else set()


def test_private_scratch_files_take_no_lock(tmp_path: Path) -> None:
    """A lock file is never deleted, so locking each private scratch file (every export and audit --recalc)
    would pile them up: files in stmodel's private folders and its own temporary files are not locked."""
    from engine.files import replacing, scratch

    out = tmp_path / "out.txt"
    before = lock_files()
    with scratch("recalc") as tmp, replacing(tmp / "recalculated.xlsx") as t:
        t.write_text("x")
    with tempfile.TemporaryDirectory(prefix="stmodel-audit-") as audit_tmp, replacing(Path(audit_tmp) / "r.xlsx") as t:
        t.write_text("x")  # audit --recalc's folder
    with replacing(out) as draft:
        draft.write_text("draft")
        inode = draft.stat().st_ino
        with replacing(draft) as again:  # export fills its draft in place
            assert draft.stat().st_ino == inode, "the draft is rewritten, not swept as a stale name"
            again.write_text("filled")
    assert out.read_text() == "filled"
    assert len(lock_files() - before) <= 1, "only the output's own lock"


# ------------------------------------------------------------------ permissions, owners, file systems


def test_a_read_only_file_is_not_replaced(model: Path) -> None:
    out = model.with_name("out.xlsx")
    assert cli("build", "-o", out)[0] == 0
    for path, args in ((model, ["refresh", model]), (out, ["build", "-o", out, "--overwrite"])):
        path.chmod(0o444)
        before = path.read_bytes()
        code, output = cli(*args)
        assert code == 2, output
        assert one_line(output).endswith(f"{path}: read-only (no permission to write it); not replaced")
        assert path.read_bytes() == before and stat.S_IMODE(path.stat().st_mode) == 0o444
    assert leftovers(model.parent) == []


def as_nobody(folder: Path, *args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            sys.executable,
            "-m",
            "stmodel",
            *map(str, args),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HOME": str(folder), "TMPDIR": str(folder)},
    )


def test_another_users_file_is_not_given_away(built: Path) -> None:
    """As `nobody` in a folder everyone may write: root's 0644 file is read-only to nobody, and root's 0666
    file could be written but not given back to root, so replacing it would make it nobody's: both refused."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to write as another user")
    folder = Path(tempfile.mkdtemp(prefix="stmodel-owners-"))
    try:
        folder.chmod(0o777)
        for mode, why in ((0o644, "read-only (no permission to write it)"), (0o666, "belongs to another user")):
            path = folder / f"root{mode:o}.xlsx"
            shutil.copyfile(built, path)
            path.chmod(mode)
            before = path.read_bytes()
            proc = as_nobody(folder, "refresh", path)
            assert proc.returncode == 2, proc.stdout + proc.stderr
            assert why in one_line(proc.stderr)
            info = path.stat()
            assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (0, 0, mode)
            assert path.read_bytes() == before
        assert leftovers(folder) == []
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_a_file_system_without_unix_modes_still_takes_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """FAT, exFAT and some CIFS mounts refuse chmod (EPERM, ENOTSUP): the mode is best effort, as the owner."""
    import errno

    def refused(*_: object, **__: object) -> None:
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "chmod", refused)
    out = tmp_path / "out.xlsx"
    code, output = cli("build", "-o", out)
    assert code == 0, output
    assert out.is_file() and leftovers(tmp_path) == []


@pytest.mark.parametrize(
    "args", [["build", "-o", "{out}"], ["refresh", "{model}"], ["refresh", "{model}", "-o", "{out}"]]
)
def test_a_full_disk_prints_one_line(model: Path, args: list[str]) -> None:
    import resource

    out = model.with_name("out.xlsx")
    before = model.read_bytes()

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (16 * 1024, resource.RLIM_INFINITY))

    result = run(*(a.format(model=model, out=out) for a in args), preexec_fn=limit)
    assert result.returncode == 2, result.stderr
    assert "File too large" in one_line(result.stderr)
    assert model.read_bytes() == before
    assert not out.exists()
    assert leftovers(model.parent) == []


# ------------------------------------------------------------------ reproducible builds


def test_two_builds_seconds_apart_are_the_same_bytes(tmp_path: Path) -> None:
    first, second = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    assert cli("build", "-o", first)[0] == 0
    time.sleep(2.1)
    assert cli("build", "-o", second)[0] == 0
    assert first.read_bytes() == second.read_bytes()


def test_source_date_epoch_sets_every_timestamp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # 2023-11-14 22:13:20 UTC
    out = tmp_path / "m.xlsx"
    assert cli("build", "-o", out)[0] == 0
    with zipfile.ZipFile(out) as z:
        assert {i.date_time for i in z.infolist()} == {(2023, 11, 14, 22, 13, 20)}
        core = z.read("docProps/core.xml").decode()
    assert re.findall(r"<dcterms:(created|modified)[^>]*>([^<]*)<", core) == [
        ("created", "2023-11-14T22:13:20Z"),
        ("modified", "2023-11-14T22:13:20Z"),
    ]
    for bad in ("yesterday", "99999999999", "0", "315532799", "4354819200", "-1", "1e9", "\u00b2", "9" * 5000):
        monkeypatch.setenv("SOURCE_DATE_EPOCH", bad)
        code, output = cli("build", "-o", tmp_path / "n.xlsx")
        assert code == 2 and "SOURCE_DATE_EPOCH" in one_line(output), (bad, output)
        assert not (tmp_path / "n.xlsx").exists()
    for edge, when in (("315532800", (1980, 1, 1, 0, 0, 0)), ("4354819198", (2107, 12, 31, 23, 59, 58))):
        monkeypatch.setenv("SOURCE_DATE_EPOCH", edge)
        code, output = cli("build", "-o", tmp_path / f"{edge}.xlsx")
        assert code == 0, output
        with zipfile.ZipFile(tmp_path / f"{edge}.xlsx") as z:
            assert {i.date_time for i in z.infolist()} == {when}
