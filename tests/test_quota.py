"""Quota allocation: hand-worked three-rep examples, error messages, and properties.

Every example's optimum is worked out in its docstring from the model (territory_planner.quota):
w_j = r_j * (alpha * P_j / sum P + (1 - alpha) * R_j / sum R), s_j = T * w_j / sum w,
LP 1 minimises the largest |q_j - s_j| / s_j, LP 2 the sum of them under that maximum.
"""

from __future__ import annotations

import json
import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pulp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from territory_planner.errors import InfeasibleError, InputError, SolverError
from territory_planner.optimize.solvers import make_solver
from territory_planner.quota import (
    QUOTA_COLUMNS,
    allocate_quotas,
    build_max_deviation_lp,
    fair_shares,
    growth_bounds,
    ramp_notes,
    solve_quotas,
)
from territory_planner.scenario import QuotaSettings, Scenario

SOLVER = make_solver("highs", mip=False, threads=1, seed=0)


def reps_table(potential, revenue, *, regions=None, status=None, **extra) -> pd.DataFrame:
    """R01, R02, ... with the given potential and last year's revenue of their accounts."""
    n = len(potential)
    table = pd.DataFrame(
        {
            "rep_id": [f"R{i + 1:02d}" for i in range(n)],
            "name": [f"Rep {i + 1}" for i in range(n)],
            "region_id": regions if regions is not None else ["South"] * n,
            "status": status if status is not None else ["active"] * n,
            "potential": [float(v) for v in potential],
            "revenue": [float(v) for v in revenue],
        }
    )
    for column, values in extra.items():
        table[column] = values
    return table


def quotas(plan) -> dict[str, float]:
    return dict(zip(plan.frame["rep_id"], plan.frame["quota"]))


def approx(values, rel=1e-7, abs=1e-6):
    return pytest.approx(values, rel=rel, abs=abs)


# --------------------------------------------------------------------------------------------
# hand-worked examples
# --------------------------------------------------------------------------------------------


def test_potential_method_splits_the_target_by_potential():
    """P = 100, 200, 700 (sum 1000), T = 1100, method potential (alpha = 1).

    w = 0.1, 0.2, 0.7, so s = 110, 220, 770. No bounds: q = s, every deviation 0, and LP 1
    proves the largest deviation is 0.
    """
    plan = solve_quotas(
        reps_table([100, 200, 700], [50, 100, 350]),
        QuotaSettings(target=1100, method="potential"),
        SOLVER,
    )
    assert quotas(plan) == approx({"R01": 110, "R02": 220, "R03": 770})
    assert plan.frame["fair_share"].tolist() == approx([110, 220, 770])
    assert plan.frame["deviation"].tolist() == approx([0, 0, 0])
    assert plan.frame["quota_to_potential"].tolist() == approx([1.1, 1.1, 1.1])
    # growth = q / R - 1 = 110/50 - 1, ...
    assert plan.frame["growth"].tolist() == approx([1.2, 1.2, 1.2])
    assert plan.max_relative_deviation == approx(0.0)
    assert plan.lower_bound == approx(0.0)


def test_history_method_follows_last_years_revenue():
    """R = 100, 100, 300 (sum 500), T = 1000, method history (alpha = 0).

    w = 0.2, 0.2, 0.6, so s = q = 200, 200, 600: everybody grows by 100%.
    """
    plan = solve_quotas(
        reps_table([100, 200, 700], [100, 100, 300]),
        QuotaSettings(target=1000, method="history"),
        SOLVER,
    )
    assert quotas(plan) == approx({"R01": 200, "R02": 200, "R03": 600})
    assert plan.frame["growth"].tolist() == approx([1.0, 1.0, 1.0])
    assert plan.summary()["alpha"] == 0.0


def test_blend_weighs_potential_and_history_by_alpha():
    """P = 100, 200, 700 (shares 0.1, 0.2, 0.7); R = 100, 100, 300 (0.2, 0.2, 0.6); alpha 0.5.

    w = 0.5 * (0.1, 0.2, 0.7) + 0.5 * (0.2, 0.2, 0.6) = 0.15, 0.20, 0.65 (sum 1);
    T = 1000, so s = q = 150, 200, 650.
    """
    plan = solve_quotas(
        reps_table([100, 200, 700], [100, 100, 300]),
        QuotaSettings(target=1000, method="blend", alpha=0.5),
        SOLVER,
    )
    assert quotas(plan) == approx({"R01": 150, "R02": 200, "R03": 650})


def test_binding_min_growth_bound():
    """P = 100, 200, 700, T = 1000, method potential: s = 100, 200, 700.
    R = 200, 100, 300 with min_growth 0: floors L = 200, 100, 300.

    R01's floor 200 is twice its share, so LP 1 proves z* = (200 - 100) / 100 = 1.0 and
    R01 = 200. R02 + R03 = 800 against shares 200 + 700: 100 must come off, and the two
    share it evenly (the lexicographic min-max, quota/spread.py): 900 (1 + lambda) = 800,
    lambda = -1/9, q = 200, 1600/9, 5600/9 (both above their floors 100, 300), to the cent
    200, 177.78, 622.22 (sum 1000.00). (The L1 objective alone took all 100 from R03, whose
    unit costs 1/700 against R02's 1/200: 200, 200, 600.)
    """
    plan = solve_quotas(
        reps_table([100, 200, 700], [200, 100, 300]),
        QuotaSettings(target=1000, method="potential", min_growth=0.0),
        SOLVER,
    )
    assert quotas(plan) == {"R01": 200.0, "R02": 177.78, "R03": 622.22}
    assert plan.frame["deviation"].tolist() == approx([1.0, -1 / 9, -1 / 9], abs=1e-4)
    assert plan.lower_bound == approx(1.0)
    assert plan.max_relative_deviation == approx(1.0)
    assert plan.sum_relative_deviation == approx(1 + 2 / 9, abs=1e-4)
    assert plan.binding == {"min_growth": ["R01"], "max_growth": []}
    assert plan.summary()["binding_min_growth"] == 1


