"""The instructor's class report: per-question analytics as a self-contained HTML file.

Charts are Altair specs rendered to inline SVG with vl-convert, so the report
opens from disk or an intranet share and loads nothing from any host.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Mapping, Sequence

import altair as alt
import pandas as pd


def _svg(chart: alt.TopLevelMixin) -> str:
    import vl_convert as vlc

    return vlc.vegalite_to_svg(chart.to_dict())


def question_table(results: Sequence, key: Mapping) -> pd.DataFrame:
    """Per question: mean points, share correct, and the most common wrong answers."""
    graded = [r for r in results if r.status != "unreadable"]
    rows = []
    for q in key["questions"]:
        qid = q["id"]
        scores = [r.scores.get(qid, 0.0) for r in graded]
        wrong = Counter(r.answers_shown.get(qid, "") for r in graded if r.scores.get(qid, 0.0) < q["points"])
        common = "; ".join(f"{answer} ({n})" for answer, n in wrong.most_common(3)) if wrong else ""
        rows.append({
            "question": qid, "points": q["points"],
            "mean points": round(sum(scores) / len(scores), 2) if scores else 0.0,
            "share correct (%)": round(100 * sum(s >= q["points"] for s in scores) / len(scores), 1) if scores else 0.0,
            "most common wrong answers (count)": common,
        })
    return pd.DataFrame(rows)


def report_html(results: Sequence, key: Mapping) -> str:
    """The whole report as one HTML string."""
    table = question_table(results, key)
    statuses = Counter(r.status for r in results)
    totals = pd.DataFrame({"percentage": [r.percentage for r in results if r.status != "unreadable"]})
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Class report: {html.escape(key.get('title', key['exercise']))}</title>",
        "<style>body{font-family:system-ui,sans-serif;max-width:60em;margin:2em auto;color:#1a1a1a}"
        "table{border-collapse:collapse}td,th{border-bottom:1px solid #ccc;padding:.3em .6em;text-align:left}"
        "</style></head><body>",
        f"<h1>Class report: {html.escape(key.get('title', key['exercise']))}</h1>",
        f"<p>{len(results)} submissions. Status: "
        + ", ".join(f"{html.escape(s)} {n}" for s, n in sorted(statuses.items())) + ".</p>",
        "<h2>Questions</h2>", table.to_html(index=False, border=0, escape=True),
    ]
    if not table.empty:
        bars = alt.Chart(table, title="Share of students with each question right").mark_bar(color="#0072B2").encode(
            x=alt.X("question:N", title="Question", sort=None),
            y=alt.Y("share correct (%):Q", title="Students correct (%)", scale=alt.Scale(domain=[0, 100])))
        parts += ["<figure>", _svg(bars), "<figcaption>Share of gradable submissions that earned full points "
                  "on each question.</figcaption></figure>"]
    if not totals.empty:
        hist = alt.Chart(totals, title="Distribution of total scores").mark_bar(color="#009E73").encode(
            x=alt.X("percentage:Q", bin=alt.Bin(step=10, extent=[0, 100]), title="Total score (%)"),
            y=alt.Y("count():Q", title="Number of students"))
        parts += ["<h2>Totals</h2><figure>", _svg(hist),
                  "<figcaption>Total scores in bins of ten percentage points.</figcaption></figure>"]
    problems = [r for r in results if r.status != "ok"]
    if problems:
        rows = "".join(f"<tr><td>{html.escape(r.student)}</td><td>{html.escape(r.status)}</td>"
                       f"<td>{html.escape(r.reason)}</td></tr>" for r in sorted(problems, key=lambda r: r.student))
        parts += ["<h2>Submissions to look at</h2><table><tr><th>Student</th><th>Status</th><th>Reason</th></tr>",
                  rows, "</table>"]
    parts.append("</body></html>")
    return "".join(parts)
