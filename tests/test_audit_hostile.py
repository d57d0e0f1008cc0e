"""Hostile or broken files: exit code 2 with a clear message, within 10 s and 1 GiB of memory."""

import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LIMITED = textwrap.dedent(
    """
    import resource, sys
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
    sys.argv = ["stmodel", "audit", sys.argv[1]]
    from stmodel.cli import main
    main()
    """
)


def audit_limited(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", LIMITED, str(path)],
        capture_output=True,
        text=True,
        timeout=10,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "OPENBLAS_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)},
    )


def rewrite(src: Path, dst: Path, member: str, data: bytes) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info, data if info.filename == member else zin.read(info.filename))
    return dst


def expect_refusal(path: Path, words: str) -> None:
    proc = audit_limited(path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_not_a_zip(tmp_path):
    path = tmp_path / "renamed.xlsx"
    path.write_text("Company,Price\nSenseTime,2.16\n")
    expect_refusal(path, "not an .xlsx workbook")


def test_truncated_zip(built, tmp_path):
    path = tmp_path / "truncated.xlsx"
    data = built.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    expect_refusal(path, "damaged or truncated zip")


def deflate_bomb(src: Path, path: Path, blocks: int = 128) -> Path:
    """`src` with its first sheet replaced by 16 MiB x `blocks` of spaces (2 GiB once inflated, by default)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zout:
        for info in zin.infolist():
            if info.filename == "xl/worksheets/sheet1.xml":
                with zout.open(info.filename, "w", force_zip64=True) as w:
                    block = b" " * (1 << 24)
                    for _ in range(blocks):
                        w.write(block)
            else:
                zout.writestr(info, zin.read(info.filename))
    return path


def test_zip_bomb(built, tmp_path):
    path = deflate_bomb(built, tmp_path / "bomb.xlsx")
    assert path.stat().st_size < 50_000_000
    expect_refusal(path, "zip bomb")


LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">'.encode()
        for i in range(1, 10)
    )
    + b']>\n<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    + b'<row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>'
)


def test_billion_laughs(built, tmp_path):
    path = rewrite(built, tmp_path / "laughs.xlsx", "xl/worksheets/sheet1.xml", LAUGHS)
    expect_refusal(path, "entit")


def test_billion_laughs_behind_a_long_comment(built, tmp_path):
    # The entity declarations start after the first 4 KB: the container check reads every part to its end.
    payload = LAUGHS.replace(b"\n<!DOCTYPE", b"\n<!--" + b"x" * 8000 + b"-->\n<!DOCTYPE", 1)
    path = rewrite(built, tmp_path / "laughs2.xlsx", "xl/worksheets/sheet1.xml", payload)
    expect_refusal(path, "declares XML entities")


def test_password_protected(built, tmp_path):
    msoffcrypto = pytest.importorskip("msoffcrypto.format.ooxml")
    path = tmp_path / "protected.xlsx"
    with built.open("rb") as src, path.open("wb") as out:
        msoffcrypto.OOXMLFile(src).encrypt("secret", out)
    expect_refusal(path, "password-protected")


def test_missing_file(tmp_path):
    expect_refusal(tmp_path / "nothing.xlsx", "no such file")


def test_a_zip_that_is_not_a_workbook(tmp_path):
    path = tmp_path / "archive.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("readme.txt", "hello")
    expect_refusal(path, "not an Excel workbook")
