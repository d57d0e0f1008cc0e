"""Every driver name is a valid Excel defined name (Excel is stricter than LibreOffice)."""

import pytest

import engine
from engine.names import excel_name_problem


@pytest.mark.parametrize(
    "name", ["tax2022", "A1", "xfd1048576", "R1C1", "r", "C", "rc", "R2C", "C12", "1st", "a b", "", "TRUE"]
)
def test_names_excel_rejects(name):
    assert excel_name_problem(name) is not None


@pytest.mark.parametrize("name", ["tax_2022F", "premium", "usdcny", "smart_auto_growth_2024F", "XFE1", "_x", "a.b"])
def test_names_excel_accepts(name):
    assert excel_name_problem(name) is None


def test_every_driver_name_is_valid_in_excel():
    problems = {n: excel_name_problem(n) for n in engine.drivers() if excel_name_problem(n)}
    assert problems == {}


def test_fixed_public_names_exist_with_their_base_values():
    d = engine.drivers()
    assert d["premium"].base == 0.40
    assert d["usdcny"].base == 6.75
    assert d["hkdusd"].base == pytest.approx(71889 / 9206)
    assert d["last_price"].base == 2.16
    assert d["shares_m"].base == 33282
    eps_shares = d["eps_shares_m"].base
    assert isinstance(eps_shares, float) and 33481 <= eps_shares <= 33514
    assert d["cap_basis"].base == "large"