def test_binding_max_growth_bounds():
    """P = 100, 200, 700, T = 1000, method potential: s = 100, 200, 700.
    R = 100, 250, 600 with max_growth 0.1: caps U = 110, 275, 660.

    R03 is capped at 660 (40 below its share), so R01 + R02 must take 340 against 300.
    At z <= 0.1 they can take at most 300 * (1 + z) <= 330 < 340; past 0.1 R01 is capped at
    110, and 110 + 200 * (1 + z) = 340 gives z* = 0.15. Then every quota is forced:
    q = 110, 230, 660; deviations 0.1, 0.15, -40/700.
    """
    plan = solve_quotas(
        reps_table([100, 200, 700], [100, 250, 600]),
        QuotaSettings(target=1000, method="potential", max_growth=0.1),
        SOLVER,
    )
    assert quotas(plan) == approx({"R01": 110, "R02": 230, "R03": 660})
    assert plan.lower_bound == approx(0.15)
    assert plan.max_relative_deviation == approx(0.15)
    assert plan.sum_relative_deviation == approx(0.1 + 0.15 + 40 / 700)
    assert plan.binding == {"min_growth": [], "max_growth": ["R01", "R03"]}
    assert plan.frame["growth"].tolist() == approx([0.1, 230 / 250 - 1, 0.1])


def test_override_is_fixed_and_the_rest_of_the_target_is_shared():
    """P = 100, 200, 700, T = 1100, override R03 = 500, method potential.

    T left = 1100 - 500 = 600, shared by R01 and R02 on their potential (100 : 200):
    s = q = 200, 400. R03 keeps 500; it has no fair share (NaN), nothing was shared to it.
    """
    plan = solve_quotas(
        reps_table([100, 200, 700], [50, 100, 350]),
        QuotaSettings(target=1100, method="potential", overrides={"R03": 500}),
        SOLVER,
    )
    assert quotas(plan) == approx({"R01": 200, "R02": 400, "R03": 500})
    r03 = plan.frame.set_index("rep_id").loc["R03"]
    assert math.isnan(r03["fair_share"]) and math.isnan(r03["deviation"])
    assert plan.summary()["overrides"] == 500.0


def test_override_is_kept_even_outside_the_growth_bounds():
    """An override is the planner's decision: R03 = 100 although its revenue is 350 and
    min_growth is 0. The others share 1000 on potential 100 : 200 = 333.33, 666.67,
    above their floors (50, 100): to the cent 333.33 and 666.67 (the larger remainder, .67,
    takes the cent 333.33 + 666.66 would miss)."""
    plan = solve_quotas(
        reps_table([100, 200, 700], [50, 100, 350]),
        QuotaSettings(target=1100, method="potential", min_growth=0.0, overrides={"R03": 100}),
        SOLVER,
    )
    assert quotas(plan) == {"R01": 333.33, "R02": 666.67, "R03": 100.0}


def test_ramping_hire_by_status():
    """P = 100, 200, 700, R02 is a new hire with ramp {new: 0.5}, T = 900, potential.

    w = 0.1, 0.5 * 0.2 = 0.1, 0.7 (sum 0.9), so s = q = 900 * w / 0.9 = 100, 100, 700.
    """
    table = reps_table([100, 200, 700], [50, 100, 350], status=["active", "new", "active"])
    plan = solve_quotas(
        table, QuotaSettings(target=900, method="potential", ramp={"new": 0.5}), SOLVER
    )
    assert quotas(plan) == approx({"R01": 100, "R02": 100, "R03": 700})
    assert plan.frame["ramp"].tolist() == [1.0, 0.5, 1.0]


def test_ramp_from_a_reps_column():
    """The same example with the multiplier in a reps column: 1, 0.5, 1 -> 100, 100, 700."""
    table = reps_table([100, 200, 700], [50, 100, 350], ramp_factor=[1.0, 0.5, 1.0])
    plan = solve_quotas(
        table, QuotaSettings(target=900, method="potential", ramp="ramp_factor"), SOLVER
    )
    assert quotas(plan) == approx({"R01": 100, "R02": 100, "R03": 700})


def test_per_region_targets_share_within_each_region():
    """Region East: R01 (P 100, R 100), R02 (P 200, R 300); West: R03 (P 700, R 300).
    targets East 600, West 1000; blend alpha 0.5; the sums run within the region.

    East: sum P = 300, sum R = 400: w01 = 0.5 * 1/3 + 0.5 * 1/4 = 7/24,
    w02 = 0.5 * 2/3 + 0.5 * 3/4 = 17/24 (sum 1): s = 600 * 7/24 = 175, 600 * 17/24 = 425.
    West: R03 alone takes 1000.
    """
    table = reps_table([100, 200, 700], [100, 300, 300], regions=["East", "East", "West"])
    plan = solve_quotas(
        table, QuotaSettings(targets={"East": 600, "West": 1000}, method="blend", alpha=0.5), SOLVER
    )
    assert quotas(plan) == approx({"R01": 175, "R02": 425, "R03": 1000})
    summary = plan.summary()
    assert summary["target"] == 1600.0
    assert summary["per_region"]["East"]["reps"] == 2
    assert summary["per_region"]["West"]["target_left"] == 1000.0


def test_one_regions_binding_bound_does_not_loosen_another_region():
    """East: R01, R02 with P 100, 300, target 400, no history: s = q = 100, 300 (z_E = 0).
    West: R03 (P 100, R 300, min_growth 0), R04 (P 100, R 0), target 400: s = 200, 200,
    R03's floor is 300, so z*_W = 0.5, q = 300, 100.

    Each region has its own z_r: East stays on its fair shares although West deviates 50%.
    """
    table = reps_table(
        [100, 300, 100, 100], [0, 0, 300, 0], regions=["East", "East", "West", "West"]
    )
    plan = solve_quotas(
        table,
        QuotaSettings(targets={"East": 400, "West": 400}, method="potential", min_growth=0.0),
        SOLVER,
    )
    assert quotas(plan) == approx({"R01": 100, "R02": 300, "R03": 300, "R04": 100})
    regions = plan.summary()["per_region"]
    assert regions["East"]["lower_bound"] == approx(0.0)
    assert regions["West"]["lower_bound"] == approx(0.5)
    assert plan.lower_bound == approx(0.5)


def test_infeasible_floors_state_the_interval_and_the_binding_reps():
    """R = 300, 500, 400 with min_growth 0 and max_growth 0.5: the quotas can add up to
    anything in [1200, 1800], not to T = 1000. The floors bind, largest first: R02 (500),
    R03 (400), R01 (300)."""
    table = reps_table([100, 200, 700], [300, 500, 400])
    with pytest.raises(
        InfeasibleError,
        match=(
            r"quotas cannot add up to the target 1,000: the growth bounds allow between "
            r"1,200 and 1,800; binding: R02 \(quota >= 500 from revenue 500 \* \(1 \+ 0\.0\)\), "
            r"R03 \(quota >= 400 .*\), R01 \(quota >= 300 .*\)"
        ),
    ) as caught:
        solve_quotas(
            table,
            QuotaSettings(target=1000, method="potential", min_growth=0.0, max_growth=0.5),
            SOLVER,
        )
    error = caught.value
    assert error.exit_code == 3
    assert [d["rep_id"] for d in error.details] == ["R02", "R03", "R01"]
    assert error.details[0]["lower"] == 1200.0 and error.details[0]["upper"] == 1800.0


