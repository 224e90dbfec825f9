"""The scenario's settings as pydantic models.

A scenario states everything a planner decides: which files, which balance rules, which
constraints, how long to solve. Settings are pydantic models with ``extra="forbid"`` so a
typo such as ``tolerence`` is named instead of silently ignored. Paths are resolved relative
to the scenario file, so a scenario folder can be moved or shared as a whole.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .number_format import money_amount


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

    travel: per workload-weighted kilometre (docs/design.md section 3: travel cost = sum workload *
    km).
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

    @field_validator("target", mode="before")
    @classmethod
    def _target_as_written(cls, value: Any) -> Any:
        # `target: "$67,000,000"` or "USD 67,000,000.00", as the number columns read money
        return money_amount(value) if isinstance(value, str) else value

    @field_validator("targets", "overrides", mode="before")
    @classmethod
    def _ids_as_text(cls, value: Any) -> Any:
        # YAML reads `overrides: {101: 2500000}` with an int key, but rep and region IDs
        # are text everywhere else (CSV readers keep them as str), so the key is too. An
        # amount written as text ("$9,000,000") is read as the number columns read money.
        if isinstance(value, dict):
            return {
                str(k) if isinstance(k, int) and not isinstance(k, bool) else k: (
                    money_amount(v) if isinstance(v, str) else v
                )
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
