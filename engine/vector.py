"""The vectorised path: many driver sets at once, in chunks so that memory stays bounded.

Every node of a chunk is a numpy array over the chunk's scenarios; only the requested outputs are
kept across chunks. One chunk of 32,768 scenarios holds about 700 arrays of 256 KiB: under 200 MiB.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .model import Model, Node, compile_model, evaluate

# Measured by bench/bench_speed.py: 16,384 and 32,768 within a few percent of each other, 8,192 and
# 65,536 slower; kept at 32,768 so that a seed draws the same scenarios as before (engine/simulate.py).
CHUNK = 32_768


def scenario_count(inputs: Mapping[str, Any]) -> int:
    sizes = {np.size(v) for v in inputs.values() if not isinstance(v, str) and np.ndim(v) > 0}
    if len(sizes) > 1:
        raise ValueError(f"driver arrays differ in length: {sorted(sizes)}")
    return sizes.pop() if sizes else 1


def evaluate_many(
    inputs: Mapping[str, Any],
    outputs: tuple[Node, ...] = (("target_price", None), ("upside", None), ("rating", None)),
    model: Model | None = None,
    chunk: int = CHUNK,
    progress: Callable[[int], None] | None = None,
) -> dict[Node, np.ndarray]:
    """Evaluate N driver sets (arrays of length N, or scalars shared by all) and return `outputs`; only
    the steps the outputs depend on run (`engine.model.plan`)."""
    model = model or compile_model()
    n = scenario_count(inputs)
    result: dict[Node, np.ndarray] = {}
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        part = {k: (v[start:stop] if not isinstance(v, str) and np.ndim(v) > 0 else v) for k, v in inputs.items()}
        env = evaluate(part, model, outputs=outputs)
        for node in outputs:
            value = np.broadcast_to(env[node], (stop - start,))
            if node not in result:
                result[node] = np.empty(n, dtype=value.dtype if value.dtype.kind != "U" else object)
            result[node][start:stop] = value
        if progress:
            progress(stop - start)
    return result
