"""``brbook review RESULTS``: grade written answers in the browser, question by question.

A standard-library HTTP server on 127.0.0.1 (no framework, no database). One page per answer:
the question, its rubric with points, the full answer, the student's text, a points box and a
comment box, and keyboard shortcuts. Students are anonymous ("Submission 4 of 30", in an order
that does not follow their names) unless names are asked for. Every change is posted at once and
written to ``RESULTS/manual.csv`` atomically before the server answers, so a closed tab or a
killed server loses nothing; the gradebook and feedback are rewritten right after, the report a
moment later. Only requests carrying the session token printed at start (kept in a same-site
cookie) are served, and only for the Host it listens on, so another local user or a web page in
the same browser cannot read or change grades.
"""

from __future__ import annotations

import hashlib
import html
import json
import secrets
import threading
from collections.abc import Mapping
from http import HTTPStatus
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, urlparse

from brbook.grading.core import all_graded
from brbook.grading.outputs import read_roster, rewrite, write_report
from brbook.grading.written import read_manual, save_manual

PAGE_STYLE = """
body{font-family:system-ui,sans-serif;max-width:70em;margin:1em auto;padding:0 1em;color:#1a1a1a;line-height:1.5}
header{display:flex;gap:1em;align-items:baseline;flex-wrap:wrap;border-bottom:2px solid #0072B2}
nav a{margin-right:.8em}.answer{white-space:pre-wrap;background:#f6f8fa;border:1px solid #d0d7de;
padding:1em;border-radius:.4em;min-height:4em}.grid{display:grid;grid-template-columns:3fr 2fr;gap:1.5em}
fieldset{border:1px solid #c8c8c8;border-radius:.4em}label{display:block;margin:.3em 0}
textarea{width:100%;min-height:6em}kbd{border:1px solid #999;border-radius:.2em;padding:0 .3em;font-size:.9em}
#status{font-weight:600;color:#1b5e20}.prompt{white-space:pre-wrap}
"""

SCRIPT = """
const form = document.getElementById('grade');
const points = document.getElementById('points');
const comment = document.getElementById('comment');
const status = document.getElementById('status');
const boxes = [...document.querySelectorAll('input[name=rubric]')];
let timer = null;
function rubricSum() { return boxes.filter(b => b.checked).reduce((s, b) => s + Number(b.dataset.points), 0); }
async function save() {
  clearTimeout(timer);
  const body = {student: form.dataset.student, question: form.dataset.question,
    points: points.value === '' ? null : Number(points.value),
    rubric: boxes.filter(b => b.checked).map(b => Number(b.value)), comment: comment.value};
  status.textContent = 'Saving…';
  const r = await fetch('/save', {method: 'POST', headers: {'Content-Type': 'application/json',
    'X-Review-Token': form.dataset.token}, body: JSON.stringify(body)});
  status.textContent = r.ok ? 'Saved ' + new Date().toLocaleTimeString() : 'NOT saved: ' + (await r.text());
  return r.ok;
}
boxes.forEach(b => b.addEventListener('change', () => { points.value = rubricSum(); save(); }));
points.addEventListener('change', save);
comment.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(save, 400); });
comment.addEventListener('blur', save);
async function go(link) { if (link && await save()) location.href = link.href; }
document.addEventListener('keydown', e => {
  const typing = e.target.tagName === 'TEXTAREA' || (e.target.tagName === 'INPUT' && e.target.type === 'number');
  if (e.ctrlKey && e.key === 'Enter') { e.preventDefault(); go(document.getElementById('next')); return; }
  if (typing) { if (e.key === 'Escape') e.target.blur(); return; }
  if (e.key === 'j' || e.key === 'ArrowRight') go(document.getElementById('next'));
  else if (e.key === 'k' || e.key === 'ArrowLeft') go(document.getElementById('prev'));
  else if (e.key === 'c') { e.preventDefault(); comment.focus(); }
  else if (e.key === 'p') { e.preventDefault(); points.focus(); points.select(); }
  else if (e.key === 'n') location.href = document.getElementById('names').href;
  else if (/^[1-9]$/.test(e.key) && boxes[Number(e.key) - 1]) {
    const b = boxes[Number(e.key) - 1]; b.checked = !b.checked; b.dispatchEvent(new Event('change'));
  }
});
"""


