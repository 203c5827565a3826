"""Question analysis and copying signals for the class report.

Per question: the facility (mean share of the points earned), two discrimination indices
(upper against lower 27% of the class by total score, and the point-biserial correlation of the
question with the rest of the test), and for choice questions how often each wrong option was
picked. Copying signals are pairs worth a look, never verdicts, and change no grade: students who
share the same *rare* wrong answers on two or more questions, and notebooks identical once
whitespace, comments and variable names are normalised.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations

from brbook.checkers import normalise_text

TOO_EASY, TOO_HARD, LOW_DISCRIMINATION = 0.9, 0.2, 0.2
RARE_SHARE = 0.1
"""A wrong answer is rare when at most this share of the class (and never more than 3 students) gave it."""


@dataclass
class QuestionStats:
    qid: str
    points: float
    kind: str
    n: int
    facility: float
    upper_lower: float | None
    point_biserial: float | None
    options: dict[str, int] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)


def _pearson(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    n = len(xs)
    if n < 3:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sx = math.sqrt(sum((x - mx) ** 2 for x in xs))
    sy = math.sqrt(sum((y - my) ** 2 for y in ys))
    if not sx or not sy:
        return None
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / (sx * sy)


def question_stats(rows: Sequence, key: Mapping) -> list[QuestionStats]:
    """Statistics over the gradable rows (those with a result that ran)."""
    graded = [r for r in rows if r.result is not None and r.result.status != "unreadable"]
    totals = [r.total for r in graded]
    questions = [(q["id"], float(q["points"]), q["checker"]["kind"], "auto") for q in key["questions"]]
    questions += [(m["id"], float(m["points"]), "written", "manual") for m in key.get("manual", [])]
    out = []
    order = sorted(range(len(graded)), key=lambda i: totals[i])
    group = max(1, round(0.27 * len(graded)))
    for qid, points, kind, source in questions:
        if source == "auto":
            scores = [r.auto.get(qid, 0.0) / points for r in graded]
            idx = list(range(len(graded)))
        else:  # only the answers graded by hand so far
            idx = [i for i, r in enumerate(graded) if r.manual.get(qid) is not None]
            scores = [graded[i].manual[qid] / points for i in idx]
        if not idx:
            out.append(QuestionStats(qid, points, kind, 0, 0.0, None, None, flags=["not graded yet"]))
            continue
        facility = sum(scores) / len(scores)
        score_of = dict(zip(idx, scores, strict=True))
        ranked = [i for i in order if i in score_of]
        g = max(1, round(0.27 * len(ranked))) if source == "manual" else group
        upper_lower = None
        if len(ranked) >= 4:
            upper = [score_of[i] for i in ranked[-g:]]
            lower = [score_of[i] for i in ranked[:g]]
            upper_lower = sum(upper) / len(upper) - sum(lower) / len(lower)
        rest = [totals[i] - score_of[i] * points for i in ranked]
        pbis = _pearson([score_of[i] for i in ranked], rest)
        stats = QuestionStats(qid, points, kind, len(ranked), facility, upper_lower, pbis)
        if kind == "choice":
            stats.options = dict(Counter(normalise_text(r.result.answers_shown.get(qid, "")) for r in graded
                                         if r.auto.get(qid, 0.0) < points).most_common())
        if facility >= TOO_EASY:
            stats.flags.append("too easy")
        if facility <= TOO_HARD:
            stats.flags.append("too hard")
        if upper_lower is not None and upper_lower < LOW_DISCRIMINATION and TOO_HARD < facility < TOO_EASY:
            stats.flags.append("not discriminating")
        out.append(stats)
    return out


@dataclass
class Signal:
    """A pair (or group) of submissions worth a look, and why."""

    students: tuple[str, ...]
    kind: str
    evidence: str


def copying_signals(results: Sequence, key: Mapping, min_shared: int = 2) -> list[Signal]:
    """Pairs sharing rare wrong answers on ``min_shared``+ questions; notebooks identical once normalised."""
    gradable = [r for r in results if r.status != "unreadable"]
    n = len(gradable)
    points = {q["id"]: q["points"] for q in key["questions"]}
    wrong: dict[str, dict[str, str]] = defaultdict(dict)  # student -> question -> answer
    counts: dict[tuple[str, str], int] = Counter()
    for r in gradable:
        for qid, p in points.items():
            answer = r.answers_shown.get(qid, "")
            if r.scores.get(qid, 0.0) < p and answer and answer != "(no answer)":
                norm = normalise_text(answer)
                wrong[r.student][qid] = norm
                counts[(qid, norm)] += 1
    limit = max(2, min(3, math.floor(RARE_SHARE * n)))
    signals = []
    for a, b in combinations(sorted(wrong), 2):
        shared = [(q, wrong[a][q]) for q in wrong[a] if wrong[b].get(q) == wrong[a][q]
                  and counts[(q, wrong[a][q])] <= limit]
        if len(shared) >= min_shared:
            signals.append(Signal((a, b), "the same rare wrong answers", "; ".join(
                f"{q}: {answer!r} (given by {counts[(q, answer)]} of {n})" for q, answer in sorted(shared))))
    groups: dict[str, list[str]] = defaultdict(list)
    for r in gradable:
        if r.fingerprint:
            groups[r.fingerprint].append(r.student)
    for members in groups.values():
        if len(members) > 1:
            signals.append(Signal(tuple(sorted(members)), "identical notebooks once normalised",
                                  "code and text match after normalising whitespace, comments and variable "
                                  f"names ({len(members)} notebooks)"))
    return signals
