"""The small library of answer checkers shared by notebook self-checks and class grading.

A checker compares a student's answer with the expected one. It works on plain
data (numbers, strings, lists, and pandas objects rebuilt from JSON), never on
live objects from the student's process, so nothing a student redefines can
change a comparison. Each kind also has a *canonical form*: the string that the
student notebook hashes, so ``check()`` can answer instantly without the
notebook containing the expected value.
"""

from __future__ import annotations

import json
import math
import re
import sys
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

KINDS = ("number", "choice", "set", "ordered", "series", "frame", "text")


def normalise_text(value: Any) -> str:
    """Case, typographic quotes and dashes, surrounding punctuation and spaces folded."""
    text = unicodedata.normalize("NFC", str(value)).lower()
    text = text.translate(str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-"}))
    text = re.sub(r"\s+", " ", text).strip()
    return text.strip(" .,;:!?\"'")


@dataclass(frozen=True)
class Result:
    """The outcome of one check: points earned and feedback that never states the answer."""

    correct: bool
    points: float
    feedback: str


@dataclass
class Checker:
    """How one question's answer is compared.

    Args:
        kind: one of ``KINDS``.
        tolerance: for ``number``, the largest accepted absolute difference.
        decimals: for ``series``/``frame``, values are compared after rounding to this many decimals.
        wrong: feedback for common wrong answers, keyed by the wrong answer (as written in the source).
        hint: feedback for any other wrong answer.
    """

    kind: str
    tolerance: float = 0.0
    decimals: int = 6
    wrong: Mapping[str, str] = field(default_factory=dict)
    hint: str = "Not yet: check your working and try again."

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown checker kind {self.kind!r}; use one of {KINDS}")

    # ---- canonical forms: what the student notebook hashes ----
    def canonical(self, value: Any) -> list[str]:
        """Canonical strings of an answer; a right answer shares one with the expected value.

        Numbers give two grid cells (floor and ceiling of value / tolerance) so that any
        answer within the tolerance meets the expected value's cell.
        """
        if value is None or value is Ellipsis:
            return []
        try:
            if self.kind == "number":
                x = float(value)
                if math.isnan(x) or math.isinf(x):
                    return []
                if self.tolerance > 0:
                    return sorted({str(math.floor(x / self.tolerance)), str(math.ceil(x / self.tolerance))})
                return [repr(round(x, 9))]
            if self.kind in ("choice", "text"):
                return [normalise_text(value)]
            if self.kind == "set":
                return ["\x1f".join(sorted({normalise_text(v) for v in value}))]
            if self.kind == "ordered":
                return ["\x1f".join(normalise_text(v) for v in value)]
            if self.kind in ("series", "frame"):
                return [_canonical_pandas(value, self.decimals)]
        except (TypeError, ValueError):
            return []
        return []

    def expected_key(self, expected: Any) -> str:
        """The one canonical string of the expected value (the grid cell for numbers)."""
        if self.kind == "number" and self.tolerance > 0:
            return str(math.floor(float(expected) / self.tolerance + 0.5))
        return self.canonical(expected)[0]

    # ---- full comparison: used by class grading, with the real expected value ----
    def check(self, answer: Any, expected: Any, points: float) -> Result:
        """Compare an answer (plain data) with the expected value."""
        if answer is None or answer is Ellipsis:
            return Result(False, 0.0, "No answer yet: the variable is still `...` or missing.")
        try:
            right = self._equal(answer, expected)
        except Exception:  # a malformed answer is wrong, never a crash
            right = False
        if right:
            return Result(True, float(points), "Correct.")
        return Result(False, 0.0, self.feedback_for(answer))

    def feedback_for(self, answer: Any) -> str:
        """Targeted feedback when the answer is a known common mistake, else the hint."""
        keys = set(self.canonical(answer))
        for wrong_value, message in self.wrong.items():
            # the same key the student notebook hashes for this mistake (exercises.student_checks)
            if self.expected_key(parse_wrong(wrong_value, self.kind)) in keys:
                return message
        return self.hint

    def _equal(self, answer: Any, expected: Any) -> bool:
        if self.kind == "number":
            if isinstance(answer, bool):
                return False
            return abs(float(answer) - float(expected)) <= self.tolerance + 1e-9
        if self.kind in ("choice", "text"):
            return normalise_text(answer) == normalise_text(expected)
        if self.kind == "set":
            return {normalise_text(v) for v in answer} == {normalise_text(v) for v in expected}
        if self.kind == "ordered":
            return [normalise_text(v) for v in answer] == [normalise_text(v) for v in expected]
        if self.kind == "series":
            left, right = _as_pandas(answer, "series"), _as_pandas(expected, "series")
            _pandas().testing.assert_series_equal(left.round(self.decimals), right.round(self.decimals),
                                                  check_dtype=False, check_names=False, check_exact=False)
            return True
        if self.kind == "frame":
            left, right = _as_pandas(answer, "frame"), _as_pandas(expected, "frame")
            _pandas().testing.assert_frame_equal(left.round(self.decimals).reset_index(drop=True),
                                                 right.round(self.decimals).reset_index(drop=True),
                                                 check_dtype=False, check_exact=False)
            return True
        return False

    def to_dict(self) -> dict:
        return {"kind": self.kind, "tolerance": self.tolerance, "decimals": self.decimals,
                "wrong": dict(self.wrong), "hint": self.hint}

    @classmethod
    def from_dict(cls, spec: Mapping) -> Checker:
        return cls(kind=spec["kind"], tolerance=float(spec.get("tolerance", 0)),
                   decimals=int(spec.get("decimals", 6)), wrong=dict(spec.get("wrong") or {}),
                   hint=spec.get("hint") or cls.hint)


def parse_wrong(text: str, kind: str) -> Any:
    """A common wrong answer as written in an exercise source, in the checker's own terms."""
    if kind == "number":
        return float(text)
    if kind in ("set", "ordered"):
        return [t.strip() for t in str(text).split("|")]
    return text


# ---- plain-data transport of answers (child process -> grader) ----
def to_plain(value: Any) -> Any:
    """Turn an answer into JSON-safe plain data, tagging pandas objects; anything else is its repr."""
    if value is Ellipsis:
        return {"__ellipsis__": True}
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return value if not (isinstance(value, float) and (math.isnan(value) or math.isinf(value))) else str(value)
    pd = sys.modules.get("pandas")  # a value is a pandas object only where pandas is loaded
    if pd is not None and isinstance(value, pd.Series):
        return {"__series__": json.loads(value.to_json(orient="split", date_format="iso"))}
    if pd is not None and isinstance(value, pd.DataFrame):
        return {"__frame__": json.loads(value.to_json(orient="split", date_format="iso"))}
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        try:
            return to_plain(value.item())
        except (TypeError, ValueError):
            pass
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else list(value)
        return [to_plain(v) for v in items]
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    return {"__repr__": repr(value)[:200]}


def from_plain(value: Any) -> Any:
    """Inverse of :func:`to_plain` for what checkers can compare."""
    if isinstance(value, dict):
        if value.get("__ellipsis__"):
            return Ellipsis
        if "__series__" in value:
            return _as_pandas(value, "series")
        if "__frame__" in value:
            return _as_pandas(value, "frame")
        if "__repr__" in value:
            return value["__repr__"]
        return {k: from_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_plain(v) for v in value]
    return value


def _pandas():
    """pandas, imported where an answer or a key holds a Series or a DataFrame: the commands that only read saved
    results (`brbook export`, a refused grading run or a failed merge) start without it, 0.9 s sooner."""
    import pandas

    return pandas


def _as_pandas(value: Any, kind: str) -> pd.Series | pd.DataFrame:
    pd = _pandas()
    if isinstance(value, pd.Series | pd.DataFrame):
        return value
    if isinstance(value, dict) and ("__series__" in value or "__frame__" in value):
        split = value.get("__series__") or value.get("__frame__")
        if kind == "series":
            return pd.Series(split["data"], index=split.get("index"), name=split.get("name"))
        return pd.DataFrame(split["data"], index=split.get("index"), columns=split.get("columns"))
    raise TypeError(f"not a {kind}")


def _canonical_pandas(value: Any, decimals: int) -> str:
    pd = _pandas()
    obj = _as_pandas(value, "series" if isinstance(value, pd.Series) or "__series__" in value else "frame")
    if isinstance(obj, pd.Series):
        obj = obj.rename(None)
        payload = {"index": [str(i) for i in obj.index],
                   "data": [_round(v, decimals) for v in obj.tolist()]}
    else:
        obj = obj.reset_index(drop=True)
        payload = {"columns": [str(c) for c in obj.columns],
                   "data": [[_round(v, decimals) for v in row] for row in obj.itertuples(index=False)]}
    return json.dumps(payload, sort_keys=True)


def _round(value: Any, decimals: int) -> Any:
    if isinstance(value, float):
        return round(value, decimals)
    if isinstance(value, int) and not isinstance(value, bool):
        return round(float(value), decimals)
    return normalise_text(value) if isinstance(value, str) else value
