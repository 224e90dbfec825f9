"""How a solve's time limit is shared among its phases (strategy.py): the named fractions
of the time left that each phase may spend, and the seconds a phase needs to be worth
starting."""

from __future__ import annotations

from .settings import Clock


class TimeBudget:
    """How the time limit is shared among the phases: the named fractions of the time left
    that each phase may spend, and the seconds a phase needs to be worth starting."""

    FLOW = 0.1  # the aggregate flow LP over cells
    PRICES = 0.15  # the bands' prices before the first LP
    PARTIAL_ROUND = 0.33  # a partial finish round: the all-units round always has the most
    ALL_UNITS_ROUND = 0.9  # the all-units finish round
    WINDOWS_WITHOUT_PLAN = 0.7  # windows before a whole plan exists; the rest: the rounds
    ROUND_SECONDS = 0.5  # a finish round needs more than this
    WINDOW_SECONDS = 1.0  # windows (and the polish) need more than this
    POLISH_SECONDS_PER_PAIR = 2e-5  # the polish's hand-over to the solver
    OBSERVED_PAIRS = 10000  # a model this large tells the build rate

    def __init__(self, clock: Clock):
        self.clock = clock
        # seconds per pair that building and handing over a model took last time: on a
        # loaded machine several times the nominal rate, and a round that starts without
        # time for its own build overruns the limit by it
        self.build_rate = self.POLISH_SECONDS_PER_PAIR

    def observe_build(self, seconds: float, pairs: int) -> None:
        """Learn the build rate from a model large enough for its fixed costs not to count."""
        if pairs >= self.OBSERVED_PAIRS:
            self.build_rate = max(self.POLISH_SECONDS_PER_PAIR, seconds / pairs)

    def flow(self) -> float:
        return self.FLOW * self.clock.remaining

    def finish_round(self, all_units: bool) -> float:
        return self.clock.remaining * (self.ALL_UNITS_ROUND if all_units else self.PARTIAL_ROUND)

    def windows(self, have_plan: bool) -> Clock:
        """The windows' clock: all the time left once a whole plan exists, else a share of
        it, so the boundary rounds, which may mend what windows could not, get the rest."""
        return self.clock if have_plan else self.clock.share(self.WINDOWS_WITHOUT_PLAN)

    def round_worth_it(self, pairs: int = 0) -> bool:
        """A round over ``pairs`` pairs needs its build time and ROUND_SECONDS more."""
        return self.clock.remaining > self.ROUND_SECONDS + self.build_rate * pairs

    def windows_worth_it(self) -> bool:
        return self.clock.remaining > self.WINDOW_SECONDS

    def polish_worth_it(self, pairs: int) -> bool:
        return self.clock.remaining > self.WINDOW_SECONDS + self.POLISH_SECONDS_PER_PAIR * pairs
