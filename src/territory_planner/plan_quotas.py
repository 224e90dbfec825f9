"""Quotas on a made plan: set them in place, or re-set them on a copy."""

from __future__ import annotations

import json

from pydantic import ValidationError

from .errors import InputError, Problem
from .plan_folder import Plan, jsonable
from .quota import allocate_quotas
from .scenario import QuotaSettings, scenario_problems


def requota(
    made: Plan,
    *,
    target: float | None = None,
    method: str | None = None,
    alpha: float | None = None,
    min_growth: float | None = None,
    max_growth: float | None = None,
    settings=None,
) -> Plan:
    """A copy of ``made`` with quotas set or re-set; ``made`` itself is left as it was.

    The quota settings are the plan's own ``quota:`` section (or ``settings``) with any of
    the given values replacing theirs; a plan without a quota section needs ``target``.
    The scenario recorded with the new plan carries the settings actually used.
    """
    base = settings if settings is not None else made.scenario.quota
    changes = {
        k: v
        for k, v in {
            "target": target,
            "method": method,
            "alpha": alpha,
            "min_growth": min_growth,
            "max_growth": max_growth,
        }.items()
        if v is not None
    }
    if base is None:
        if target is None:
            raise InputError(
                Problem(
                    file="scenario.yaml",
                    column="quota",
                    message="the plan's scenario has no quota section",
                    fix="give a company target, e.g. --target 48000000",
                )
            )
        data = changes
    else:
        data = base.model_dump(exclude_none=True)
        if target is not None:
            data.pop("targets", None)  # a company target replaces per-region targets
        data.update(changes)
    try:
        quota_settings = QuotaSettings.model_validate(data)
    except ValidationError as error:
        scenario_problems(error, "quota settings").raise_if_any()
        raise
    copy = Plan(
        scenario=made.scenario.model_copy(update={"quota": quota_settings}),
        accounts=made.accounts,
        reps=made.reps,
        regions=made.regions,
        assignments=made.assignments.copy(),
        territories=made.territories.copy(),
        summary=json.loads(json.dumps(jsonable(made.summary))),
        quotas=None,
        files=dict(made.files),
        extra_files=dict(made.extra_files),
    )
    return apply_quotas(copy, quota_settings)


def apply_quotas(made: Plan, quota_settings) -> Plan:
    """Set quotas on a plan in place: quotas.csv, the territories' quota columns, summary."""
    quota_plan = allocate_quotas(made, quota_settings)
    frame = quota_plan.to_frame()
    made.quotas = frame
    keep = [c for c in made.territories.columns if c not in ("quota", "quota_to_potential")]
    made.territories = made.territories[keep].merge(
        frame[["rep_id", "quota", "quota_to_potential"]], on="rep_id", how="left"
    )
    made.summary["quota"] = quota_plan.summary()
    return made
