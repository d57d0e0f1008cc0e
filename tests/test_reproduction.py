"""How much of the report the base case reproduces, and that every miss is documented."""

import engine
from engine.reconcile import check_cells, check_peers


def test_at_least_97_percent_of_the_printed_cells(base):
    cells = check_cells(base)
    assert len(cells) == 484
    ok = sum(c.ok for c in cells)
    print(f"reproduced {ok} of {len(cells)}")
    assert ok / len(cells) >= 0.97


def test_every_miss_is_a_documented_erratum(base):
    documented = {
        (e.table, row, col)
        for e in engine.load_errata()
        if e.handling == "not reproduced"
        for row in e.rows
        for col in e.columns
    }
    misses = {(c.table, c.label, c.column) for c in check_cells(base) if not c.ok}
    assert misses <= documented, sorted(misses - documented)


def test_the_peer_table_is_reproduced(base):
    assert all(c.ok for c in check_peers(base))


def test_a_changed_model_would_be_caught(base):
    # The check is not vacuous: a 10% higher premium moves no statement cell but a wrong revenue would.
    moved = engine.run({"smart_city_growth_2022F": 0.0})
    assert sum(c.ok for c in check_cells(moved)) < sum(c.ok for c in check_cells(base)) - 50