def test_infeasible_caps_state_the_interval_per_region():
    """Region West: R = 100, 200, 300 with max_growth 0: the quotas can add up to at most
    600 against a target of 1000; the caps bind, largest first."""
    table = reps_table([100, 200, 700], [100, 200, 300], regions=["West"] * 3)
    with pytest.raises(
        InfeasibleError,
        match=(
            r"the target 1,000 \(region West\): the growth bounds allow between 0 and 600; "
            r"binding: R03 \(quota <= 300 from revenue 300 \* \(1 \+ 0\.0\)\), R02 .*, R01"
        ),
    ):
        solve_quotas(table, QuotaSettings(targets={"West": 1000}, max_growth=0.0), SOLVER)


def test_no_fair_share_anywhere_is_named():
    """Method potential but no rep has potential: every weight is 0, nobody can take T."""
    with pytest.raises(
        InfeasibleError,
        match=r"no rep left to share it has a fair share "
        r"\(method 'potential' weighs only potential",
    ):
        solve_quotas(
            reps_table([0, 0], [100, 50]), QuotaSettings(target=500, method="potential"), SOLVER
        )


def test_infeasible_message_lists_at_most_ten_reps():
    table = reps_table([1] * 12, [100] * 12)
    with pytest.raises(InfeasibleError, match=r"R10 .*, and 2 more") as caught:
        solve_quotas(table, QuotaSettings(target=500, min_growth=0.0), SOLVER)
    assert len(caught.value.details) == 12


def test_seasonality_splits_each_quota_into_quarters_and_months():
    """q = 110, 220, 770 as in the potential example; quarters 0.1, 0.2, 0.3, 0.4.

    Months of 1/12: 110 / 12 = 9.1666..., 11,000 cents = 12 x 916 + 8, so the first eight
    months (equal remainders, first come first) take 9.17 and the last four 9.16; 220 / 12:
    22,000 = 12 x 1,833 + 4 (m12 = 18.33); 770 / 12: 77,000 = 12 x 6,416 + 8 (m12 = 64.16).
    Every rep's months add up to its quota to the cent."""
    table = reps_table([100, 200, 700], [50, 100, 350])
    plan = solve_quotas(
        table,
        QuotaSettings(target=1100, method="potential", seasonality=[0.1, 0.2, 0.3, 0.4]),
        SOLVER,
    )
    assert list(plan.frame.columns) == QUOTA_COLUMNS + ["q1", "q2", "q3", "q4"]
    assert plan.frame.loc[0, ["q1", "q2", "q3", "q4"]].tolist() == approx([11, 22, 33, 44])
    months = solve_quotas(
        table, QuotaSettings(target=1100, method="potential", seasonality=[1 / 12] * 12), SOLVER
    )
    assert list(months.frame.columns)[-12:] == [f"m{i:02d}" for i in range(1, 13)]
    assert months.frame["m12"].tolist() == [9.16, 18.33, 64.16]
    assert months.frame.loc[0, "m01"] == 9.17
    month_columns = [f"m{i:02d}" for i in range(1, 13)]
    assert (months.frame[month_columns].sum(axis=1) * 100).round().tolist() == [
        11_000,
        22_000,
        77_000,
    ]


def test_rep_without_accounts_gets_zero_unless_overridden():
    """R04 has no accounts: P = R = 0, so w = 0 and s = 0; quota 0 (a ramp of zero weight is
    zero). The others share T = 1100 on potential: 110, 220, 770. With an override R04 = 100
    the others share 1000: 100, 200, 700."""
    table = reps_table(
        [100, 200, 700, 0], [50, 100, 350, 0], status=["active", "active", "active", "new"]
    )
    plan = solve_quotas(
        table, QuotaSettings(target=1100, method="potential", ramp={"new": 0.5}), SOLVER
    )
    assert quotas(plan) == approx({"R01": 110, "R02": 220, "R03": 770, "R04": 0})
    r04 = plan.frame.set_index("rep_id").loc["R04"]
    assert r04["fair_share"] == 0 and math.isnan(r04["deviation"])
    assert math.isnan(r04["growth"]) and math.isnan(r04["quota_to_potential"])
    fixed = solve_quotas(
        table, QuotaSettings(target=1100, method="potential", overrides={"R04": 100}), SOLVER
    )
    assert quotas(fixed) == approx({"R01": 100, "R02": 200, "R03": 700, "R04": 100})


def test_zero_share_rep_with_history_is_held_at_its_floor():
    """Method potential: R04 has revenue 50 but no potential, so s = 0; with min_growth 0.1
    it is held at its floor 55. The others share 1100 - 55 = 1045 on potential."""
    table = reps_table([100, 200, 700, 0], [0, 0, 0, 50])
    plan = solve_quotas(
        table, QuotaSettings(target=1100, method="potential", min_growth=0.1), SOLVER
    )
    assert quotas(plan) == approx({"R01": 104.5, "R02": 209, "R03": 731.5, "R04": 55})
    assert plan.binding["min_growth"] == ["R04"]


def test_leaving_reps_get_no_row():
    table = reps_table(
        [100, 200, 700, 0], [50, 100, 350, 0], status=["active", "active", "active", "leaving"]
    )
    plan = solve_quotas(table, QuotaSettings(target=1100, method="potential"), SOLVER)
    assert plan.frame["rep_id"].tolist() == ["R01", "R02", "R03"]


def test_leaving_rep_that_still_owns_accounts_is_an_input_error():
    table = reps_table([100, 200, 700], [50, 100, 350], status=["active", "leaving", "active"])
    with pytest.raises(InputError, match=r"rep R02 is leaving but still owns accounts"):
        solve_quotas(table, QuotaSettings(target=1100), SOLVER)


def test_frame_is_sorted_by_rep_and_has_the_documented_columns():
    table = reps_table([100, 200, 700], [50, 100, 350]).iloc[[2, 0, 1]]
    plan = solve_quotas(table, QuotaSettings(target=1100, method="potential"), SOLVER)
    frame = plan.to_frame()
    assert list(frame.columns) == QUOTA_COLUMNS
    assert frame["rep_id"].tolist() == ["R01", "R02", "R03"]
    frame.loc[0, "quota"] = -1.0  # a copy: the plan keeps its numbers
    assert plan.frame.loc[0, "quota"] == approx(110)


