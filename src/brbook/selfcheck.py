"""Self-check questions that answer instantly in the static book, without giving the answer away.

The page carries only a salted SHA-256 hash of the normalised right answer;
``_static/brbook.js`` hashes the reader's answer the same way and compares.
Feedback and explanations are masked (XOR with a SHA-256 keystream) so that
reading the page source does not reveal which option is right. This hides the
answer from a glance at the source, not from a determined reader: it is a
self-check, not an exam.

Options are shown in a fixed shuffle (seeded by the question's text), so the right
option's place tells a reader nothing and a rebuild shows the same order.
"""

from __future__ import annotations

import base64
import hashlib
import html
import math
import random
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import count

from brbook import data as book_data

_ids = count(1)


def normalise(text: str) -> str:
    """The same normalisation as ``brbook.js``: case, typographic quotes and dashes, spaces."""
    text = unicodedata.normalize("NFC", str(text)).lower()
    text = text.translate(str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-"}))
    return re.sub(r"\s+", " ", text).strip()


def answer_hash(salt: str, answer: str) -> str:
    """Hex SHA-256 of ``salt|answer``: what the page stores instead of the answer."""
    return hashlib.sha256(f"{salt}|{answer}".encode()).hexdigest()


def _keystream_xor(salt: str, key: str, data: bytes) -> bytes:
    stream = b""
    block = 0
    while len(stream) < len(data):
        stream += hashlib.sha256(f"{salt}|{key}|{block}".encode()).digest()
        block += 1
    return bytes(a ^ b for a, b in zip(data, stream, strict=False))


def mask(salt: str, key: str, text: str) -> str:
    """Hide ``text`` from the page source; ``brbook.js`` reverses it with the same salt and key."""
    return base64.b64encode(_keystream_xor(salt, key, text.encode())).decode()


def unmask(salt: str, key: str, encoded: str) -> str:
    """Inverse of :func:`mask` (used by tests and the instructor edition)."""
    return _keystream_xor(salt, key, base64.b64decode(encoded)).decode()


def _salt(question: str) -> str:
    return hashlib.sha256(("brbook-self-check|" + question).encode()).hexdigest()[:16]


ORDER_SEED = "brbook-order-31"
"""Part of every shuffle's seed: one fixed value for the whole book, so an order never changes between builds.

Any value gives a fair shuffle; this one spreads the right options of the book's current self-checks
evenly over the positions (no position above a quarter). If new questions push a position above a
third, ``test_built_book_self_checks_cannot_be_beaten_without_reading`` fails: try other values.
"""


def shuffled(question: str, labels: Sequence[str]) -> list[str]:
    """``labels`` in a fixed pseudo-random order that depends only on the question and the labels.

    The order an author typed (often the right answer first) must not show on the page.
    """
    seed = hashlib.sha256(f"{ORDER_SEED}|{question}|{'|'.join(sorted(labels))}".encode()).digest()
    order = list(labels)
    random.Random(int.from_bytes(seed, "big")).shuffle(order)
    return order


@dataclass
class SelfCheck:
    """A question rendered as a ``<div class="self-check">`` that ``brbook.js`` brings to life."""

    question: str
    kind: str  # "choice" or "number"
    answer_digest: str
    salt: str
    options: Sequence[tuple[str, str]] = ()  # (label, masked feedback)
    explanation: str = ""
    worked: str = ""  # masked; a number self-check shows it once answered right
    step: float = 1.0
    unit: str = ""
    hint: str = ""
    tries: int = 3
    ident: str = field(default_factory=lambda: f"self-check-{next(_ids)}")

    def _repr_html_(self) -> str:
        q_id = f"{self.ident}-q"
        parts = [
            f'<div class="self-check" id="{self.ident}" data-kind="{self.kind}" data-salt="{self.salt}" '
            f'data-answer="{self.answer_digest}" data-tries="{self.tries}"'
            + (f' data-step="{self.step}" data-hint="{self.hint}"' if self.kind == "number" else "")
            + f' role="group" aria-labelledby="{q_id}">',
            f'<p class="self-check-question" id="{q_id}"><span class="self-check-label">Self-check</span> '
            f"{html.escape(self.question)}</p>",
        ]
        if self.kind == "choice":
            parts.append(f'<fieldset><legend class="visually-hidden">Options for: {html.escape(self.question)}'
                         "</legend>")
            for n, (label, feedback) in enumerate(self.options):
                opt_id = f"{self.ident}-o{n}"
                parts.append(
                    f'<div class="self-check-option"><input type="radio" name="{self.ident}" id="{opt_id}" '
                    f'value="{html.escape(label)}" data-feedback="{feedback}">'
                    f'<label for="{opt_id}">{html.escape(label)}</label></div>')
            parts.append("</fieldset>")
        else:
            unit = f' <span class="self-check-unit">{html.escape(self.unit)}</span>' if self.unit else ""
            parts.append(f'<label class="self-check-number" for="{self.ident}-n">Your answer</label> '
                         f'<input type="text" inputmode="decimal" id="{self.ident}-n" autocomplete="off">{unit}')
        parts.append('<button type="button" class="self-check-submit">Check</button>')
        parts.append('<p class="self-check-feedback" role="status" aria-live="polite"></p>')
        if self.worked:
            parts.append(f'<p class="self-check-worked" hidden data-masked="{self.worked}"></p>')
        if self.explanation:
            parts.append(f'<p class="self-check-explanation" hidden data-masked="{self.explanation}"></p>')
        parts.append("</div>")
        return "".join(parts)


def _without_verdict(feedback: str) -> str:
    """The right option's feedback without a leading "Right:" or "Yes:": the page already says "Correct."."""
    rest = re.sub(r"^\s*(?:Right|Yes|Correct)\s*[:.,]\s*", "", feedback)
    return rest[:1].upper() + rest[1:] if rest != feedback else feedback


def choice(question: str, options: Mapping[str, str], answer: str, explanation: str = "") -> SelfCheck:
    """A multiple-choice self-check.

    Args:
        question: the question as shown.
        options: each option's label mapped to the feedback shown when it is chosen; they are
            shown in the fixed shuffle of :func:`shuffled`, not in this order.
        answer: the label of the right option.
        explanation: shown after a right answer or after three tries.
    """
    if answer not in options:
        raise ValueError(f"the answer {answer!r} is not one of the options")
    if len({normalise(label) for label in options}) != len(options):
        raise ValueError("two options are the same once normalised")
    if explanation and normalise(options[answer]) == normalise(explanation):
        raise ValueError("the right option's feedback repeats the explanation: the reader would see it twice")
    options = {**options, answer: _without_verdict(options[answer])}
    salt = _salt(question)
    masked = [(label, mask(salt, "feedback|" + normalise(label), options[label]))
              for label in shuffled(question, list(options))]
    return SelfCheck(question=question, kind="choice", salt=salt, options=masked,
                     answer_digest=answer_hash(salt, normalise(answer)),
                     explanation=mask(salt, "explain", explanation) if explanation else "")


def number(question: str, answer: float, tolerance: float, unit: str = "", hint: str = "",
           explanation: str = "", worked: str = "") -> SelfCheck:
    """A numeric self-check: an answer within ``tolerance`` of ``answer`` counts as right.

    The page stores the hash of ``round(answer / tolerance)``; the browser accepts an
    input whose floor or ceiling on that grid matches, i.e. within one grid step.
    ``worked`` (build it with :func:`worked`, from the data) is shown only once the
    reader's answer is right, so the sum that gives the answer is not a give-away.
    """
    if tolerance <= 0:
        raise ValueError("tolerance must be positive")
    salt = _salt(question)
    key = str(math.floor(answer / tolerance + 0.5))
    return SelfCheck(question=question, kind="number", salt=salt, answer_digest=answer_hash(salt, key),
                     step=tolerance, unit=unit, hint=mask(salt, "hint", hint or "Check the figure again."),
                     explanation=mask(salt, "explain", explanation) if explanation else "",
                     worked=mask(salt, "worked", worked) if worked else "")


def figure(value: float) -> str:
    """A figure for a worked sum: whole numbers without ``.0``, others to at most two decimals."""
    value = round(float(value), 2)
    return str(int(value)) if value.is_integer() else f"{value:.2f}".rstrip("0")


def worked(expression: str, **values: float) -> str:
    """The working of a number self-check, with every figure taken from the data, e.g.

    ``worked("{before} − {after} = {result} cadets", before=447, after=374, result=73)``
    gives "Worked: 447 − 374 = 73 cadets".
    """
    return "Worked: " + expression.format(**{k: figure(v) for k, v in values.items()})


def which_source(excerpt_id: str, explanation: str = "") -> SelfCheck:
    """"Which source said this?" for one excerpt, with the five sources as options."""
    table = book_data.excerpts()
    row = table.set_index("excerpt_id").loc[excerpt_id]
    sources = book_data.sources()
    labels = {sid: f"{book_data.cite(sid)}, {kind}" for sid, kind in zip(sources["source_id"], sources["kind"],
                                                                         strict=True)}
    right = labels[row["source_id"]]
    options = {}
    for sid, label in labels.items():
        if sid == row["source_id"]:
            options[label] = f"Yes: it comes from the section “{row['section']}”."
        else:
            other = sources.set_index("source_id").loc[sid]
            when = (book_data.date_label(other["first"]) if other["first"] == other["last"] else
                    f"{book_data.date_label(other['first'])} to {book_data.date_label(other['last'])}")
            options[label] = (f"Not that one: the {other['kind']} is from {when}, as this book dates it. Compare "
                              "that date, its subject and its point of view with the passage.")
    text = row["text"] if len(row["text"]) < 400 else row["text"][:397] + "…"
    return choice(f"Which source says this? “{text}”", options, right, explanation)


# ---------- definitions kept outside the chapters ----------
#
# A chapter's text must not show a self-check's answer or feedback (a student may open the ``.md``
# source, and JupyterLab shows every cell's source). So each self-check is defined once in
# ``exercises/selfchecks/<chapter>.yml`` (kept out of the class folder and the student bundle), and the
# chapter's cell is ``selfcheck.show("<id>")``. The files are validated with pydantic when first read;
# :func:`check_usage` fails the build on an id a chapter shows but no file defines, or the reverse.

SHOW = re.compile(r"""selfcheck\.show\(\s*["']([a-z0-9-]+)["']""")
"""A chapter cell that shows a self-check, as :func:`check_usage` finds it."""


def _definition_models():
    """The pydantic models of a definition file (built on first use: pydantic is slow to import)."""
    from typing import Annotated, Literal

    from pydantic import BaseModel, ConfigDict, Field, RootModel, model_validator

    ident = Annotated[str, Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)+$")]
    text = Annotated[str, Field(min_length=1)]

    class Base(BaseModel):
        model_config = ConfigDict(extra="forbid", frozen=True)
        id: ident

    class Option(BaseModel):
        model_config = ConfigDict(extra="forbid", frozen=True)
        option: text
        feedback: str = ""
        right: bool = False

    class Choice(Base):
        """``choice``: see :func:`choice`. With values passed to :func:`show`, texts are format templates."""
        kind: Literal["choice"]
        question: text
        options: list[Option] = Field(min_length=2)
        explanation: str = ""

        @model_validator(mode="after")
        def _one_right_option(self):
            if sum(o.right for o in self.options) != 1:
                raise ValueError(f"{self.id}: exactly one option must have `right: true`")
            if len({o.option for o in self.options}) != len(self.options):
                raise ValueError(f"{self.id}: two options are the same")
            return self

    class Number(Base):
        """``number``: see :func:`number`. ``answer`` and ``values`` are arithmetic over the named facts."""
        kind: Literal["number"]
        question: text
        facts: dict[Annotated[str, Field(pattern=r"^[a-z_]+$")],
                    Annotated[str, Field(pattern=r"^[a-z0-9_]+-f\d{3}$")]] = {}
        values: dict[Annotated[str, Field(pattern=r"^[a-z_]+$")], text] = {}
        answer: text
        tolerance: int | float = Field(gt=0)  # kept as typed: the page shows 1, not 1.0
        unit: str = ""
        hint: str = ""
        worked: str = ""
        explanation: str = ""

    class WhichSource(Base):
        """``which_source``: "Which source says this?" for one excerpt (:func:`which_source`)."""
        kind: Literal["which_source"]
        excerpt: Annotated[str, Field(pattern=r"^[a-z0-9_]+-x\d{3}$")]
        explanation: str = ""

    definition = Annotated[Choice | Number | WhichSource, Field(discriminator="kind")]

    class File(RootModel[list[definition]]):
        pass

    return File


def definitions_folder():
    """``exercises/selfchecks/`` in the repository (never copied to the class folder or the bundle)."""
    from brbook.layout import ROOT

    return ROOT / "exercises" / "selfchecks"


_loaded: dict[str, object] = {}


def definitions(folder=None) -> dict[str, object]:
    """Every self-check definition, by id, validated; a bad file, a duplicate or a misplaced id raises."""
    from pathlib import Path

    import yaml

    folder = Path(folder) if folder is not None else definitions_folder()
    if folder in _loaded:
        return _loaded[folder]
    model = _definition_models()
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's, where PyYAML has it: ~0.1 s a page
    found: dict[str, object] = {}
    for path in sorted(folder.glob("*.yml")):
        try:
            items = model.model_validate(yaml.load(path.read_text(encoding="utf-8"), Loader=loader) or []).root
        except Exception as error:
            raise ValueError(f"{path}: {error}") from error
        for item in items:
            if not item.id.startswith(path.stem + "-"):
                raise ValueError(f"{path}: the id {item.id!r} must start with {path.stem + '-'!r}")
            if item.id in found:
                raise ValueError(f"{path}: the id {item.id!r} is defined twice")
            found[item.id] = item
    _loaded[folder] = found
    return found


def _evaluate(expression: str, names: Mapping[str, object]):
    """Arithmetic (``+ - * /``, ``round``, ``len``, ``abs``) over named values; nothing else runs."""
    import ast
    import operator

    binary = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}
    calls = {"round": round, "len": len, "abs": abs}

    def walk(node):
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return node.value
        if isinstance(node, ast.Name) and node.id in names:
            return names[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in binary:
            return binary[type(node.op)](walk(node.left), walk(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -walk(node.operand)
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in calls
                and not node.keywords):
            return calls[node.func.id](*(walk(arg) for arg in node.args))
        raise ValueError(f"not allowed in a self-check expression: {ast.unparse(node)!r} in {expression!r}")

    return walk(ast.parse(expression, mode="eval"))


def _shown(value) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return figure(value) if isinstance(value, int | float) and not isinstance(value, bool) else str(value)


def show(ident: str, **values) -> SelfCheck:
    """The self-check defined under ``ident`` in ``exercises/selfchecks/``, rendered for the page.

    Args:
        ident: its id, e.g. ``"military-airbase-reason"``; an unknown id raises ``KeyError``.
        values: figures the chapter computed from the data (a count, a list of names). A choice's
            question, labels, feedback and explanation are then format templates over them; a number's
            ``answer`` and ``values`` may name them, and its ``worked`` template always may.
    """
    found = definitions()
    if ident not in found:
        raise KeyError(f"no self-check {ident!r} in {definitions_folder()}")
    item = found[ident]
    if item.kind == "which_source":
        return which_source(item.excerpt, item.explanation)
    if item.kind == "choice":
        def fill(text: str) -> str:
            return text.format(**values) if values else text
        right = next(o.option for o in item.options if o.right)
        return choice(fill(item.question), {fill(o.option): fill(o.feedback) for o in item.options},
                      fill(right), fill(item.explanation))
    names: dict[str, object] = {name: book_data.fact_value(fact) for name, fact in item.facts.items()}
    names.update(values)
    for name, expression in item.values.items():
        names[name] = _evaluate(expression, names)
    names["answer"] = _evaluate(item.answer, names)
    work = "Worked: " + item.worked.format(**{k: _shown(v) for k, v in names.items()}) if item.worked else ""
    return number(item.question, names["answer"], item.tolerance, unit=item.unit, hint=item.hint,
                  explanation=item.explanation, worked=work)


def check_usage(root) -> None:
    """Fail (``ValueError``) when a chapter shows an undefined self-check or a definition is shown nowhere."""
    from pathlib import Path

    root = Path(root)
    defined = set(definitions(root / "exercises" / "selfchecks"))
    shown: dict[str, list[str]] = {}
    for path in sorted((root / "book").rglob("*.md")):
        for ident in SHOW.findall(path.read_text(encoding="utf-8")):
            shown.setdefault(ident, []).append(str(path.relative_to(root)))
    problems = [f"{ident}: shown in {', '.join(where)} but defined in no file of exercises/selfchecks/"
                for ident, where in sorted(shown.items()) if ident not in defined]
    problems += [f"{ident}: defined in exercises/selfchecks/ but shown by no chapter"
                 for ident in sorted(defined - set(shown))]
    problems += [f"{ident}: shown more than once ({', '.join(where)})"
                 for ident, where in sorted(shown.items()) if len(where) > 1]
    if problems:
        raise ValueError("self-check definitions and chapters disagree:\n" + "\n".join(problems))
