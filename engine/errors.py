"""The one base class of every error the project raises on purpose.

Each layer raises its own subclass (a bad driver, a damaged workbook, an add-in that cannot be
built) with a message that names what was wrong and where. Messages say nothing about the command
line: the CLI catches `StmodelError` once and adds its own advice.
"""

from __future__ import annotations


class StmodelError(Exception):
    """A problem with the user's input or files; `str()` is a one-line explanation."""