def test_summary_is_plain_json():
    table = reps_table([100, 200, 700], [100, 100, 300], regions=["E", "E", "W"])
    plan = solve_quotas(
        table,
        QuotaSettings(targets={"E": 300, "W": 700}, method="potential", min_growth=0.0),
        SOLVER,
    )
    summary = json.loads(json.dumps(plan.summary()))
    assert {
        "target",
        "method",
        "alpha",
        "max_relative_deviation",
        "sum_relative_deviation",
        "status",
        "seconds",
        "lower_bound",
        "per_region",
    } <= set(summary)
    assert summary["status"] == "optimal" and summary["method"] == "potential"


def test_same_inputs_give_the_same_numbers():
    table = reps_table([100, 200, 700, 300, 50], [200, 100, 300, 500, 0])
    quota_settings = QuotaSettings(
        target=1500, method="blend", alpha=0.7, min_growth=0.0, max_growth=0.8
    )
    first = solve_quotas(table, quota_settings, SOLVER).frame
    second = solve_quotas(table.iloc[::-1], quota_settings, SOLVER).frame
    pd.testing.assert_frame_equal(first, second)


def test_rep_ids_that_clash_in_lp_names_still_solve():
    """PuLP turns '-' into '_', so R-1 and R_1 would share a variable name."""
    table = reps_table([100, 300], [0, 0])
    table["rep_id"] = ["R-1", "R_1"]
    plan = solve_quotas(table, QuotaSettings(target=400, method="potential"), SOLVER)
    assert quotas(plan) == approx({"R-1": 100, "R_1": 300})


def test_large_region_sums_in_chunks_exactly():
    """250 reps with potential 1..250 (sum 31,375) and T = 62,750: s_j = 2 * j, q = s."""
    n = 250
    table = reps_table(list(range(1, n + 1)), [0] * n)
    plan = solve_quotas(table, QuotaSettings(target=62_750, method="potential"), SOLVER)
    assert plan.frame["quota"].sum() == approx(62_750)
    assert quotas(plan) == approx({f"R{j:02d}": 2.0 * j for j in range(1, n + 1)})
    assert plan.frame["rep_id"].tolist() == sorted(table["rep_id"])  # R100 before R11


def test_quotas_in_the_billions_reach_the_true_optimum():
    """Six reps with potential and revenue in the hundreds of millions, T = 3,975,000,000.

    Stated in currency, the LP's rows carry 1 / s_j ~ 1e-9 and HiGHS stopped at z = 1.0;
    the LP in ratios x_j = q_j / s_j reaches the minimum that bisection on z finds, 0.6789.
    """
    million = 1e6
    potential = [
        908 * million,
        631 * million,
        22 * million,
        379 * million,
        663 * million,
        165 * million,
    ]
    revenue = [
        326 * million,
        862 * million,
        135 * million,
        941 * million,
        139 * million,
        430 * million,
    ]
    quota_settings = QuotaSettings(
        target=3975 * million, method="blend", alpha=0.6, min_growth=0.0, max_growth=0.5
    )
    plan = solve_quotas(reps_table(potential, revenue), quota_settings, SOLVER)
    _, share = fair_shares(
        np.array(potential),
        np.array(revenue),
        np.ones(6),
        np.zeros(6, dtype=int),
        np.array([3975 * million]),
        0.6,
    )
    lower, upper = growth_bounds(np.array(revenue), 0.0, 0.5)
    expected = smallest_max_deviation(share, lower, upper, 3975 * million)
    assert expected == approx(0.6789, abs=1e-4)
    assert plan.lower_bound == approx(expected, rel=1e-7)
    assert plan.max_relative_deviation == approx(expected, rel=1e-7)
    assert plan.frame["quota"].sum() == approx(3975 * million, rel=1e-12)


def test_lp_is_named_by_rep_and_region():
    model = build_max_deviation_lp(
        ["R07", "R08"],
        np.array([100.0, 200.0]),
        np.zeros(2),
        np.full(2, np.inf),
        np.array([0, 0]),
        [300.0],
        ["Pacific"],
    )
    variables = [v.name for v in model.problem.variables()]
    assert any("quota" in name and "R07" in name for name in variables)
    assert any("max_deviation" in name and "Pacific" in name for name in variables)
    assert any("target_sum" in c.name and "Pacific" in c.name for c in model.problem.constraints())


def test_a_solver_that_stops_without_a_plan_is_a_solver_error():
    class GivesUp(pulp.LpSolver):
        def actualSolve(self, lp, **kwargs):  # noqa: N802 - PuLP's name
            lp.assignStatus(pulp.LpStatusNotSolved)
            return lp.status

    with pytest.raises(SolverError, match=r"LP 1.*ended 'no_solution'"):
        solve_quotas(reps_table([100, 200], [0, 0]), QuotaSettings(target=10), GivesUp())


# --------------------------------------------------------------------------------------------
# input errors: every problem at once, naming the scenario key
# --------------------------------------------------------------------------------------------


def test_unknown_override_rep():
    with pytest.raises(
        InputError,
        match=r"override for rep 'R09', which is not in the reps "
        r"\(fix: did you mean",
    ) as caught:
        solve_quotas(
            reps_table([100, 200], [0, 0]), QuotaSettings(target=10, overrides={"R09": 5}), SOLVER
        )
    assert caught.value.problems[0].column == "quota.overrides"


def test_targets_key_that_is_no_rep_region():
    with pytest.raises(
        InputError,
        match=r"targets has region 'Pacfic', but no .*rep has that "
        r"region_id \(fix: did you mean 'Pacific'\?\)",
    ):
        solve_quotas(
            reps_table([100, 200], [0, 0], regions=["Pacific", "Pacific"]),
            QuotaSettings(targets={"Pacific": 10, "Pacfic": 5}),
            SOLVER,
        )


def test_reps_without_region_when_targets_are_per_region():
    with pytest.raises(
        InputError,
        match=r"rep R02 has no region_id, but targets are per "
        r"region",
    ) as caught:
        solve_quotas(
            reps_table([100, 200], [0, 0], regions=["Pacific", None]),
            QuotaSettings(targets={"Pacific": 10}),
            SOLVER,
        )
    assert caught.value.problems[0].column == "quota.targets"