class Review:
    """What the pages show: the key's written questions and every gradable submission's answers."""

    def __init__(self, out: Path, key: Mapping):
        self.out, self.key = out, key
        self.token = secrets.token_urlsafe(24)
        self.questions = {m["id"]: m for m in key.get("manual", [])}
        roster_path = out / "roster.csv"
        self.names = {r["id"]: r["name"] for r in read_roster(roster_path)} if roster_path.exists() else {}
        self.reload()
        self._report_timer: threading.Timer | None = None
        self._report_lock = threading.Lock()

    def reload(self) -> None:
        results = [r for r in all_graded(self.out) if r.status != "unreadable"]
        # an order that does not follow names or file order, the same every time for these results
        self.results = sorted(results, key=lambda r: hashlib.sha256(f"brbook|{r.student}".encode()).hexdigest())
        self.by_student = {r.student: r for r in self.results}
        # the page carries an opaque handle, never the student id (often the student's name)
        self.by_handle = {self.handle(r.student): r.student for r in self.results}

    def handle(self, student: str) -> str:
        return hashlib.sha256(f"{self.token}|{student}".encode()).hexdigest()[:16]

    def saved(self, handle: str, question: str, payload: Mapping) -> dict:
        student = self.by_handle.get(handle)
        if question not in self.questions or student is None:
            raise KeyError("no such answer")
        points = payload.get("points")
        possible = float(self.questions[question]["points"])
        if points is not None:
            points = float(points)
            if not 0 <= points <= possible:
                raise ValueError(f"points must be between 0 and {possible:g}")
        rubric = [int(i) for i in payload.get("rubric") or []]
        if any(not 0 <= i < len(self.questions[question].get("rubric", [])) for i in rubric):
            raise ValueError("no such rubric item")
        entry = save_manual(self.out, student, question, points, rubric, str(payload.get("comment") or "")[:5000])
        rewrite(self.out, self.key, report=False, only=student)
        self._schedule_report()
        return entry

    def _schedule_report(self) -> None:
        with self._report_lock:
            if self._report_timer is not None:
                self._report_timer.cancel()
            self._report_timer = threading.Timer(1.0, lambda: write_report(all_graded(self.out), self.key,
                                                                           self.out))
            self._report_timer.daemon = True
            self._report_timer.start()

    # ---- pages ----
    def page(self, question: str, index: int, names: bool) -> str:
        q = self.questions[question]
        total = len(self.results)
        if not total:
            return self._wrap("No answers", "<p>No gradable submission in these results.</p>")
        index = max(0, min(index, total - 1))
        r = self.results[index]
        manual = read_manual(self.out).get((r.student, question), {})
        met = set(manual.get("rubric", []))
        label = f"Submission {index + 1} of {total}"
        who = f"{html.escape(r.student)}" + (f" ({html.escape(self.names[r.student])})" if r.student in self.names
                                             else "")
        shown = f"{label}: {who}" if names else label
        flag = "&names=1" if names else ""
        qnav = " ".join(f"<a href='/q/{quote(m)}?i=0{flag}'" + (" aria-current='page'" if m == question else "")
                        + f">{html.escape(m)}</a>" for m in self.questions)
        graded = sum(1 for s in self.results if (s.student, question) in read_manual(self.out))
        rubric = "".join(
            f"<label><input type='checkbox' name='rubric' value='{i}' data-points='{item['points']:g}'"
            f"{' checked' if i in met else ''}> <kbd>{i + 1}</kbd> {html.escape(item['criterion'])} "
            f"({item['points']:g} pt)</label>" for i, item in enumerate(q.get("rubric", [])))
        value = "" if manual.get("points") is None else f"{manual['points']:g}"
        body = f"""
<header><h1>{html.escape(self.key.get('title', self.key['exercise']))}: {html.escape(question)}</h1>
<nav aria-label="Written questions">{qnav}</nav></header>
<p><strong id="who">{shown}</strong> · {graded} of {total} graded for {html.escape(question)} ·
<a id="names" href="/q/{quote(question)}?i={index}{'' if names else '&names=1'}">{'Hide' if names else 'Show'}
names</a> <kbd>n</kbd></p>
<div class="grid"><section aria-labelledby="answer-h"><h2 id="answer-h">The student's answer</h2>
<div class="answer" id="answer">{html.escape(r.written.get(question, '')) or '<em>(nothing written)</em>'}</div>
<details><summary>The question</summary><div class="prompt">{html.escape(q.get('prompt', ''))}</div></details>
<details><summary>A full answer</summary><p>{html.escape(q.get('full_answer', ''))}</p></details></section>
<section aria-labelledby="grade-h"><h2 id="grade-h">Grade</h2>
<form id="grade" data-student="{self.handle(r.student)}" data-question="{html.escape(question)}"
 data-token="{self.token}" onsubmit="event.preventDefault(); save();">
<fieldset><legend>Rubric ({q['points']:g} points)</legend>{rubric}</fieldset>
<label for="points">Points (0–{q['points']:g}) <kbd>p</kbd></label>
<input id="points" type="number" min="0" max="{q['points']:g}" step="0.5" value="{value}">
<label for="comment">Comment for the student <kbd>c</kbd></label>
<textarea id="comment">{html.escape(manual.get('comment', ''))}</textarea>
<p><button type="submit">Save</button> <span id="status" role="status" aria-live="polite"></span></p></form>
<nav aria-label="Answers"><a id="prev" href="/q/{quote(question)}?i={max(index - 1, 0)}{flag}">← previous
<kbd>k</kbd></a> <a id="next" href="/q/{quote(question)}?i={min(index + 1, total - 1)}{flag}">next
<kbd>j</kbd> →</a></nav>
<p>Keys: <kbd>1</kbd>–<kbd>9</kbd> tick a rubric item, <kbd>j</kbd>/<kbd>k</kbd> next/previous (saving first),
<kbd>Ctrl</kbd>+<kbd>Enter</kbd> save and next, <kbd>Esc</kbd> leave a box. Everything is saved as you go.</p>
</section></div><script>{SCRIPT}</script>"""
        return self._wrap(f"{question}: {label}", body)

    @staticmethod
    def _wrap(title: str, body: str) -> str:
        return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)} · "
                f"brbook review</title><style>{PAGE_STYLE}</style></head><body><main>{body}</main></body></html>")


