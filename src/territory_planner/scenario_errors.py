"""Pydantic's validation errors of a scenario, in words: where (the ``second balance
rule``), what was wrong, what was given, and the nearest known key for a typo."""

from __future__ import annotations

import difflib
import reprlib
from typing import Any

from pydantic import BaseModel, ValidationError

from .errors import ProblemList
from .scenario_models import (
    BalanceRule,
    Constraints,
    LocateSettings,
    ObjectiveWeights,
    QuotaSettings,
    Scenario,
    SolverSettings,
)


def _known_keys(model: type[BaseModel]) -> list[str]:
    return list(model.model_fields)


def _locate_model(loc: tuple) -> type[BaseModel]:
    """The settings model a pydantic error location points into (for typo suggestions)."""
    model: type[BaseModel] = Scenario
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            break
        annotation = field.annotation
        for candidate in (
            BalanceRule,
            ObjectiveWeights,
            Constraints,
            SolverSettings,
            QuotaSettings,
            LocateSettings,
        ):
            if candidate is annotation or candidate.__name__ in str(annotation):
                model = candidate
                break
        else:
            break
    return model


_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth")


def ordinal(index: int) -> str:
    """'first' for index 0, 'second' for 1, ... then '9th', '10th', '21st', ..."""
    if 0 <= index < len(_ORDINALS):
        return _ORDINALS[index]
    number = index + 1
    suffix = (
        "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    )
    return f"{number}{suffix}"


def _is_type_tag(part: Any) -> bool:
    # pydantic names the member of a union it tried ('str', 'dict[str,float]') inside the
    # location; a planner wrote no such key
    return isinstance(part, str) and ("[" in part or part in ("str", "int", "float", "bool"))


def describe_location(loc: tuple, section: bool = False) -> str:
    """A pydantic location in words: ('balance', 1, 'tolerance') -> "'tolerance' in the
    second balance rule"; ('solver', 'time_limit') -> "'time_limit' in the solver section";
    ('solver',) -> "'solver'", or "the solver section" when it is meant as a whole."""
    parts = [part for part in loc if not _is_type_tag(part)]
    if not parts:
        return "the scenario"
    if parts[0] == "balance" and len(parts) > 1 and isinstance(parts[1], int):
        container, rest = f"the {ordinal(parts[1])} balance rule", parts[2:]
    elif len(parts) == 1:
        return f"the {parts[0]} section" if section else f"'{parts[0]}'"
    else:
        container, rest = f"the {parts[0]} section", parts[1:]
    if not rest:
        return container
    if isinstance(rest[-1], int) and len(rest) > 1:
        key = ".".join(str(part) for part in rest[:-1])
        return f"the {ordinal(rest[-1])} value of '{key}' in {container}"
    return f"'{'.'.join(str(part) for part in rest)}' in {container}"


def _said(message: str) -> str:
    """pydantic's message as the end of a sentence about a key."""
    for prefix in ("Value error, ", "Assertion failed, "):
        if message.startswith(prefix):
            return ": " + message[len(prefix) :]
    if message.startswith("Input should"):
        return " should" + message[len("Input should") :]
    return ": " + message[:1].lower() + message[1:]


def _short_repr() -> reprlib.Repr:
    # a value echoed in a message stays one readable line, whatever its size
    shortened = reprlib.Repr()
    shortened.maxstring = shortened.maxother = 60
    shortened.maxlist = shortened.maxdict = 4
    shortened.maxlevel = 2
    return shortened


_SHORT_REPR = _short_repr()


def scenario_problems(error: ValidationError, file: str) -> ProblemList:
    """Turn a pydantic ValidationError into one Problem per defect, in words.

    A misspelt key is one problem with a suggestion (the "field required" pydantic adds for
    the key it was meant to be is the same mistake and is dropped); the members of a union
    that all refused a value are one problem.
    """
    problems = ProblemList()
    items = error.errors()
    explained: set[tuple] = set()
    for item in items:
        loc = tuple(item.get("loc", ()))
        if item.get("type") == "extra_forbidden":
            close = difflib.get_close_matches(
                str(loc[-1]), _known_keys(_locate_model(loc[:-1])), n=1
            )
            if close:
                explained.add((*loc[:-1], close[0]))
    by_place: dict[tuple, list[dict]] = {}
    for item in items:
        loc = tuple(part for part in item.get("loc", ()) if not _is_type_tag(part))
        if item.get("type") == "missing" and loc in explained:
            continue
        by_place.setdefault(loc, []).append(item)
    for loc, group in by_place.items():
        _add_scenario_problem(problems, file, loc, group)
    return problems


def _add_scenario_problem(problems: ProblemList, file: str, loc: tuple, group: list[dict]) -> None:
    item = group[0]
    kind = item.get("type")
    if kind == "extra_forbidden":
        known = _known_keys(_locate_model(loc[:-1]))
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        fix = f"did you mean '{close[0]}'?" if close else "known keys here: " + ", ".join(known)
        where = "" if len(loc) == 1 else f" in {describe_location(loc[:-1], section=True)}"
        label = "unknown scenario key" if len(loc) == 1 else "unknown key"
        problems.add(file, f"{label} '{loc[-1]}'{where}", fix=fix)
        return
    if kind == "missing":
        owner = describe_location(loc[:-1], section=True) if len(loc) > 1 else "the scenario"
        fix = f"add {loc[-1]}: path/to/{loc[-1]}.csv" if loc in (("accounts",), ("reps",)) else None
        problems.add(file, f"{owner} has no '{loc[-1]}', which is required", fix=fix)
        return
    said = " or".join(_said(g.get("msg", "invalid value")).removeprefix(" should") for g in group)
    message = describe_location(loc, section=kind == "value_error") + (
        f" should{said}" if len(group) > 1 else _said(item.get("msg", "invalid value"))
    )
    if "input" in item:
        message += f" (got {_SHORT_REPR.repr(item['input'])})"
    problems.add(file, message)