def test_ramp_column_missing_or_not_positive():
    with pytest.raises(
        InputError,
        match=r"ramp names the reps column 'ramp_factr', which does "
        r"not exist \(fix: did you mean 'ramp_factor'\?\)",
    ):
        solve_quotas(
            reps_table([100, 200], [0, 0], ramp_factor=[1.0, 0.5]),
            QuotaSettings(target=10, ramp="ramp_factr"),
            SOLVER,
        )
    with pytest.raises(
        InputError,
        match=r"ramp column 'ramp_factor' must be a positive number "
        r"for every rep; rep R02 has 0\.0",
    ):
        solve_quotas(
            reps_table([100, 200], [0, 0], ramp_factor=[1.0, 0.0]),
            QuotaSettings(target=10, ramp="ramp_factor"),
            SOLVER,
        )


def test_ramp_status_typo():
    with pytest.raises(
        InputError,
        match=r"ramp names the status 'nwe', which no rep has "
        r"\(fix: did you mean 'new'\?\)",
    ):
        solve_quotas(
            reps_table([100, 200], [0, 0]), QuotaSettings(target=10, ramp={"nwe": 0.5}), SOLVER
        )


def test_overrides_above_their_region_target():
    with pytest.raises(
        InputError,
        match=r"overrides add up to 700, above the target 600 "
        r"\(region East\)",
    ):
        solve_quotas(
            reps_table([100, 200], [0, 0], regions=["East", "East"]),
            QuotaSettings(targets={"East": 600}, overrides={"R01": 700}),
            SOLVER,
        )


def test_every_input_problem_is_reported_at_once():
    table = reps_table([100, 200], [0, 0], regions=["East", None])
    with pytest.raises(InputError) as caught:
        solve_quotas(
            table,
            QuotaSettings(targets={"East": 10, "West": 5}, overrides={"R09": 1}, ramp="missing"),
            SOLVER,
        )
    columns = sorted(p.column for p in caught.value.problems)
    assert columns == ["quota.overrides", "quota.ramp", "quota.targets", "quota.targets"]
    assert caught.value.exit_code == 2


def test_yaml_integer_ids_are_read_as_text():
    """YAML reads `overrides: {101: 5}` with an int key; rep IDs are text."""
    quota_settings = QuotaSettings(targets={7: 10.0}, overrides={101: 5.0})
    assert quota_settings.targets == {"7": 10.0} and quota_settings.overrides == {"101": 5.0}


# --------------------------------------------------------------------------------------------
# allocate_quotas: from a plan (history follows the accounts)
# --------------------------------------------------------------------------------------------


def make_plan(quota: dict | None):
    accounts = pd.DataFrame(
        {
            "account_id": ["A1", "A2", "A3", "A4"],
            "potential": [100.0, 50.0, 150.0, 700.0],
            "revenue": [40.0, 10.0, 50.0, 300.0],
        }
    )
    reps = pd.DataFrame(
        {
            "rep_id": ["R03", "R01", "R02", "R04"],
            "name": ["Cy", "Al", "Bo", "Di"],
            "region_id": ["S", "S", "S", "S"],
            "status": ["active", "active", "new", "leaving"],
            "capacity": [1.0, 1.0, 0.5, 1.0],
        }
    )
    # A2 used to be R04's (leaving): its history now counts for R02, who owns it.
    assignments = pd.DataFrame(
        {"account_id": ["A1", "A2", "A3", "A4"], "rep_id": ["R01", "R02", "R02", "R03"]}
    )
    scenario = Scenario(accounts="accounts.csv", reps="reps.csv", quota=quota)
    return SimpleNamespace(assignments=assignments, accounts=accounts, reps=reps, scenario=scenario)


def test_allocate_quotas_sums_each_territory_and_uses_the_scenario():
    """Territories: R01 = A1 (P 100), R02 = A2 + A3 (P 200), R03 = A4 (P 700); R04 leaves.
    Target 1100 on potential: q = 110, 220, 770; R02 carries revenue 10 + 50 = 60."""
    plan = allocate_quotas(make_plan({"target": 1100, "method": "potential"}))
    assert quotas(plan) == approx({"R01": 110, "R02": 220, "R03": 770})
    assert plan.frame["revenue_last_year"].tolist() == [40.0, 60.0, 300.0]
    assert plan.frame["name"].tolist() == ["Al", "Bo", "Cy"]


def test_allocate_quotas_ramp_column_from_the_reps():
    """ramp: capacity halves R02's weight: w = 0.1, 0.1, 0.7; T = 900 -> 100, 100, 700."""
    plan = allocate_quotas(
        make_plan({"target": 900, "method": "potential", "ramp": "capacity"}), solver=SOLVER
    )
    assert quotas(plan) == approx({"R01": 100, "R02": 100, "R03": 700})


def test_a_new_hire_is_held_at_its_accounts_revenue_last_year():
    """The demo's R25: a new hire owned nothing last year, yet min_growth holds its quota at
    last year's revenue, since history follows the accounts (docs/design.md "Quotas": R_j
    is its territory's). Here R02 (new, ramp 0.5) owns A2 (R04's, leaving) and A3.
    Potential 100, 200, 700 -> w = 0.1, 0.5 x 0.2 = 0.1, 0.7 (sum 0.9); T = 450 gives fair
    shares 50, 50, 350. Floors (min_growth 0) are the territories' revenue 40, 60, 300:
    R02's 60 is above its share, so R02 is held at 60 (+20%) and R01 and R03 share the 10
    it takes evenly, 390 = 400 x (1 - 2.5%): 48.75 and 341.25, above their floors."""
    plan = allocate_quotas(
        make_plan({"target": 450, "method": "potential", "min_growth": 0.0, "ramp": {"new": 0.5}}),
        solver=SOLVER,
    )
    assert quotas(plan) == approx({"R01": 48.75, "R02": 60, "R03": 341.25})
    assert plan.frame["binding"].tolist() == ["", "min_growth", ""]
    assert plan.summary()["largest_deviations"][0]["explanation"] == (
        "R02 (+20.00%): quota held at its accounts' revenue last year 60 by min_growth 0; "
        "fair share 50"
    )


def test_allocate_quotas_needs_a_quota_section():
    with pytest.raises(InputError, match=r"the scenario has no 'quota:' section"):
        allocate_quotas(make_plan(None))


# --------------------------------------------------------------------------------------------
# properties
# --------------------------------------------------------------------------------------------


def smallest_max_deviation(share, lower, upper, target) -> float:
    """Bisection on z, independent of the LP: z is reachable when every interval
    [max(L, s(1-z)), min(U, s(1+z))] is non-empty and their sums straddle the target."""

    def reachable(z):
        lo = np.maximum(lower, share * (1 - z))
        hi = np.minimum(upper, share * (1 + z))
        return bool(
            np.all(lo <= hi + 1e-12)
            and lo.sum() <= target * (1 + 1e-12)
            and hi.sum() >= target * (1 - 1e-12)
        )

    low, high = 0.0, 1.0
    while not reachable(high):
        high *= 2
    if reachable(0.0):
        return 0.0
    for _ in range(100):
        middle = (low + high) / 2
        low, high = (low, middle) if reachable(middle) else (middle, high)
    return high


