"""A sweep file (YAML) -> the list of variant scenarios it stands for.

A sweep file sits beside its base scenario::

    scenario: scenario.yaml                 # the base scenario, relative to this file
    vary:                                   # dotted keys into the scenario: the grid is
      balance.0.tolerance: [0.03, 0.05]     # the product of their value lists
      constraints.max_moved_share: [0.05, 0.10]
    variants:                               # optional named variants, added to the grid
      - {name: two-hires, reps: reps_plus_two.csv}

Each variant is the base scenario's YAML data with its keys replaced, validated like any
scenario. A structural defect of the sweep file (an unknown key, a dotted key the scenario
cannot have, an empty grid, two variants of one name) is an :class:`InputError` naming the
key: the whole sweep is refused. A value the scenario refuses (a negative tolerance) only
spoils its own variant, which :func:`expand` returns as a variant with ``problem`` set.
"""

from __future__ import annotations

import copy
import difflib
import itertools
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from .errors import InputError, Problem, ProblemList
from .scenario import Scenario, load_scenario_settings, parse_scenario, safe_load_yaml

__all__ = ["SweepSpec", "Variant", "load_sweep_spec", "expand", "variant_name"]

SWEEP_KEYS = ("scenario", "vary", "variants")
PATH_KEYS = ("accounts", "reps", "regions")
# short labels for the names derived from values (tol0.05-moved0.10)
_LABELS = {
    "tolerance": "tol",
    "max_moved_share": "moved",
    "max_distance_km": "km",
    "time_limit": "limit",
    "disruption": "disr",
    "keep_together": "together",
}
_UNSAFE_IN_NAME = re.compile(r"[^A-Za-z0-9._+-]+")


@dataclass
class SweepSpec:
    """A parsed sweep file: the base scenario's data and what varies."""

    file: str
    base_dir: Path
    scenario_path: Path
    base: dict
    vary: dict[str, list]
    variants: list[dict]


