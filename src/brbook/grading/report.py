"""The instructor's class report: question analysis, copying signals and problems, in one HTML file.

Charts are Altair specs rendered to inline SVG with vl-convert, each with a text alternative and a
table of the same numbers, so the report opens from disk or an intranet share, loads nothing from
any host, and reads the same with a screen reader.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Mapping, Sequence
from urllib.parse import quote

import altair as alt
import pandas as pd

from brbook.grading.analysis import copying_signals, question_stats

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:62em;margin:2em auto;padding:0 1em;
color:#1a1a1a;line-height:1.5}
h1{font-size:1.7em}h2{margin-top:2em;border-bottom:2px solid #0072B2;padding-bottom:.2em}
table{border-collapse:collapse;margin:1em 0;font-size:.95em}caption{text-align:left;font-weight:600;padding:.3em 0}
td,th{border-bottom:1px solid #c8c8c8;padding:.35em .7em;text-align:left;vertical-align:top}
th{background:#f0f4f8}.num{text-align:right;font-variant-numeric:tabular-nums}
.flag{display:inline-block;background:#fdecea;color:#8a1c12;border-radius:.3em;padding:0 .4em;margin:.1em}
.note{background:#fff7e0;border-left:4px solid #b07d00;padding:.5em 1em}
figure{margin:1.5em 0}figcaption{color:#333;font-size:.95em}a{color:#00529e}
"""


def _svg(chart: alt.TopLevelMixin, description: str) -> str:
    import vl_convert as vlc

    svg = vlc.vegalite_to_svg(chart.to_dict())
    return (f'<div role="img" aria-label="{html.escape(description)}">'
            + svg.replace("<svg", '<svg aria-hidden="true" focusable="false"', 1) + "</div>")