def water_filling(share, lower, upper, target) -> np.ndarray:
    """The lexicographic min-max quotas, independent of the LPs: with one sum and boxes,
    every quota is median(L_j, s_j (1 + lambda), U_j) for the one lambda that makes them add
    up to the target (bisection on lambda; the sum is monotone in it)."""

    def at(lam):
        return np.minimum(np.maximum(lower, share * (1 + lam)), upper)

    low, high = -2.0, 1.0
    while at(high).sum() < target:
        high *= 2
    for _ in range(200):
        middle = (low + high) / 2
        low, high = (middle, high) if at(middle).sum() < target else (low, middle)
    return at(high)


@st.composite
def quota_cases(draw):
    n = draw(st.integers(1, 7))
    potential = draw(st.lists(st.integers(0, 1000), min_size=n, max_size=n))
    revenue = draw(st.lists(st.integers(0, 1000), min_size=n, max_size=n))
    status = draw(st.lists(st.sampled_from(["active", "new"]), min_size=n, max_size=n))
    method = draw(st.sampled_from(["potential", "history", "blend"]))
    alpha = draw(st.sampled_from([0.0, 0.3, 0.6, 1.0]))
    target = draw(st.integers(1, 5000))
    scale = draw(st.sampled_from([1.0, 1e3, 1e6, 1e9]))  # units to billions
    potential = [p * scale for p in potential]
    revenue = [r * scale for r in revenue]
    target = target * scale
    min_growth = draw(st.none() | st.sampled_from([-0.5, -0.1, 0.0, 0.1, 0.3]))
    spread = draw(st.none() | st.sampled_from([0.0, 0.2, 0.5, 1.0, 3.0]))
    max_growth = None if spread is None else (min_growth or 0.0) + spread
    settings_ = QuotaSettings(
        target=target,
        method=method,
        alpha=alpha,
        min_growth=min_growth,
        max_growth=max_growth,
        ramp={"new": 0.5},
    )
    return reps_table(potential, revenue, status=status), settings_


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(quota_cases())
def test_quotas_add_up_respect_bounds_and_match_shares_when_free(case):
    table, quota_settings = case
    potential = table["potential"].to_numpy()
    revenue = table["revenue"].to_numpy()
    ramp = np.where(table["status"] == "new", 0.5, 1.0)
    alpha = {"potential": 1.0, "history": 0.0}.get(quota_settings.method, quota_settings.alpha)
    _, share = fair_shares(
        potential,
        revenue,
        ramp,
        np.zeros(len(table), dtype=int),
        np.array([quota_settings.target]),
        alpha,
    )
    lower, upper = growth_bounds(revenue, quota_settings.min_growth, quota_settings.max_growth)
    zero = share == 0
    target = float(quota_settings.target)
    reachable_low = lower.sum()
    reachable_high = np.where(zero, lower, upper).sum()
    try:
        plan = solve_quotas(table, quota_settings, SOLVER)
    except InfeasibleError:
        assert reachable_low > target or reachable_high < target
        return
    assert reachable_low <= target * (1 + 1e-9) and reachable_high >= target * (1 - 1e-9)
    q = plan.frame["quota"].to_numpy()
    cents = np.round(q * 100).astype(np.int64)
    assert np.all(np.abs(q * 100 - cents) <= 1e-9 * np.maximum(np.abs(cents), 1))  # to the cent
    assert int(cents.sum()) == round(target * 100)  # and adding up to the target exactly
    # rounding to the cent never breaks a floor or a cap, however close the LP put it
    assert np.all(q >= lower - 1e-9 * np.maximum(lower, 1)) and np.all(q <= upper * (1 + 1e-9))
    assert np.all(q[zero] == np.ceil(lower[zero] * 100 - 1e-6) / 100)
    cent = np.where(share > 0, 0.01 / np.where(share > 0, share, 1), 0.0)
    free = (lower[~zero] <= share[~zero]) & (share[~zero] <= upper[~zero])
    if (~zero).any() and np.all(free) and np.all(lower[zero] == 0):  # no bound binds
        assert q == approx(share, rel=1e-6, abs=0.01 + 1e-6 * target)
        assert plan.max_relative_deviation <= cent.max() + 1e-6
    # the certificate: LP 1's bound is the true minimum, and the plan reaches it (within the
    # cent of rounding), and every quota is where the lexicographic min-max puts it
    if (~zero).any():
        rest = target - lower[zero].sum()
        expected = smallest_max_deviation(share[~zero], lower[~zero], upper[~zero], rest)
        assert plan.lower_bound == approx(expected, rel=1e-6, abs=1e-6)
        reached = plan.max_relative_deviation
        assert reached <= plan.lower_bound * (1 + 1e-6) + 1e-6 + cent.max()
        spread = water_filling(share[~zero], lower[~zero], upper[~zero], rest)
        assert q[~zero] == approx(spread, rel=1e-6, abs=0.01 + 1e-7 * target)


@st.composite
def regional_cases(draw):
    n = draw(st.integers(2, 8))
    potential = draw(st.lists(st.integers(1, 1000), min_size=n, max_size=n))
    revenue = draw(st.lists(st.integers(0, 1000), min_size=n, max_size=n))
    regions = draw(st.lists(st.sampled_from(["East", "West"]), min_size=n, max_size=n))
    targets = {r: float(draw(st.integers(1, 5000))) for r in sorted(set(regions))}
    overridden = draw(st.none() | st.integers(0, n - 1))
    overrides = None
    if overridden is not None:
        overrides = {f"R{overridden + 1:02d}": targets[regions[overridden]] / 4}
    max_growth = draw(st.none() | st.sampled_from([0.5, 2.0]))
    settings_ = QuotaSettings(
        targets=targets, method="blend", alpha=0.5, max_growth=max_growth, overrides=overrides
    )
    return reps_table(potential, revenue, regions=regions), settings_


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(regional_cases())
def test_regional_quotas_add_up_per_region_and_keep_overrides(case):
    table, quota_settings = case
    try:
        plan = solve_quotas(table, quota_settings, SOLVER)
    except InfeasibleError as error:
        assert all(d["upper"] is not None and d["upper"] < d["target"] for d in error.details)
        return
    frame = plan.frame
    for region, target in quota_settings.targets.items():
        total = frame.loc[frame["region_id"] == region, "quota"].sum()
        assert total == approx(target, rel=1e-6, abs=1e-6 * target)
    for rep, value in (quota_settings.overrides or {}).items():
        assert frame.set_index("rep_id").loc[rep, "quota"] == value
    if quota_settings.max_growth is not None:
        capped = frame["revenue_last_year"] > 0
        limit = frame["revenue_last_year"] * (1 + quota_settings.max_growth)
        free = ~frame["rep_id"].isin(list(quota_settings.overrides or {}))
        assert (frame.loc[capped & free, "quota"] <= limit[capped & free] * (1 + 1e-6)).all()


