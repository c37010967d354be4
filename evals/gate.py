"""The gate: dataset means against thresholds; any failure means exit 1, naming the scorers."""

from __future__ import annotations

from agent.errors import UsageError
from agent.schema import Contract

from evals.dataset import Gate


class GateResult(Contract):
    passed: bool
    failures: list[str]
    checked: list[str]


def parse_thresholds(items: list[str] | None, flag: str = "--min-score") -> dict[str, float]:
    """['grounded_sentences=0.8', ...] -> {'grounded_sentences': 0.8}; a malformed item is a UsageError."""
    out: dict[str, float] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        try:
            if not sep or not name.strip():
                raise ValueError
            out[name.strip()] = float(value)
        except ValueError:
            raise UsageError(f"{flag} wants scorer=value, not '{item}'") from None
    return out


def merge_gate(base: Gate, min_score: dict[str, float], max_score: dict[str, float]) -> Gate:
    """Command-line thresholds override the dataset's own, scorer by scorer."""
    return Gate(min_score={**base.min_score, **min_score}, max_score={**base.max_score, **max_score},
                max_errors=base.max_errors)


def validate_gate(gate: Gate, scorers: list[str]) -> None:
    """Unknown scorer names are errors, so a typo can't make a gate pass silently."""
    for name in [*gate.min_score, *gate.max_score]:
        if name not in scorers:
            raise UsageError(f"gate names unknown scorer '{name}' (known: {', '.join(scorers)})")


def evaluate_gate(means: dict[str, float | None], errors: int, gate: Gate) -> GateResult:
    """Each min_score needs mean >= value, each max_score mean <= value; a scorer with no score fails."""
    failures: list[str] = []
    checked: list[str] = []
    for name, limit in gate.min_score.items():
        mean = means.get(name)
        checked.append(f"{name} >= {limit:g}")
        if mean is None or mean < limit:
            failures.append(f"{name} {'n/a' if mean is None else f'{mean:.3f}'} < {limit:g}")
    for name, limit in gate.max_score.items():
        mean = means.get(name)
        checked.append(f"{name} <= {limit:g}")
        if mean is None or mean > limit:
            failures.append(f"{name} {'n/a' if mean is None else f'{mean:.3f}'} > {limit:g}")
    checked.append(f"errors <= {gate.max_errors}")
    if errors > gate.max_errors:
        failures.append(f"errors {errors} > {gate.max_errors}")
    return GateResult(passed=not failures, failures=failures, checked=checked)