def make_handler(review: Review, allowed_hosts: set[str]):
    class Handler(BaseHTTPRequestHandler):
        server_version = "brbook-review"

        def log_message(self, *args) -> None:
            pass

        def _send(self, status: int, body: str, kind: str = "text/html; charset=utf-8",
                  headers: Mapping[str, str] | None = None) -> None:
            data = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; "
                                                        "script-src 'unsafe-inline'; connect-src 'self'")
            self.send_header("X-Frame-Options", "DENY")
            self.send_header("Referrer-Policy", "no-referrer")
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def _allowed(self, url) -> bool:
            if self.headers.get("Host", "") not in allowed_hosts:
                return False
            cookie = SimpleCookie(self.headers.get("Cookie", ""))
            if "brbook_review" in cookie and secrets.compare_digest(cookie["brbook_review"].value, review.token):
                return True
            token = parse_qs(url.query).get("token", [""])[0]
            return bool(token) and secrets.compare_digest(token, review.token)

        def do_GET(self) -> None:  # noqa: N802
            url = urlparse(self.path)
            if not self._allowed(url):
                self._send(HTTPStatus.FORBIDDEN, "Open the address `brbook review` printed (it carries the token).",
                           "text/plain; charset=utf-8")
                return
            cookie = {"Set-Cookie": f"brbook_review={review.token}; HttpOnly; SameSite=Strict; Path=/"}
            query = parse_qs(url.query)
            if url.path == "/":
                first = next(iter(review.questions), None)
                if first is None:
                    self._send(HTTPStatus.OK, review._wrap("Nothing to review", "<p>This exercise has no "
                                                           "written questions.</p>"), headers=cookie)
                    return
                self._send(HTTPStatus.SEE_OTHER, "", headers={**cookie, "Location": f"/q/{quote(first)}?i=0"})
                return
            if url.path.startswith("/q/"):
                question = url.path[3:]
                if question not in review.questions:
                    self._send(HTTPStatus.NOT_FOUND, "no such written question", "text/plain; charset=utf-8")
                    return
                try:
                    index = int(query.get("i", ["0"])[0])
                except ValueError:
                    index = 0
                self._send(HTTPStatus.OK, review.page(question, index, query.get("names", [""])[0] == "1"),
                           headers=cookie)
                return
            self._send(HTTPStatus.NOT_FOUND, "not found", "text/plain; charset=utf-8")

        def do_POST(self) -> None:  # noqa: N802
            url = urlparse(self.path)
            token = self.headers.get("X-Review-Token", "")
            if (url.path != "/save" or not self._allowed(url)
                    or not secrets.compare_digest(token, review.token)):
                self._send(HTTPStatus.FORBIDDEN, "forbidden", "text/plain; charset=utf-8")
                return
            try:
                length = int(self.headers.get("Content-Length", "0"))
                if length > 100_000:
                    raise ValueError("too large")
                payload = json.loads(self.rfile.read(length))
                entry = review.saved(str(payload["student"]), str(payload["question"]), payload)
            except (KeyError, ValueError, TypeError) as exc:
                self._send(HTTPStatus.BAD_REQUEST, str(exc), "text/plain; charset=utf-8")
                return
            self._send(HTTPStatus.OK, json.dumps(entry), "application/json")

    return Handler


def serve(out: Path, key: Mapping, host: str = "127.0.0.1", port: int = 8765, open_browser: bool = False) -> None:
    """Serve the review pages until interrupted; first bring the outputs up to date with manual.csv."""
    review = Review(out, key)
    rewrite(out, key)  # a server killed before it rewrote anything: the saved scores reach the outputs now
    server = ThreadingHTTPServer((host, port), None)
    bound = server.server_address[1]
    names = {host, "localhost", "127.0.0.1"}
    server.RequestHandlerClass = make_handler(review, {f"{h}:{bound}" for h in names})
    url = f"http://{'127.0.0.1' if host in ('127.0.0.1', '0.0.0.0') else host}:{bound}/?token={review.token}"
    print(f"review written answers at {url}  (Ctrl+C to stop; every score is saved as you enter it)", flush=True)
    if open_browser:
        import webbrowser

        webbrowser.open(url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
