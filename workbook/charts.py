"""Pictures for people: the simulated target-price distribution as a PNG (matplotlib)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.errors import StmodelError
from engine.files import WriteError, replacing
from engine.simulate import Simulation


class ChartError(StmodelError):
    """The chart could not be written; the message says why."""


def write_histogram(sim: Simulation, path: Path, overwrite: bool = True) -> Path:
    """Histogram of the unrounded target price with the last price and the rating thresholds marked
    (an existing file at `path` is replaced only with `overwrite`)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ChartError(
            "the histogram needs matplotlib, an optional part: pip install 'sensetime-model[charts]'"
        ) from None
    import engine

    if not np.isfinite(sim.target_price).all():
        raise ChartError("some scenarios have no finite target price")
    base = engine.base_values()
    last = float(base["last_price"])
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=110)
    ax.hist(sim.target_price, bins=80, color="#1F3864", alpha=0.85)
    p = sim.percentiles()
    ax.axvline(last, color="black", linestyle="--", label=f"last price HK${last:.2f}")
    ax.axvline(
        last * (1 + float(base["buy_threshold_large"])), color="green", linestyle=":", label="BUY above (large cap)"
    )
    ax.axvline(
        last * (1 + float(base["fully_valued_threshold"])), color="red", linestyle=":", label="FULLY VALUED below"
    )
    ax.axvline(p[50], color="orange", label=f"median HK${p[50]:.2f}")
    ax.set_xlabel("12-month target price, unrounded (HK$)")
    ax.set_ylabel("scenarios")
    ax.set_title(f"SenseTime (20 HK): target price over {sim.n:,} scenarios (seed {sim.seed})")
    ax.legend(fontsize=8)
    fig.tight_layout()
    try:
        with replacing(Path(path), suffix=".png", overwrite=overwrite) as tmp:
            fig.savefig(tmp, format="png")
    except WriteError as e:
        raise ChartError(str(e)) from e
    finally:
        plt.close(fig)
    return Path(path)
