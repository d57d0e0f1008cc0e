"""Make the README's pictures of the workbook: the Cover and the Valuation sheet as they print.

    python bench/readme_pictures.py                       # docs/images/cover.png, docs/images/valuation.png
    python bench/readme_pictures.py --suffix=-before      # cover-before.png ... (run on the old code)
    python bench/readme_pictures.py --dpi 100 --out /tmp  # elsewhere, sharper

A freshly built workbook is printed to PDF with LibreOffice (`workbook.recalc.print_pdf`, what `stmodel
pdf` runs) and the pages of the two sheets are drawn with poppler's pdftoppm. Each page carries its
sheet's name in the header, which is how the pages are found. Needs LibreOffice and poppler-utils
(apt-get install libreoffice-calc-nogui poppler-utils). Run it again whenever the workbook changes.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from workbook.build import build_timestamp, build_workbook, save_atomic  # noqa: E402
from workbook.printing import COMPANY  # noqa: E402
from workbook.recalc import print_pdf  # noqa: E402

PICTURES = {"Cover": "cover", "Valuation": "valuation"}  # sheet -> picture name


def sheet_pages(pdf: Path) -> dict[str, list[int]]:
    """Sheet name -> its page numbers, from the header at the top of every page."""
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True)
    pages: dict[str, list[int]] = {}
    for number, page in enumerate(text.stdout.split("\f"), start=1):
        first = next((line.strip() for line in page.splitlines() if line.strip()), "")
        if first.startswith(COMPANY):
            pages.setdefault(first[len(COMPANY) :].strip(), []).append(number)
    return pages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images", help="folder for the pictures")
    parser.add_argument("--suffix", default="", help="added to each picture's name (cover-before.png)")
    parser.add_argument("--dpi", type=int, default=80, help="resolution of the pictures")
    args = parser.parse_args(argv)
    if shutil.which("pdftoppm") is None or shutil.which("pdftotext") is None:
        print("needs poppler-utils (pdftoppm, pdftotext): apt-get install poppler-utils", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        book, pdf = Path(tmp) / "model.xlsx", Path(tmp) / "model.pdf"
        save_atomic(build_workbook(), book, timestamp=build_timestamp())
        print_pdf(book, pdf)
        pages = sheet_pages(pdf)
        for sheet, name in PICTURES.items():
            if sheet not in pages:
                print(f"{sheet}: no page in the PDF", file=sys.stderr)
                return 1
            page = pages[sheet][0]
            target = args.out / f"{name}{args.suffix}.png"
            stem = Path(tmp) / name
            cmd = ["pdftoppm", "-png", "-r", str(args.dpi), "-f", str(page), "-l", str(page), "-singlefile"]
            subprocess.run([*cmd, str(pdf), str(stem)], check=True)
            shutil.copyfile(stem.with_suffix(".png"), target)
            print(f"wrote {target} (page {page} of the PDF)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
