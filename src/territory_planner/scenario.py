"""Scenario file (YAML) -> validated settings.

A scenario states everything a planner decides: which files, which balance rules, which
constraints, how long to solve. Settings are pydantic models with ``extra="forbid"`` so a
typo such as ``tolerence`` is named instead of silently ignored. Paths are resolved relative
to the scenario file, so a scenario folder can be moved or shared as a whole.

The YAML is read with ``yaml.safe_load``: a scenario can never construct Python objects.
"""

from __future__ import annotations

import difflib
import math
import reprlib
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import InputError, Problem, ProblemList


class _Settings(BaseModel):
    # inf/NaN are refused everywhere: `time_limit: .inf` or `tolerance: .nan` is a typo or a
    # hostile file, never a setting (a NaN also passes every `ge`/`le` bound silently).
    model_config = ConfigDict(
        extra="forbid", frozen=False, validate_assignment=True, allow_inf_nan=False
    )


class BalanceRule(_Settings):
    """Each rep's load of ``metric`` stays within ``tolerance`` (a fraction) of its target."""

    metric: str = Field(min_length=1)
    tolerance: float = Field(ge=0.0, le=10.0)


class ObjectiveWeights(_Settings):
    """Weights of the objective terms.

    travel: per workload-weighted kilometre (DESIGN: travel cost = sum workload * km).
    disruption: per unit of *potential* that changes owner (a moved account with no
    potential still costs ``disruption_floor`` so continuity counts for every account).
    """

    travel: float = Field(default=1.0, ge=0.0)
    disruption: float = Field(default=0.0, ge=0.0)


class Constraints(_Settings):
    max_distance_km: float | None = Field(default=None, gt=0.0)
    max_moved_share: float | None = Field(default=None, ge=0.0, le=1.0)
    keep_together: str | None = None
    # geography mode: every territory one connected piece of the map (None: true when
    # unit is region, and meaningless in account mode)
    contiguous: bool | None = None


class SolverSettings(_Settings):
    name: str = "highs"
    time_limit: float = Field(default=60.0, gt=0.0)
    gap: float = Field(default=0.005, ge=0.0, lt=1.0)
    threads: int = Field(default=1, ge=1)
    seed: int = Field(default=0, ge=0)
    msg: bool = False


