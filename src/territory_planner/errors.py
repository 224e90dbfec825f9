"""One exception tree for the whole engine.

Everything the engine raises on purpose derives from :class:`TerritoryPlannerError`, so the
CLI (and any script) can map it to an exit code with one ``except`` clause:

* :class:`InputError` (exit 2): the inputs are wrong. It carries *every* problem found, each
  naming the file, the row and the column, so a planner fixes them all in one pass.
* :class:`InfeasibleError` (exit 3): the inputs are valid but the rules cannot all hold.
  It names the reason with the numbers.
* :class:`SolverError` (exit 4): the solver stopped without any feasible plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class TerritoryPlannerError(Exception):
    """Base of every error the engine raises on purpose."""

    exit_code = 1


@dataclass(frozen=True)
class Problem:
    """One defect in the inputs.

    ``row`` is the 1-based line number as a spreadsheet shows it (the header is row 1, the
    first data row is row 2); ``None`` when the defect concerns a whole file or column.
    """

    file: str
    message: str
    row: int | None = None
    column: str | None = None
    fix: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column is not None:
            where += f", column '{self.column}'"
        text = f"{where}: {self.message}"
        if self.fix:
            text += f" (fix: {self.fix})"
        return text


class InputError(TerritoryPlannerError):
    """The inputs are wrong; ``problems`` lists every defect found, all at once."""

    exit_code = 2

    def __init__(self, problems: list[Problem] | Problem | str):
        if isinstance(problems, str):
            problems = [Problem(file="input", message=problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in the inputs"
        super().__init__(head + ":\n" + "\n".join(f"  - {p}" for p in self.problems))


@dataclass
class ProblemList:
    """Collects problems while a reader goes on, then raises them all at once."""

    problems: list[Problem] = field(default_factory=list)

    def add(
        self,
        file: str,
        message: str,
        row: int | None = None,
        column: str | None = None,
        fix: str | None = None,
    ) -> None:
        self.problems.append(Problem(file=file, message=message, row=row, column=column, fix=fix))

    def extend(self, other: ProblemList | list[Problem]) -> None:
        self.problems.extend(other.problems if isinstance(other, ProblemList) else other)

    def __bool__(self) -> bool:
        return bool(self.problems)

    def raise_if_any(self) -> None:
        if self.problems:
            raise InputError(self.problems)


class InfeasibleError(TerritoryPlannerError):
    """The rules cannot all hold; ``reasons`` states why, with the numbers."""

    exit_code = 3

    def __init__(self, reasons: list[str] | str, details: list[dict] | None = None):
        if isinstance(reasons, str):
            reasons = [reasons]
        self.reasons = list(reasons)
        self.details = list(details or [])
        lines = "\n".join(f"  - {r}" for r in self.reasons)
        super().__init__("the scenario is infeasible:\n" + lines)


class SolverError(TerritoryPlannerError):
    """The solver stopped without any feasible plan (time limit, crash, missing solver)."""

    exit_code = 4
