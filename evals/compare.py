"""Compare two eval runs: per-scorer deltas of the means, and the cases that got worse."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from evals.report import fmt, load_run
from evals.runner import CaseRow
from evals.scorers import SCORERS, by_name

STATUS_RANK = {"published": 0, "rejected": 1, "budget_exceeded": 2, "failed": 2, "error": 3}


@dataclass
class Delta:
    scorer: str
    a: float | None
    b: float | None

    @property
    def change(self) -> float | None:
        return None if self.a is None or self.b is None else self.b - self.a


@dataclass
class Worse:
    case: str
    reasons: list[str]


def _means(rows: list[CaseRow], name: str) -> float | None:
    values = [r.scores[name] for r in rows if r.scores.get(name) is not None]
    return sum(values) / len(values) if values else None


def worse_reasons(a: CaseRow, b: CaseRow) -> list[str]:
    """What got worse for one case from run A to run B, by each scorer's direction."""
    scorers = by_name()
    reasons = []
    if a.status != b.status and (a.status == a.expected or STATUS_RANK[b.status] > STATUS_RANK[a.status]):
        reasons.append(f"status {a.status} -> {b.status}")
    for name, va in a.scores.items():
        vb = b.scores.get(name)
        scorer = scorers.get(name)
        if va is None or vb is None or scorer is None or scorer.unit not in ("", "violations"):
            continue  # costs (calls, tokens, seconds) vary run to run; they show in the means
        if (vb < va) if scorer.higher_is_better else (vb > va):
            reasons.append(f"{name} {fmt(va, scorer)} -> {fmt(vb, scorer)}")
    return reasons


def compare_runs(a_path: Path, b_path: Path) -> tuple[list[Delta], list[Worse], list[str]]:
    """Deltas per scorer (B minus A), cases worse in B, and case ids in only one of the runs."""
    rows_a, _ = load_run(a_path)
    rows_b, _ = load_run(b_path)
    names = [s.name for s in SCORERS] + sorted({k for r in rows_a + rows_b for k in r.scores} - set(by_name()))
    deltas = [Delta(name, _means(rows_a, name), _means(rows_b, name)) for name in names]
    by_id = {r.id: r for r in rows_b}
    worse = [Worse(r.id, reasons) for r in rows_a if r.id in by_id and (reasons := worse_reasons(r, by_id[r.id]))]
    only = sorted(set(by_id) ^ {r.id for r in rows_a})
    return deltas, worse, only


def format_comparison(deltas: list[Delta], worse: list[Worse], only: list[str]) -> list[str]:
    scorers = by_name()
    lines = [f"{'scorer':<20} {'A':>9} {'B':>9} {'delta':>9}"]
    for d in deltas:
        scorer = scorers.get(d.scorer)
        change = "–" if d.change is None else f"{d.change:+.3f}"
        flag = ""
        if d.change and scorer is not None:
            better = d.change > 0 if scorer.higher_is_better else d.change < 0
            flag = "  better" if better else "  worse"
        lines.append(f"{d.scorer:<20} {fmt(d.a, scorer):>9} {fmt(d.b, scorer):>9} {change:>9}{flag}")
    lines.append(f"{len(worse)} case(s) worse in B" + (":" if worse else ""))
    lines += [f"  {w.case}: {'; '.join(w.reasons)}" for w in worse]
    if only:
        lines.append("in only one run: " + ", ".join(only))
    return lines
