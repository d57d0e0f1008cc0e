"""The fast paths give the same figures as the full one: a pruned evaluation (only the steps the outputs
need) equals the full evaluation exactly, the scalar code equals the numpy path, and a worksheet
function's cache miss (scalar) equals `engine.run`. Speed itself is measured in bench/, not here."""

import subprocess
import sys

import numpy as np
import pytest

import engine
from engine.actuals import checked
from engine.model import compile_model, evaluate, plan
from engine.model_file import ModelFile
from engine.vector import evaluate_many
from udfs import cache

OUTPUT_SETS = (
    (("target_price", None), ("upside", None), ("rating", None)),
    (("target_price_unrounded", None),),
    (("cash", "2024F"), ("total_assets", "2023F"), ("peer_average_ps_FY2023E", None)),
    (("net_profit", "2022F"), ("eps_hkd", "2024F"), ("ps_ratio", "2021A")),
)


def models() -> list[engine.Model]:
    """The report's model, one with actuals, one extended to 2026."""
    report = compile_model()
    with_actuals = compile_model(None, checked(report, {"2022": {"smart_business": 1850.0, "cogs": -2300.0}}))
    mf = ModelFile.new()
    mf.extend(2026)
    return [report, with_actuals, mf.compiled()]


def random_drivers(model: engine.Model, n: int, seed: int) -> dict:
    """Every numeric forecast and market driver drawn around its base, n scenarios."""
    rng = np.random.default_rng(seed)
    values: dict = dict(engine.base_values(model.report, model.years))
    for name, d in engine.drivers(model.report, model.years).items():
        if isinstance(d.base, float) and d.kind in ("forecast", "market", "peer") and d.base == d.base:
            values[name] = d.base * (1 + 0.1 * rng.standard_normal(n)) if d.base else rng.normal(0, 5, n)
    values["cap_basis"] = "small"
    return values


def same(a: object, b: object) -> bool:
    x, y = np.asarray(a), np.asarray(b)
    if x.dtype.kind in "OU" or y.dtype.kind in "OU":
        return bool(np.all(x == y))
    return bool(np.array_equal(x, y, equal_nan=True))


@pytest.mark.parametrize("model", models(), ids=["report", "actuals", "extended"])
def test_the_pruned_evaluation_equals_the_full_one_exactly(model):
    values = random_drivers(model, 500, seed=7)
    full = evaluate(values, model)
    for outputs in OUTPUT_SETS:
        pruned = evaluate(values, model, outputs=outputs)
        assert len(plan(model, outputs)) < len(model.steps)
        for node in outputs:
            assert same(pruned[node], full[node]), node
    many = evaluate_many(values, OUTPUT_SETS[0], model, chunk=128)
    for node in OUTPUT_SETS[0]:
        assert same(many[node], full[node]), node


def test_a_plan_is_made_once_per_output_set():
    model = compile_model()
    assert plan(model, OUTPUT_SETS[0]) is plan(model, OUTPUT_SETS[0])
    steps = {node for node, _ in plan(model, (("target_price", None),))}
    assert ("revenue", "2024F") in steps and ("cash", "2024F") not in steps  # cash does not move the price


@pytest.mark.parametrize("model", models(), ids=["report", "actuals", "extended"])
def test_the_scalar_path_equals_the_numpy_path_on_random_driver_sets(model):
    draws = random_drivers(model, 40, seed=11)
    for k in range(40):
        overrides = {n: (v[k] if isinstance(v, np.ndarray) else v) for n, v in draws.items()}
        try:
            full = engine.run(overrides, model=model)
        except engine.DriverError:
            with pytest.raises(engine.DriverError):
                engine.run(overrides, model=model, scalar=True)
            continue
        fast = engine.run(overrides, model=model, scalar=True)
        assert fast.rating == full.rating
        for node, value in full.env.items():
            other = fast.env[node]
            if isinstance(value, str) or np.asarray(value).dtype.kind in "OU":
                assert other == value, node
            else:
                assert other == pytest.approx(float(value), rel=1e-12, abs=1e-12, nan_ok=True), node


def test_a_worksheet_function_miss_gives_what_engine_run_gives():
    cache.clear()
    rows = [["premium", 0.55], ["smart_auto_growth_2024F", 0.8], ["usdcny", 7.1]]
    miss = cache.result(rows)
    assert cache.stats["misses"] == 1
    full = engine.run({"premium": 0.55, "smart_auto_growth_2024F": 0.8, "usdcny": 7.1})
    assert miss.target_price == full.target_price and miss.rating == full.rating
    assert float(miss.raw("target_price_unrounded")) == pytest.approx(
        float(full.raw("target_price_unrounded")), rel=1e-12
    )
    assert miss.peers() == full.tables()[engine.PEERS_TITLE]
    assert cache.result(rows) is miss and cache.stats["hits"] == 1


def test_tables_are_built_once_and_handed_out_as_copies():
    result = engine.run()
    first = result.tables()
    first["Income Statement"]["Revenue"]["2024F"] = -1.0
    assert result.tables()["Income Statement"]["Revenue"]["2024F"] == 10393.0


def test_the_engine_starts_without_pandas_and_the_functions_without_matplotlib():
    code = (
        "import sys; sys.modules['matplotlib'] = None\n"  # as if matplotlib were not installed
        "import engine; r = engine.run(); assert 'pandas' not in sys.modules, 'pandas'\n"
        "from udfs.functions import ST_TARGET; print(ST_TARGET())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "2.7"
