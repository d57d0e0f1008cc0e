"""SenseTime ST_* worksheet functions (xlwings UDFs). The add-in's config names this module: `udfs`.

xlwings imports this module by name and writes a VBA wrapper for every function it finds here.
"""

from .functions import (
    ST_DRIVER,
    ST_FORECAST,
    ST_INFO,
    ST_LINE,
    ST_PEERS,
    ST_RATING,
    ST_SENSITIVITY,
    ST_TARGET,
    ST_UPSIDE,
    ST_VALUATION,
)

__all__ = [
    "ST_DRIVER",
    "ST_FORECAST",
    "ST_INFO",
    "ST_LINE",
    "ST_PEERS",
    "ST_RATING",
    "ST_SENSITIVITY",
    "ST_TARGET",
    "ST_UPSIDE",
    "ST_VALUATION",
]
