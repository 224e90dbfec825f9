"""territory-planner: sales territory and quota planning as linear programs.

The Python API and the CLI are two doors to the same functions::

    from territory_planner import load_scenario, plan, Plan
    scenario = load_scenario("scenarios/demo/scenario.yaml")
    p = plan(scenario)
    p.write("out/demo")
    again = Plan.read("out/demo")
"""

__version__ = "0.1.0"

from .standard_streams import open_standard_streams  # noqa: E402

# first, before any library import can take a descriptor the launcher closed
open_standard_streams()

from .compare import Comparison, compare  # noqa: E402
from .data import ScenarioData, load_data, load_scenario  # noqa: E402
from .errors import (  # noqa: E402
    InfeasibleError,
    InputError,
    Problem,
    SolverError,
    TerritoryPlannerError,
)
from .headcount import Headcount, headcount, locate  # noqa: E402
from .optimize.locate import solve_locate  # noqa: E402
from .plan import Plan, apply_quotas, plan, requota  # noqa: E402
from .problem import PlanningProblem, assignment_problem, build_problem  # noqa: E402
from .quota import QuotaPlan, allocate_quotas  # noqa: E402
from .rebalance import rebalance  # noqa: E402
from .scenario import Scenario  # noqa: E402
from .scoring import evaluate  # noqa: E402
from .sweep import Sweep, sweep  # noqa: E402

__all__ = [
    "__version__",
    "load_scenario",
    "load_data",
    "plan",
    "evaluate",
    "Plan",
    "apply_quotas",
    "requota",
    "allocate_quotas",
    "QuotaPlan",
    "rebalance",
    "compare",
    "Comparison",
    "Scenario",
    "sweep",
    "Sweep",
    "ScenarioData",
    "PlanningProblem",
    "build_problem",
    "assignment_problem",
    "locate",
    "headcount",
    "Headcount",
    "solve_locate",
    "TerritoryPlannerError",
    "InputError",
    "InfeasibleError",
    "SolverError",
    "Problem",
]