# --------------------------------------------------------------------------------------------
# input checks shared with the reps file
# --------------------------------------------------------------------------------------------


def test_quota_table_ids_and_numbers_meet_the_reps_files_checks():
    """Row 3 repeats R01, row 4 has a blank rep_id, row 5 a negative potential (header =
    row 1): the same wording and row numbers as a reps or accounts file, all at once."""
    table = reps_table([100, 200, 700, -5], [50, 100, 350, 0])
    table.loc[1, "rep_id"] = "R01"
    table.loc[2, "rep_id"] = "  "
    with pytest.raises(InputError) as caught:
        solve_quotas(table, QuotaSettings(target=1000), SOLVER)
    found = {(p.file, p.row, p.column, p.message) for p in caught.value.problems}
    assert found == {
        ("quota table", 3, "rep_id", "duplicate rep_id 'R01' (first seen on row 2)"),
        ("quota table", 4, "rep_id", "rep_id is blank"),
        ("quota table", 5, "potential", "must be at least 0 (got '-5.0')"),
    }


# --------------------------------------------------------------------------------------------
# which rule binds, and why a quota is far from its fair share
# --------------------------------------------------------------------------------------------


def test_min_growth_binding_rep_is_named_with_its_rule():
    """P = 100, 300, 600, T = 1000, method potential: s = 100, 300, 600.
    R = 150, 200, 400 with min_growth 0.2: floors L = 180, 240, 480.

    R01's floor 150 x (1 + 0.2) = 180 is 80% above its share, so LP 1 proves z* = 0.8 and
    R01 = 180. R02 + R03 = 820 against shares 900: 80 must come off, shared evenly:
    900 (1 + lambda) = 820, lambda = -8/90 = -8.89%: q = 180, 273.33, 546.67 (above the floors
    240, 480). Only R01 sits on a bound, so only its binding is min_growth; R02 and R03 are
    8.89% below their shares with no bound of their own (R02 a hair more after the cents:
    273.33 / 300 - 1 = -8.890% against 546.67 / 600 - 1 = -8.888%).
    """
    plan = solve_quotas(
        reps_table([100, 300, 600], [150, 200, 400]),
        QuotaSettings(target=1000, method="potential", min_growth=0.2),
        SOLVER,
    )
    assert quotas(plan) == {"R01": 180.0, "R02": 273.33, "R03": 546.67}
    assert plan.frame["binding"].tolist() == ["min_growth", "", ""]
    largest = plan.summary()["largest_deviations"]
    assert [r["rep_id"] for r in largest] == ["R01", "R02", "R03"]
    first = largest[0]
    assert first["binding"] == "min_growth" and first["setting"] == 0.2
    assert first["limit"] == approx(180) and first["quota"] == approx(180)
    assert first["fair_share"] == approx(100) and first["deviation"] == approx(0.8)
    assert first["revenue_last_year"] == 150
    assert first["explanation"] == (
        "R01 (+80.00%): quota held at its accounts' revenue last year 150 x (1 + 0.2) = 180 by "
        "min_growth 0.2; fair share 100"
    )
    assert largest[1]["binding"] == "" and largest[1]["limit"] is None
    assert largest[1]["deviation"] == approx(273.33 / 300 - 1)
    assert largest[1]["explanation"] == (
        "R02 (-8.89%): no bound of its own binds; 273 is below its fair share 300 so that "
        "the quotas add up to the target"
    )


def test_max_growth_and_override_bindings_are_named():
    """The max_growth example above (q = 110, 230, 660; R01 and R03 on their caps
    110 = 100 x 1.1 and 660 = 600 x 1.1), plus R04 overridden at 50 on top of the target."""
    plan = solve_quotas(
        reps_table([100, 200, 700, 10], [100, 250, 600, 10]),
        QuotaSettings(target=1050, method="potential", max_growth=0.1, overrides={"R04": 50}),
        SOLVER,
    )
    assert quotas(plan) == approx({"R01": 110, "R02": 230, "R03": 660, "R04": 50})
    assert plan.frame["binding"].tolist() == ["max_growth", "", "max_growth", "override"]
    largest = {r["rep_id"]: r for r in plan.summary()["largest_deviations"]}
    assert list(largest) == ["R02", "R01", "R03"]  # |0.15| > |0.1| > |-40/700|
    assert largest["R03"]["explanation"] == (
        "R03 (-5.71%): quota capped at its accounts' revenue last year 600 x (1 + 0.1) = 660 by "
        "max_growth 0.1; fair share 700"
    )
    assert "above its fair share 200" in largest["R02"]["explanation"]


def test_regional_deviation_names_the_regions_target():
    """East (R01, R02) shares 400 on potential 100, 300: s = 100, 300; West (R03) gets its
    600. min_growth 0 holds R01 at last year's revenue 150 (+50%), so R02 takes 400 - 150
    = 250 (-16.67%), above its own floor 200: R02 is off its share for East's target."""
    plan = solve_quotas(
        reps_table([100, 300, 600], [150, 200, 0], regions=["East", "East", "West"]),
        QuotaSettings(targets={"East": 400, "West": 600}, method="potential", min_growth=0.0),
        SOLVER,
    )
    assert quotas(plan) == approx({"R01": 150, "R02": 250, "R03": 600})
    assert [r["explanation"] for r in plan.summary()["largest_deviations"]] == [
        "R01 (+50.00%): quota held at its accounts' revenue last year 150 by min_growth 0; "
        "fair share 100",
        "R02 (-16.67%): no bound of its own binds; 250 is below its fair share 300 so that "
        "the quotas add up to region East's target",
    ]