@dataclass
class Variant:
    """One scenario of the sweep: its name, the values that make it, its settings.

    ``settings`` is None when the scenario refuses the values; ``problem`` then says why.
    """

    name: str
    values: dict[str, Any]
    settings: Scenario | None = None
    problem: InputError | None = None
    named: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def _read_yaml(path: Path, problems: ProblemList) -> Any:
    try:
        return safe_load_yaml(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        problems.add(str(path), "does not exist", fix="check the path")
    except (OSError, UnicodeDecodeError) as error:
        problems.add(str(path), f"cannot be read ({error})")
    except Exception as error:  # yaml.YAMLError and its relatives: name the line
        mark = getattr(error, "problem_mark", None)
        problems.add(
            str(path),
            f"is not valid YAML: {getattr(error, 'problem', None) or error}",
            row=mark.line + 1 if mark is not None else None,
        )
    return None


def load_sweep_spec(source: str | Path | dict, base_dir: Path | None = None) -> SweepSpec:
    """Read and check a sweep file (or its data as a mapping); InputError naming each key."""
    problems = ProblemList()
    if isinstance(source, dict):
        file, raw = "sweep", source
        base_dir = Path(base_dir or Path.cwd()).resolve()
    else:
        path = Path(source)
        file, base_dir = str(path), path.resolve().parent
        raw = _read_yaml(path, problems)
        problems.raise_if_any()
    if not isinstance(raw, dict):
        raise InputError(Problem(file, "a sweep file is a mapping with scenario:, vary:"))
    for key in raw:
        if key not in SWEEP_KEYS:
            close = difflib.get_close_matches(str(key), SWEEP_KEYS, n=1)
            problems.add(
                file,
                f"unknown sweep key '{key}'",
                column=str(key),
                fix=f"did you mean '{close[0]}'?" if close else "keys: " + ", ".join(SWEEP_KEYS),
            )
    if "scenario" not in raw or not isinstance(raw.get("scenario"), str):
        problems.add(file, "'scenario' must name the base scenario file", column="scenario")
        problems.raise_if_any()
    scenario_path = (base_dir / raw["scenario"]).resolve()
    try:
        load_scenario_settings(scenario_path)
    except InputError as error:
        problems.extend(error.problems)
        problems.raise_if_any()
    base = safe_load_yaml(scenario_path.read_text(encoding="utf-8-sig"))
    vary = _check_vary(raw.get("vary"), base, file, problems)
    variants = _check_variants(raw.get("variants"), base, file, problems)
    if not problems and not variants and not any(vary.values()):
        problems.add(file, "the sweep has no variants: 'vary' is empty", column="vary")
    problems.raise_if_any()
    return SweepSpec(file, base_dir, scenario_path, base, vary, variants)


def _check_vary(vary: Any, base: dict, file: str, problems: ProblemList) -> dict[str, list]:
    if vary is None:
        return {}
    if not isinstance(vary, dict):
        problems.add(file, "'vary' must map dotted scenario keys to value lists", column="vary")
        return {}
    checked: dict[str, list] = {}
    for key, values in vary.items():
        where = f"vary.{key}"
        missing = key_problem(base, str(key))
        if missing:
            problems.add(file, f"'{key}' {missing}", column=where)
        elif not isinstance(values, list):
            problems.add(file, f"'{key}' needs a list of values, got {values!r}", column=where)
        elif not values:
            problems.add(file, f"'{key}' has an empty list: the grid would be empty", column=where)
        elif len({repr(v) for v in values}) != len(values):
            problems.add(file, f"'{key}' lists a value twice", column=where)
        else:
            checked[str(key)] = values
    return checked


def _check_variants(variants: Any, base: dict, file: str, problems: ProblemList) -> list[dict]:
    if variants is None:
        return []
    if not isinstance(variants, list):
        problems.add(file, "'variants' must be a list of mappings", column="variants")
        return []
    checked = []
    for number, variant in enumerate(variants):
        where = f"variants.{number}"
        if not isinstance(variant, dict) or not [k for k in variant if k != "name"]:
            problems.add(file, "a variant maps scenario keys to values", column=where)
            continue
        for key, value in variant.items():
            if key == "name":
                continue
            for dotted in _dotted_keys(str(key), value):
                missing = key_problem(base, dotted)
                if missing:
                    problems.add(file, f"'{dotted}' {missing}", column=f"{where}.{dotted}")
        checked.append(variant)
    return checked


def _dotted_keys(key: str, value: Any) -> list[str]:
    """The dotted keys a variant's value sets: a section given as a mapping
    (``constraints: {max_distance_km: 400}``) sets ``constraints.max_distance_km``, so a
    misspelt key inside it is named here, in the sweep file, as a misspelt dotted key is,
    not later as a fault of the base scenario."""
    if not isinstance(value, dict) or not value:
        return [key]
    return [
        dotted for sub, inner in value.items() for dotted in _dotted_keys(f"{key}.{sub}", inner)
    ]


def _setting_items(key: str, value: Any) -> list[tuple[str, Any]]:
    """The (dotted key, value) pairs a variant's entry sets. A settings section given as a
    mapping (``constraints: {max_distance_km: 400}``) sets only the keys it names, as the
    dotted keys ``constraints.max_distance_km`` would: the base's other settings of that
    section (``keep_together``, ``max_moved_share``) stay. A free mapping (``quota.targets``,
    ``quota.ramp``, ``quota.overrides``) and any other value is set whole."""
    if not isinstance(value, dict) or not value or _section_model(key) is None:
        return [(key, value)]
    return [item for sub, inner in value.items() for item in _setting_items(f"{key}.{sub}", inner)]


def _section_model(key: str) -> type[BaseModel] | None:
    """The settings model a dotted key names (``constraints``, ``quota``, ``balance.0``), or
    None when it names a value, a list or a free mapping (or nothing the scenario has)."""
    model: type[BaseModel] | None = Scenario
    in_list = False
    for part in key.split("."):
        if model is None:
            return None
        if in_list:
            if not part.isdigit():
                return None
            in_list = False
            continue
        field_info = model.model_fields.get(part)
        if field_info is None:
            return None
        annotation = field_info.annotation
        model = _model_of(annotation)
        in_list = _holds(annotation, list)
    return None if in_list else model


# --------------------------------------------------------------------------- dotted keys


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The settings model inside a field's annotation (``list[BalanceRule]``, ``X | None``)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in typing.get_args(annotation):
        found = _model_of(argument)
        if found is not None:
            return found
    return None


def _holds(annotation: Any, kind: type) -> bool:
    """Whether a field's annotation is (or may be) a ``kind`` (list, dict)."""
    if typing.get_origin(annotation) is kind or annotation is kind:
        return True
    return any(_holds(argument, kind) for argument in typing.get_args(annotation))


def key_problem(base: dict, key: str) -> str | None:
    """Why ``key`` (``balance.0.tolerance``) cannot be set in the scenario, or None.

    Model fields may be absent from the base file (their default applies); list positions
    must exist in the base; free mappings (quota targets) take any key.
    """
    node: Any = base
    model: type[BaseModel] | None = Scenario
    kind = "section"  # what the current part indexes: section, list, mapping or value
    parts = key.split(".")
    for depth, part in enumerate(parts):
        here = ".".join(parts[:depth]) or "the scenario"
        if kind == "list":
            count = len(node) if isinstance(node, list) else 0
            if not part.isdigit() or int(part) >= count:
                return f"does not exist in the scenario: {here} has {count} entries"
            node, kind = node[int(part)], "section" if model is not None else "value"
        elif kind == "mapping":
            node, kind = node.get(part) if isinstance(node, dict) else None, "value"
        elif kind == "value":
            return f"does not exist in the scenario: {here} is a value, not a section"
        else:
            known = [k for k in model.model_fields if k != "source"]
            if part not in known:
                close = difflib.get_close_matches(part, known, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                return f"does not exist in the scenario: {here} has no key '{part}'{hint}"
            annotation = model.model_fields[part].annotation
            model = _model_of(annotation)
            node = node.get(part) if isinstance(node, dict) else None
            if _holds(annotation, list):
                kind = "list"
            elif model is None:
                kind = "mapping" if _holds(annotation, dict) else "value"
    return None


def set_key(data: dict, key: str, value: Any) -> None:
    """Set a dotted key in scenario data, creating the sections it passes through."""
    parts = key.split(".")
    node: Any = data
    for part, following in zip(parts[:-1], parts[1:]):
        child = node[int(part)] if isinstance(node, list) else node.get(part)
        if child is None:
            child = [] if following.isdigit() else {}
            node[part] = child
        node = child
    last = parts[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


def get_key(data: dict, key: str) -> Any:
    """The value at a dotted key, or None where the scenario leaves it to the default."""
    node: Any = data
    for part in key.split("."):
        if isinstance(node, list):
            node = node[int(part)] if part.isdigit() and int(part) < len(node) else None
        elif isinstance(node, dict):
            node = node.get(part)
        else:
            return None
    return node


# --------------------------------------------------------------------------- the variants


def _value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        text = f"{value:.2f}"
        return text if float(text) == value else repr(value)
    if value is None:
        return "none"
    text = Path(value).stem if isinstance(value, str) and "/" in value else str(value)
    return _UNSAFE_IN_NAME.sub("_", text)


def _labels(keys: list[str], base: dict) -> dict[str, str]:
    """A short label per key; the leaf's label, prefixed by the rule's metric on a clash."""
    leaf = {key: _LABELS.get(key.split(".")[-1], key.split(".")[-1]) for key in keys}
    labels = {}
    for key in keys:
        clash = [k for k in keys if leaf[k] == leaf[key]]
        if len(clash) == 1:
            labels[key] = leaf[key]
            continue
        parts = key.split(".")
        owner = get_key(base, ".".join(parts[:-1]))
        metric = owner.get("metric") if isinstance(owner, dict) else None
        labels[key] = f"{metric or '_'.join(parts[:-1])}_{leaf[key]}"
    return labels


def variant_name(values: dict[str, Any], labels: dict[str, str]) -> str:
    """``tol0.05-moved0.10``: each label followed by its value, in the sweep file's order."""
    return "-".join(f"{labels[k]}{_value_text(v)}" for k, v in values.items())


def _settings(spec: SweepSpec, changes: dict[str, Any]) -> tuple[Scenario | None, InputError]:
    data = copy.deepcopy(spec.base)
    for key, value in changes.items():
        if key.split(".")[0] in PATH_KEYS and isinstance(value, str):
            # a file a variant names is relative to the sweep file, like the base scenario
            value = str((spec.base_dir / value).resolve())
        set_key(data, key, value)
    try:
        settings = parse_scenario(
            data, file=str(spec.scenario_path), base_dir=spec.scenario_path.parent
        )
    except InputError as error:
        return None, error
    return settings.model_copy(update={"source": spec.scenario_path}), None


def expand(spec: SweepSpec) -> list[Variant]:
    """Every variant of the sweep: the grid in the file's order, then the named variants."""
    keys = list(spec.vary)
    labels = _labels(keys, spec.base)
    variants: list[Variant] = []
    for combination in itertools.product(*(spec.vary[k] for k in keys)) if keys else []:
        values = dict(zip(keys, combination))
        settings, problem = _settings(spec, values)
        variants.append(Variant(variant_name(values, labels), values, settings, problem))
    for entry in spec.variants:
        changes = {
            dotted: inner
            for key, value in entry.items()
            if key != "name"
            for dotted, inner in _setting_items(str(key), value)
        }
        name = entry.get("name")
        name = _UNSAFE_IN_NAME.sub("_", str(name)) if name else ""
        name = name or variant_name(changes, _labels(list(changes), spec.base))
        values = {k: get_key(spec.base, k) for k in keys} | changes
        settings, problem = _settings(spec, changes)
        variants.append(Variant(name, values, settings, problem, named=True))
    _check_names(variants, spec.file)
    return variants


def _check_names(variants: list[Variant], file: str) -> None:
    problems = ProblemList()
    seen: set[str] = set()
    for variant in variants:
        if variant.name.lower() in seen:
            problems.add(
                file,
                f"two variants are named '{variant.name}' (their plan folders would collide)",
                column="variants",
                fix="give the named variant another name",
            )
        seen.add(variant.name.lower())
    problems.raise_if_any()