class QuotaSettings(_Settings):
    """The ``quota:`` section (see quota.py for the model it drives)."""

    target: float | None = Field(default=None, gt=0.0, allow_inf_nan=False)
    targets: dict[str, float] | None = None
    method: Literal["potential", "history", "blend"] = "blend"
    alpha: float = Field(default=0.6, ge=0.0, le=1.0)
    min_growth: float | None = Field(default=None, ge=-1.0, allow_inf_nan=False)
    max_growth: float | None = Field(default=None, ge=-1.0, allow_inf_nan=False)
    ramp: dict[str, float] | str | None = None
    overrides: dict[str, float] | None = None
    seasonality: list[float] | None = None

    @field_validator("targets", "overrides", mode="before")
    @classmethod
    def _ids_as_text(cls, value: Any) -> Any:
        # YAML reads `overrides: {101: 2500000}` with an int key, but rep and region IDs
        # are text everywhere else (CSV readers keep them as str), so the key is too.
        if isinstance(value, dict):
            return {
                str(k) if isinstance(k, int) and not isinstance(k, bool) else k: v
                for k, v in value.items()
            }
        return value

    @field_validator("targets")
    @classmethod
    def _positive_targets(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        if value is not None:
            if not value:
                raise ValueError("targets must name at least one region")
            bad = {k: v for k, v in value.items() if not (v > 0 and math.isfinite(v))}
            if bad:
                raise ValueError(f"every regional target must be a positive number, got {bad}")
        return value

    @field_validator("overrides")
    @classmethod
    def _nonnegative_overrides(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        if value is not None:
            bad = {k: v for k, v in value.items() if not (v >= 0 and math.isfinite(v))}
            if bad:
                raise ValueError(f"overrides must be non-negative numbers, got {bad}")
        return value

    @field_validator("ramp")
    @classmethod
    def _positive_ramp(cls, value: dict[str, float] | str | None):
        if isinstance(value, str) and not value.strip():
            raise ValueError("ramp must map statuses to multipliers or name a reps column")
        if isinstance(value, dict):
            bad = {k: v for k, v in value.items() if not (v > 0 and math.isfinite(v))}
            if bad:
                raise ValueError(f"ramp multipliers must be positive, got {bad}")
        return value

    @field_validator("seasonality")
    @classmethod
    def _seasonality_sums_to_one(cls, value: list[float] | None) -> list[float] | None:
        if value is not None:
            if len(value) not in (4, 12):
                raise ValueError(f"seasonality needs 4 quarters or 12 months, got {len(value)}")
            if any(not (v >= 0 and math.isfinite(v)) for v in value):
                raise ValueError("seasonality shares must be non-negative numbers")
            if abs(sum(value) - 1.0) > 1e-6:
                raise ValueError(f"seasonality must sum to 1, it sums to {sum(value):.6g}")
        return value

    @model_validator(mode="after")
    def _one_target(self) -> QuotaSettings:
        if (self.target is None) == (self.targets is None):
            raise ValueError(
                "give exactly one of 'target' (company total) or 'targets' (per region)"
            )
        if (
            self.min_growth is not None
            and self.max_growth is not None
            and self.min_growth > self.max_growth
        ):
            raise ValueError(f"min_growth {self.min_growth} is above max_growth {self.max_growth}")
        return self


class LocateSettings(_Settings):
    """The ``locate:`` section: choose ``count`` home bases among candidate sites."""

    count: int = Field(ge=1)
    candidates: str = "accounts"  # accounts | reps | a CSV path (site_id, lat, lon)


class Scenario(_Settings):
    """A validated scenario. ``base_dir`` is the folder paths are relative to."""

    name: str = "scenario"
    accounts: Path
    reps: Path
    regions: Path | None = None
    unit: Literal["account", "region"] = "account"
    adjacency: Literal["rook", "queen"] = "rook"  # region mode: what makes regions neighbours
    balance: list[BalanceRule] = Field(default_factory=list)
    objective: ObjectiveWeights = Field(default_factory=ObjectiveWeights)
    constraints: Constraints = Field(default_factory=Constraints)
    solver: SolverSettings = Field(default_factory=SolverSettings)
    quota: QuotaSettings | None = None
    locate: LocateSettings | None = None
    # reps columns that territories roll up into, finest level first (rollups.csv)
    hierarchy: list[str] = Field(default_factory=list)
    source: Path | None = Field(default=None, exclude=True)

    @field_validator("balance")
    @classmethod
    def _distinct_metrics(cls, rules: list[BalanceRule]) -> list[BalanceRule]:
        seen: set[str] = set()
        for rule in rules:
            if rule.metric in seen:
                raise ValueError(f"metric '{rule.metric}' is listed twice")
            seen.add(rule.metric)
        return rules

    @field_validator("hierarchy")
    @classmethod
    def _distinct_levels(cls, levels: list[str]) -> list[str]:
        for level in levels:
            if not level.strip():
                raise ValueError("a hierarchy level must name a reps column")
        if len(set(levels)) != len(levels):
            raise ValueError(f"a hierarchy level is listed twice: {levels}")
        return levels

    @field_validator("accounts", "reps", "regions")
    @classmethod
    def _plain_path(cls, value: Path | None) -> Path | None:
        if value is not None and ("\x00" in str(value) or not str(value).strip()):
            raise ValueError("must be a file path (it is blank or holds a NUL character)")
        return value

    def resolved(self, base_dir: Path) -> Scenario:
        """A copy whose file paths are absolute, resolved against ``base_dir``."""

        def absolute(p: Path | None) -> Path | None:
            if p is None:
                return None
            p = Path(p).expanduser()
            return p if p.is_absolute() else (base_dir / p).resolve()

        return self.model_copy(
            update={
                "accounts": absolute(self.accounts),
                "reps": absolute(self.reps),
                "regions": absolute(self.regions),
            }
        )

    def to_yaml_dict(self) -> dict[str, Any]:
        """Plain data for writing back as YAML (paths as strings, defaults included)."""
        data = self.model_dump(mode="json", exclude_none=True)
        return data


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


def parse_scenario(data: Any, file: str = "scenario", base_dir: Path | None = None) -> Scenario:
    """Validate already-loaded scenario data (a mapping) and resolve its paths."""
    if not isinstance(data, dict):
        raise InputError(
            Problem(
                file=file,
                message="the scenario must be a YAML mapping of keys to values",
                fix="start from scenarios/demo/scenario.yaml",
            )
        )
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as error:
        scenario_problems(error, file).raise_if_any()
        raise  # pragma: no cover - every ValidationError has at least one item
    return scenario.resolved(base_dir or Path.cwd())


class _UniqueKeySafeLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` (no object construction, no tags beyond plain YAML) that refuses
    a key given twice in one mapping: YAML keeps the last silently, so a planner who writes
    ``balance:`` twice would lose the first without a word. It also refuses a document whose
    aliases expand past MAX_SCENARIO_VALUES, counted on the composed nodes before any value
    is built (see :func:`_expanded_size`)."""

    def compose_document(self):
        node = super().compose_document()
        if node is not None:
            _expanded_size(node, MAX_SCENARIO_VALUES)
        return node


def _unique_mapping(loader: _UniqueKeySafeLoader, node: yaml.MappingNode, deep: bool = False):
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            hash(key)
        except TypeError:
            continue  # the base constructor reports unhashable keys itself
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "while reading a mapping",
                node.start_mark,
                f"key '{key}' appears twice (first on line {seen[key]})",
                key_node.start_mark,
            )
        seen[key] = key_node.start_mark.line + 1
    return loader.construct_mapping(node, deep=deep)


_UniqueKeySafeLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping
)

#: a scenario is a page of settings; a few thousand quota overrides stay far below these
MAX_SCENARIO_BYTES = 8 << 20
MAX_SCENARIO_VALUES = 200_000


class AliasBombError(yaml.YAMLError):
    """The document's aliases expand to more values than any scenario holds."""

    def __init__(self, message: str, mark=None):
        super().__init__(message)
        self.problem = message
        self.problem_mark = mark


def _expanded_size(root: yaml.Node, limit: int) -> int:
    """How many values ``root`` stands for once every alias is expanded, counted without
    expanding: a node reached through several aliases counts once per path (memoised by
    node), so nested aliases ("billion laughs") are caught at composition, before any
    object is built. Raises AliasBombError past ``limit`` or on a node containing itself."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if key in sizes:
            continue
        children = _children(node)
        if children_done:
            open_nodes.discard(key)
            sizes[key] = 1 + sum(sizes[id(child)] for child in children)
            if sizes[key] > limit:
                raise AliasBombError(
                    f"its aliases expand to more than {limit:,} values (an alias bomb?)",
                    node.start_mark,
                )
            continue
        if key in open_nodes:
            raise AliasBombError("an alias refers to a value that contains it", node.start_mark)
        open_nodes.add(key)
        stack.append((node, True))
        for child in children:
            if id(child) in open_nodes:
                raise AliasBombError(
                    "an alias refers to a value that contains it", child.start_mark
                )
            if id(child) not in sizes:
                stack.append((child, False))
    return sizes[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def safe_load_yaml(text: str) -> Any:
    """Plain YAML data only (see :class:`_UniqueKeySafeLoader`); raises ``yaml.YAMLError``."""
    return yaml.load(text, Loader=_UniqueKeySafeLoader)  # noqa: S506 - a SafeLoader subclass


def load_scenario_settings(path: str | Path) -> Scenario:
    """Read a scenario YAML file into validated settings (no data files are read here)."""
    path = Path(path)
    problems = ProblemList()
    name = str(path)
    if not path.exists():
        problems.add(name, "the scenario file does not exist", fix="check the path")
        problems.raise_if_any()
    if path.is_dir():
        problems.add(name, "is a folder, not a scenario file", fix="name the .yaml file inside it")
        problems.raise_if_any()
    try:
        size = path.stat().st_size
        if size > MAX_SCENARIO_BYTES:
            problems.add(
                name,
                f"is {size / 1e6:,.1f} MB; a scenario file is at most "
                f"{MAX_SCENARIO_BYTES / 1e6:,.0f} MB",
                fix="a scenario names its data files; it does not hold the data",
            )
            problems.raise_if_any()
        raw = path.read_bytes()
    except OSError as error:
        problems.add(
            name,
            f"cannot be read ({error.strerror or error})",
            fix="check that the file is readable",
        )
        problems.raise_if_any()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        problems.add(
            name,
            f"is not UTF-8 text (byte 0x{raw[error.start]:02x} on line {line})",
            row=line,
            fix="save the scenario as UTF-8",
        )
        problems.raise_if_any()
    try:
        data = safe_load_yaml(text)
    except AliasBombError as error:
        problems.add(
            name,
            f"is refused: {error.problem}",
            row=error.problem_mark.line + 1 if error.problem_mark is not None else None,
            fix="write the settings out; a scenario needs no nested aliases",
        )
        problems.raise_if_any()
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        row = mark.line + 1 if mark is not None else None
        reason = getattr(error, "problem", None) or str(error)
        if "could not determine a constructor" in reason:
            reason += " (Python object tags are never constructed: a scenario is plain data)"
        problems.add(
            name,
            f"is not valid YAML: {reason}",
            row=row,
            fix="check indentation and quoting on that line",
        )
        problems.raise_if_any()
    except RecursionError:
        problems.add(
            name,
            "is not valid YAML: nested too deeply",
            fix="a scenario is a few levels of keys and lists",
        )
        problems.raise_if_any()
    if data is None:
        problems.add(
            name,
            "the scenario file is empty",
            fix="it needs at least 'accounts:' and 'reps:' paths",
        )
        problems.raise_if_any()
    base_dir = path.resolve().parent
    try:
        scenario = parse_scenario(data, file=name, base_dir=base_dir)
    except InputError as error:
        # name missing files too, so one run lists every defect of the scenario
        problems.extend(error.problems)
        if isinstance(data, dict):
            problems.extend(_missing_files({k: data.get(k) for k in _PATH_KEYS}, base_dir, name))
        problems.raise_if_any()
    scenario = scenario.model_copy(update={"source": path.resolve()})
    _missing_files({k: getattr(scenario, k) for k in _PATH_KEYS}, base_dir, name).raise_if_any()
    return scenario


_PATH_KEYS = ("accounts", "reps", "regions")


def _missing_files(paths: dict[str, Any], base_dir: Path, name: str) -> ProblemList:
    """A problem for each data path that names no existing file (non-text values skipped:
    the settings validation reports those)."""
    missing = ProblemList()
    for key, target in paths.items():
        if not isinstance(target, (str, Path)) or not str(target).strip() or "\x00" in str(target):
            continue
        full = Path(target).expanduser()
        full = full if full.is_absolute() else base_dir / full
        try:
            exists = full.exists()
        except OSError:  # a name too long for the file system
            exists = False
        if not exists:
            missing.add(
                name,
                f"'{key}' file {full} does not exist",
                column=key,
                fix="paths are relative to the scenario file",
            )
    return missing