def test_capacity_and_ramp_multiply_and_the_note_says_so():
    """R02 and R03 are new hires at capacity 0.5 with ramp {new: 0.5}: capacity halves the
    territory, ramp halves the quota on it, 0.5 x 0.5 = 0.25 of a full rep's share. R04 is
    new at capacity 1: 1 x 0.5 = 0.5. R01 (active, capacity 1) gets no note."""
    reps = pd.DataFrame(
        {
            "rep_id": ["R01", "R02", "R03", "R04"],
            "status": ["active", "new", "new", "new"],
            "capacity": [1.0, 0.5, 0.5, 1.0],
        }
    )
    notes = ramp_notes(reps, QuotaSettings(target=1000, ramp={"new": 0.5}))
    assert notes == [
        "R02, R03: capacity 0.5 x ramp 0.5 = 0.25 (a quarter) of a full rep's fair share: "
        "capacity sizes the territory (balance targets follow capacity) and ramp then scales "
        "the quota's share of it",
        "R04: capacity 1 x ramp 0.5 = 0.5 (half) of a full rep's fair share: capacity sizes "
        "the territory (balance targets follow capacity) and ramp then scales the quota's "
        "share of it",
    ]
    assert ramp_notes(reps, QuotaSettings(target=1000)) == []
    assert ramp_notes(reps, None) == []


# --------------------------------------------------------------------------------------------
# quotas to the cent, and a shortfall spread evenly
# --------------------------------------------------------------------------------------------


def written_quotas(plan, tmp_path) -> list[str]:
    """quotas.csv's quota cells as the CSV writer writes them."""
    from territory_planner.outputs import write_csv

    path = tmp_path / "quotas.csv"
    write_csv(plan.to_frame(), path)
    return pd.read_csv(path, dtype=str)["quota"].tolist()


def test_quotas_written_to_the_cent_add_up_to_the_target(tmp_path):
    """Three equal reps, T = 10,000,000.00: each share is 3,333,333.333...

    Each rounded on its own is 3,333,333.33, 9,999,999.99 in all: a cent short. Largest
    remainder in cents: 333,333,333 each (999,999,999), one cent missing, the remainders are
    equal (.333), so the first rep takes it: 3,333,333.34, 3,333,333.33, 3,333,333.33.
    """
    from decimal import Decimal

    plan = solve_quotas(
        reps_table([1, 1, 1], [0, 0, 0]),
        QuotaSettings(target=10_000_000, method="potential"),
        SOLVER,
    )
    cells = written_quotas(plan, tmp_path)
    assert cells == ["3333333.34", "3333333.33", "3333333.33"]
    assert sum(Decimal(c) for c in cells) == Decimal("10000000.00")


def test_rounding_to_the_cent_keeps_every_floor_and_cap(tmp_path):
    """P = 1, 5 (potential), T = 3,000; R01's revenue 1,000.004 with min_growth 0 floors it
    at 1,000.004, double its share 500; R02's revenue 1,000 with max_growth 0.999996 caps it
    at 1,999.996.

    The LP gives 1,000.004 and 1,999.996. Each to the nearest cent: 1,000.00 (below R01's
    floor) and 2,000.00 (above R02's cap). In cents the floor is ceil(100,000.4) = 100,001
    and the cap floor(199,999.6) = 199,999, and the largest remainder keeps both: 1,000.01 +
    1,999.99 = 3,000.00.
    """
    plan = solve_quotas(
        reps_table([1, 5], [1000.004, 1000]),
        QuotaSettings(target=3000, method="potential", min_growth=0.0, max_growth=0.999996),
        SOLVER,
    )
    assert written_quotas(plan, tmp_path) == ["1000.01", "1999.99"]
    assert plan.frame["binding"].tolist() == ["min_growth", "max_growth"]


def test_a_shortfall_left_by_a_floor_is_spread_evenly_over_the_other_reps():
    """P = 3, 4, 2 (potential), T = 9,000,000: shares 3M, 4M, 2M. R01's revenue 3.6M with
    min_growth 0 holds it at 3.6M, +20%: LP 1 proves z* = 0.2.

    R02 and R03 must share 5.4M against shares of 6M: 600,000 short. Minimising the sum of
    relative deviations alone takes it all from R02 (a unit there costs 1/4M against R03's
    1/2M): 3.4M (-15%) and 2M (0%). Spread evenly (the lexicographic min-max): 6M (1 + l)
    = 5.4M, l = -10%: R02 = 3.6M, R03 = 1.8M. The summary says so in words.
    """
    plan = solve_quotas(
        reps_table([3, 4, 2], [3_600_000, 0, 0]),
        QuotaSettings(target=9_000_000, method="potential", min_growth=0.0),
        SOLVER,
    )
    assert quotas(plan) == {"R01": 3_600_000.0, "R02": 3_600_000.0, "R03": 1_800_000.0}
    assert plan.frame["deviation"].tolist() == approx([0.2, -0.1, -0.1])
    assert plan.lower_bound == approx(0.2)
    [note] = plan.summary()["spread"]
    assert note["held"] == ["R01"] and note["spread_over"] == ["R02", "R03"]
    assert note["level"] == approx(-0.1) and note["amount"] == approx(-600_000)
    assert note["explanation"] == (
        "growth bounds hold 1 rep off its fair share (R01 +20.00%); so that the quotas add up "
        "to the target, the other 2 reps share the 600,000 this leaves short evenly: each "
        "-10.00% from its fair share (R02, R03)"
    )


def test_spread_stops_at_each_reps_own_bound_and_goes_on_in_each_region():
    """Two regions with targets, potential method.

    East: P = 1, 1, 1, 1, T = 400: shares 100 each; min_growth 0. R01's revenue 160 floors
    it at 160 (+60%): z* = 0.6. R02's revenue 95 floors it at 95, below its share: it could
    sit on its share, but every unit it takes above 95 is one more the others lose, so it
    stays on its floor (median(l_j, 1 + l, u_j) = l_j, -5%, nearer its share than the level).
    R03 + R04 = 400 - 160 - 95 = 145 against 200: 200 (1 + l) = 145, l = -27.5%: 72.5 each.

    West: P = 1, 3, T = 400: shares 100, 300, no bound: on their shares.
    """
    table = reps_table(
        [1, 1, 1, 1, 1, 3],
        [160, 95, 0, 0, 0, 0],
        regions=["East"] * 4 + ["West"] * 2,
    )
    plan = solve_quotas(
        table,
        QuotaSettings(targets={"East": 400, "West": 400}, method="potential", min_growth=0.0),
        SOLVER,
    )
    assert quotas(plan) == {
        "R01": 160.0,
        "R02": 95.0,
        "R03": 72.5,
        "R04": 72.5,
        "R05": 100.0,
        "R06": 300.0,
    }
    [note] = plan.summary()["spread"]
    assert note["region"] == "East" and note["spread_over"] == ["R03", "R04"]
    assert note["held"] == ["R01", "R02"] and note["level"] == approx(-0.275)
    assert note["amount"] == approx(-55)
    assert "region East's target" in note["explanation"]