def _fmt(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def question_table(results: Sequence, key: Mapping) -> pd.DataFrame:
    """Per question: mean points, share correct, and the most common wrong answers (auto-graded)."""
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


def _analysis_table(stats) -> str:
    head = ("<table><caption>Question analysis</caption><thead><tr><th scope='col'>Question</th>"
            "<th scope='col'>Kind</th><th scope='col' class='num'>Points</th><th scope='col' class='num'>Answers</th>"
            "<th scope='col' class='num'>Facility</th><th scope='col' class='num'>Upper − lower</th>"
            "<th scope='col' class='num'>Point-biserial</th><th scope='col'>Wrong options picked</th>"
            "<th scope='col'>Flags</th></tr></thead><tbody>")
    body = []
    for s in stats:
        options = "; ".join(f"{html.escape(o or '(blank)')}: {n}" for o, n in s.options.items())
        flags = "".join(f"<span class='flag'>{html.escape(f)}</span>" for f in s.flags)
        body.append(f"<tr><th scope='row'>{html.escape(s.qid)}</th><td>{html.escape(s.kind)}</td>"
                    f"<td class='num'>{s.points:g}</td><td class='num'>{s.n}</td>"
                    f"<td class='num'>{_fmt(s.facility)}</td><td class='num'>{_fmt(s.upper_lower)}</td>"
                    f"<td class='num'>{_fmt(s.point_biserial)}</td><td>{options}</td><td>{flags}</td></tr>")
    return head + "".join(body) + "</tbody></table>"


def report_html(results: Sequence, key: Mapping, rows: Sequence | None = None, manual: Mapping | None = None) -> str:
    """The whole report as one HTML string."""
    if rows is None:
        from brbook.grading.outputs import gradebook_rows

        rows = gradebook_rows(results, key, manual)
    title = html.escape(key.get("title", key["exercise"]))
    statuses = Counter(r.status for r in rows)
    stats = question_stats(rows, key)
    parts = ["<!doctype html><html lang='en'><head><meta charset='utf-8'>",
             "<meta name='viewport' content='width=device-width, initial-scale=1'>",
             f"<title>Class report: {title}</title><style>{STYLE}</style></head><body><main>",
             f"<h1>Class report: {title}</h1>",
             f"<p>{len(rows)} rows (submissions and roster students). Status: "
             + ", ".join(f"{html.escape(s)} {n}" for s, n in sorted(statuses.items())) + ". "
             f"Exercise version of the key: {html.escape(str(key.get('version', 'not recorded')))}.</p>"]
    want = str(key.get("version", ""))
    mismatched = [r for r in results if r.status != "unreadable" and want and r.version != want]
    if mismatched:
        parts.append("<p class='note' id='version-mismatch'><strong>Graded across versions.</strong> "
                     f"{len(mismatched)} notebook(s) were built from another version of the exercise than "
                     f"the key ({html.escape(want)}): "
                     + ", ".join(f"{html.escape(r.student)} ({html.escape(r.version or 'none recorded')})"
                                 for r in mismatched)
                     + ". Questions may differ; check these grades by hand.</p>")
    parts += ["<h2 id='questions'>Questions</h2>",
              "<p>Facility is the share of the points the class earned (1 = everyone right). Upper − lower "
              "compares the top and bottom 27% by total score; point-biserial correlates the question with "
              "the rest of the test. A question is flagged as too easy at a facility of at least "
              f"{0.9:g}, too hard at {0.2:g} or below, and not discriminating when upper − lower is under "
              f"{0.2:g}. Written questions count the answers graded by hand so far.</p>",
              _analysis_table(stats)]
    auto = [s for s in stats if s.n]
    if auto:
        frame = pd.DataFrame({"question": [s.qid for s in auto], "facility": [round(s.facility, 2) for s in auto]})
        bars = alt.Chart(frame, title="Facility of each question").mark_bar(color="#0072B2").encode(
            x=alt.X("question:N", title="Question", sort=None),
            y=alt.Y("facility:Q", title="Facility (share of points earned)", scale=alt.Scale(domain=[0, 1])))
        text = "Facility by question: " + "; ".join(f"{s.qid} {s.facility:.2f}" for s in auto) + "."
        parts += ["<figure>", _svg(bars, text), f"<figcaption>{html.escape(text)}</figcaption></figure>"]
    table = question_table(results, key)
    parts += ["<h3>Common wrong answers</h3>",
              table.to_html(index=False, border=0, escape=True).replace('<table class="dataframe">',
                                                                         "<table>")]
    totals = [r.percentage for r in rows if r.result is not None and r.result.status != "unreadable"]
    if totals:
        hist = alt.Chart(pd.DataFrame({"percentage": totals}), title="Distribution of total scores").mark_bar(
            color="#009E73").encode(
            x=alt.X("percentage:Q", bin=alt.Bin(step=10, extent=[0, 100]), title="Total score (%)"),
            y=alt.Y("count():Q", title="Number of students"))
        bins = Counter(min(int(p // 10), 9) for p in totals)
        text = ("Total scores in bins of ten percentage points: "
                + "; ".join(f"{10 * b}–{10 * b + 10}%: {n}" for b, n in sorted(bins.items())) + ".")
        parts += ["<h2 id='totals'>Totals</h2><figure>", _svg(hist, text),
                  f"<figcaption>{html.escape(text)}</figcaption></figure>"]
    parts.append(_students(rows))
    parts.append(_to_look_at(rows, results, key))
    parts.append("</main></body></html>")
    return "".join(parts)


def _students(rows: Sequence) -> str:
    body = []
    for r in rows:
        who = html.escape(r.student) + (f" ({html.escape(r.name)})" if r.name else "")
        link = (f"<a href='feedback/{quote(r.result.student)}.md'>feedback</a>" if r.result is not None else "–")
        body.append(f"<tr><th scope='row'>{who}</th><td class='num'>{r.total:g} / {r.possible:g}</td>"
                    f"<td class='num'>{r.percentage:g}%</td><td>{html.escape(r.status)}</td><td>{link}</td></tr>")
    return ("<h2 id='students'>Students</h2><table><caption>Each student's total and feedback</caption><thead><tr>"
            "<th scope='col'>Student</th><th scope='col' class='num'>Points</th><th scope='col' class='num'>Score</th>"
            "<th scope='col'>Status</th><th scope='col'>Feedback</th></tr></thead><tbody>"
            + "".join(body) + "</tbody></table>")


def _to_look_at(rows: Sequence, results: Sequence, key: Mapping) -> str:
    parts = ["<h2 id='look'>Submissions to look at</h2>"]
    signals = copying_signals(results, key)
    parts.append("<h3>Copying signals</h3><p>Signals, not verdicts: each pair below shares something "
                 "unusual. No grade was changed; read the notebooks before drawing any conclusion.</p>")
    if signals:
        parts.append("<table class='signals'><thead><tr><th scope='col'>Students</th><th scope='col'>Signal</th>"
                     "<th scope='col'>Evidence</th></tr></thead><tbody>" + "".join(
                         f"<tr><td>{html.escape(', '.join(s.students))}</td><td>{html.escape(s.kind)}</td>"
                         f"<td>{html.escape(s.evidence)}</td></tr>" for s in signals) + "</tbody></table>")
    else:
        parts.append("<p>No pair shares rare wrong answers or an identical normalised notebook.</p>")
    problems = [r for r in rows if r.status != "ok" or r.reason]
    if problems:
        parts.append("<h3>Statuses and reasons</h3><table><thead><tr><th scope='col'>Student</th>"
                     "<th scope='col'>Status</th><th scope='col'>Reason</th></tr></thead><tbody>" + "".join(
                         f"<tr><td>{html.escape(r.student)}</td><td>{html.escape(r.status)}</td>"
                         f"<td>{html.escape(r.reason)}</td></tr>" for r in problems) + "</tbody></table>")
    return "".join(parts)
