"""Process checks the tests share: whether a process still runs (a zombie does not)."""

from pathlib import Path


def running(pid: int) -> bool:
    """Whether `pid` runs: it has a /proc entry that is not a zombie (Linux)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
