"""brbook.selfcheck: hashes and masks that brbook.js can check, and no answer in plain text."""

from __future__ import annotations

import re

import pytest

from brbook import selfcheck


def test_mask_round_trips_unicode():
    text = "Лукашэнка said “no” — twice, at length " * 3
    assert selfcheck.unmask("salt", "key", selfcheck.mask("salt", "key", text)) == text


def test_mask_depends_on_key():
    assert selfcheck.mask("s", "a", "same text") != selfcheck.mask("s", "b", "same text")


def test_choice_stores_hash_of_right_answer_only():
    check = selfcheck.choice("Which year?", {"2013": "No, earlier.", "2015": "Yes.", "2017": "No."}, "2015")
    assert check.answer_digest == selfcheck.answer_hash(check.salt, "2015")
    assert check.answer_digest != selfcheck.answer_hash(check.salt, "2013")


def test_choice_html_has_no_plain_feedback_or_explanation():
    check = selfcheck.choice("Q?", {"Alpha": "Wrong because of beta.", "Gamma": "Right: delta."}, "Gamma",
                             explanation="Epsilon explains it.")
    page = check._repr_html_()
    for secret in ("Wrong because of beta.", "Right: delta.", "Epsilon explains it."):
        assert secret not in page
    assert 'class="self-check"' in page
    assert "data-correct" not in page


def test_feedback_unmasks_with_the_option_key():
    check = selfcheck.choice("Q?", {"Alpha": "Not alpha.", "Gamma": "Yes, gamma."}, "Gamma")
    masked = dict(check.options)["Alpha"]
    assert selfcheck.unmask(check.salt, "feedback|alpha", masked) == "Not alpha."


def test_number_answer_is_not_in_the_page():
    check = selfcheck.number("How many cadets studied in Russia?", 374, tolerance=1, unit="cadets")
    page = check._repr_html_()
    assert "374" not in page
    assert check.answer_digest == selfcheck.answer_hash(check.salt, "374")


def test_number_grid_accepts_within_tolerance():
    check = selfcheck.number("Share?", 66.7, tolerance=0.5)
    # brbook.js tries floor and ceil of value/step; 66.6 / 0.5 = 133.2 -> 133 or 134
    assert check.answer_digest in {selfcheck.answer_hash(check.salt, k) for k in ("133", "134")}


def test_answer_must_be_an_option():
    with pytest.raises(ValueError):
        selfcheck.choice("Q?", {"a": "", "b": ""}, "c")


def test_normalise_matches_browser_rules():
    assert selfcheck.normalise("  The “Holy  Cow” – Again ") == 'the "holy cow" - again'


def test_ids_are_unique():
    a = selfcheck.choice("Q1?", {"x": "", "y": ""}, "x")
    b = selfcheck.choice("Q2?", {"x": "", "y": ""}, "x")
    assert a.ident != b.ident
    assert len(set(re.findall(r'id="([^"]+)"', a._repr_html_() + b._repr_html_()))) == len(
        re.findall(r'id="([^"]+)"', a._repr_html_() + b._repr_html_()))


def test_options_are_shuffled_the_same_way_on_every_build():
    options = {f"option {n}": f"feedback {n}" for n in range(4)}
    first = [label for label, _ in selfcheck.choice("Same question?", options, "option 0").options]
    again = [label for label, _ in selfcheck.choice("Same question?", options, "option 0").options]
    assert first == again and sorted(first) == sorted(options)
    orders = {tuple(label for label, _ in selfcheck.choice(f"Question {n}?", options, "option 0").options)
              for n in range(20)}
    assert len(orders) > 5, "the order must depend on the question, not be one fixed permutation"


def test_right_option_position_spreads_over_many_questions():
    options = {f"option {n}": "" for n in range(4)}
    places = [[label for label, _ in selfcheck.choice(f"Question {n}?", options, "option 0").options]
              .index("option 0") for n in range(400)]
    assert all(60 <= places.count(k) <= 140 for k in range(4)), [places.count(k) for k in range(4)]


def test_right_feedback_may_not_repeat_the_explanation():
    with pytest.raises(ValueError):
        selfcheck.choice("Q?", {"a": "Because.", "b": "No."}, "a", explanation="Because.")


def test_number_shows_its_working_only_masked():
    working = selfcheck.worked("{before} − {after} = {result} cadets", before=447.0, after=374, result=73.0)
    assert working == "Worked: 447 − 374 = 73 cadets"
    check = selfcheck.number("How many fewer?", 73, tolerance=1, worked=working)
    page = check._repr_html_()
    assert "447" not in page and 'class="self-check-worked" hidden' in page
    assert selfcheck.unmask(check.salt, "worked", check.worked) == working


# ---------- fairness: can the right option be found without reading? ----------

def choice_checks(page_html: str) -> list[tuple[list[str], int]]:
    """Every choice self-check in a page: its option labels in page order, and the right one's index.

    The right option is the one whose salted hash is the box's ``data-answer``, as ``brbook.js`` checks it.
    """
    from bs4 import BeautifulSoup

    found = []
    for box in BeautifulSoup(page_html, "html.parser").select("div.self-check[data-kind=choice]"):
        labels = [radio["value"] for radio in box.select("input[type=radio]")]
        right = [n for n, label in enumerate(labels)
                 if selfcheck.answer_hash(box["data-salt"], selfcheck.normalise(label)) == box["data-answer"]]
        assert len(right) == 1, f"a self-check must have exactly one right option: {labels}"
        found.append((labels, right[0]))
    return found


def fairness(checks: list[tuple[list[str], int]]) -> tuple[float, dict[int, float]]:
    """(share of checks whose right option is the longest, jointly or alone; share with it at each place)."""
    longest = sum(len(labels[right]) >= max(len(label) for label in labels) for labels, right in checks)
    places = {k: sum(right == k for _, right in checks) / len(checks)
              for k in range(max(len(labels) for labels, _ in checks))}
    return longest / len(checks), places


def unfair(n: int) -> str:
    """A page of ``n`` choice self-checks as an author might type them: right option first and longest."""
    boxes = []
    for k in range(n):
        salt = f"salt{k}"
        right = f"The long and carefully qualified right answer number {k}"
        options = [(right, ""), ("Wrong", ""), ("Also wrong", ""), ("No", "")]
        boxes.append(selfcheck.SelfCheck(question=f"Q{k}?", kind="choice", salt=salt, options=options,
                                         answer_digest=selfcheck.answer_hash(salt, selfcheck.normalise(right)))
                     ._repr_html_())
    return "<html><body>" + "".join(boxes) + "</body></html>"


def test_fairness_catches_an_unfair_page():
    longest, places = fairness(choice_checks(unfair(6)))
    assert longest == 1.0 and places[0] == 1.0


def test_fairness_of_shuffled_balanced_checks():
    page = "".join(selfcheck.choice(f"Question {k}?", {"Alpha one": "", "Beta two": "", "Gamma three": "",
                                                          "Delta four": ""}, "Beta two")._repr_html_()
                   for k in range(40))
    longest, places = fairness(choice_checks(page))
    assert longest == 0.0 and max(places.values()) < 0.4


def test_built_book_self_checks_cannot_be_beaten_without_reading(built_html):
    checks = []
    for path in sorted(built_html.rglob("*.html")):
        if "_static" not in path.parts:
            checks += choice_checks(path.read_text(encoding="utf-8"))
    assert len(checks) >= 30, f"only {len(checks)} choice self-checks found in the built book"
    longest, places = fairness(checks)
    detail = f"{len(checks)} checks; right option longest in {longest:.0%}; at each place {places}"
    assert longest <= 1 / 3, detail
    assert max(places.values()) <= 1 / 3, detail


# ---------- disagreements: feedback for every option, said once ----------

def disagreement_row(**extra):
    import pandas as pd

    return pd.Series({"option_list": ["Right reading", "Wrong reading", "Other wrong reading"],
                      "answer": "Right reading", "explanation": "Because of the excerpts.", **extra})


def test_disagreement_feedback_comes_from_option_feedback():
    import json

    from brbook import compare

    given = {"Right reading": "Yes: the brief cites it.", "Wrong reading": "The 2016 paper says otherwise.",
             "Other wrong reading": "That mixes up the speakers."}
    assert compare.option_feedback(disagreement_row(option_feedback=json.dumps(given))) == given


def test_disagreement_without_option_feedback_falls_back_and_never_repeats_the_explanation():
    import math

    from brbook import compare

    feedback = compare.option_feedback(disagreement_row(option_feedback=math.nan))
    assert feedback["Right reading"] == ""  # the explanation, revealed below, says why
    assert "Wrong reading" in feedback["Wrong reading"] and len(set(feedback.values())) == 3


def test_option_feedback_must_cover_every_option():
    import json

    from brbook import compare

    with pytest.raises(ValueError):
        compare.option_feedback(disagreement_row(option_feedback=json.dumps({"Right reading": "Yes."})))


def test_right_feedback_does_not_repeat_the_verdict():
    check = selfcheck.choice("Q?", {"Alpha": "Right: the paper says so.", "Beta": "Right is not this one."}, "Alpha")
    shown = {label: selfcheck.unmask(check.salt, "feedback|" + selfcheck.normalise(label), fb)
             for label, fb in check.options}
    assert shown == {"Alpha": "The paper says so.", "Beta": "Right is not this one."}


# ---------- definitions outside the chapters (issue 20): no answer in a chapter's source ----------

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]


def secrets(item) -> list[str]:
    """What a definition must keep out of the chapters: feedback, explanation, hint and working."""
    texts = [getattr(item, name, "") for name in ("explanation", "hint", "worked")]
    texts += [option.feedback for option in getattr(item, "options", [])]
    return [t for t in texts if len(t) >= 12]


def test_every_chapter_self_check_is_defined_once_and_every_definition_is_shown():
    defined = selfcheck.definitions(ROOT / "exercises" / "selfchecks")
    assert len(defined) >= 35
    selfcheck.check_usage(ROOT)


def test_no_chapter_source_holds_an_answer_or_feedback():
    defined = selfcheck.definitions(ROOT / "exercises" / "selfchecks")
    leaks = []
    for path in sorted((ROOT / "book").rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        rel = path.relative_to(ROOT)
        if re.search(r"""["'](Right|Yes)\s*:""", text):
            leaks.append(f"{rel}: a feedback string starting 'Right:' or 'Yes:'")
        if re.search(r"selfcheck\.(choice|number|which_source)\(", text):
            leaks.append(f"{rel}: a self-check defined in the chapter, not in exercises/selfchecks/")
        flat = re.sub(r"\s+", " ", text)
        for ident, item in defined.items():
            leaks += [f"{rel}: text of {ident}: {secret[:60]!r}" for secret in secrets(item)
                      if re.sub(r"\s+", " ", secret) in flat]
    assert not leaks, "\n".join(leaks)


def test_the_leak_test_would_catch_feedback_pasted_into_a_chapter(tmp_path):
    item = selfcheck.definitions(ROOT / "exercises" / "selfchecks")["military-airbase-reason"]
    pasted = "```{code-cell} ipython3\nselfcheck.show('x')  # " + item.options[1].feedback + "\n```\n"
    assert any(secret in pasted for secret in secrets(item))


def write_definitions(folder, text: str):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "demo.yml").write_text(text, encoding="utf-8")
    return folder


GOOD = """
- id: demo-one
  kind: choice
  question: Which year?
  options:
  - {option: "2013", feedback: "No, earlier."}
  - {option: "2015", feedback: "Right: the paper says so.", right: true}
- id: demo-sum
  kind: number
  question: How many fewer?
  facts: {last: paper2016-f901, now: paper2016-f902}
  answer: last - now
  tolerance: 1
  worked: "{last} − {now} = {answer}"
"""


def test_show_renders_a_definition_as_the_same_self_check(tmp_path, monkeypatch):
    folder = write_definitions(tmp_path / "exercises" / "selfchecks", GOOD)
    monkeypatch.setattr(selfcheck, "definitions_folder", lambda: folder)
    shown = selfcheck.show("demo-one")
    typed = selfcheck.choice("Which year?", {"2013": "No, earlier.", "2015": "Right: the paper says so."}, "2015")
    assert shown.answer_digest == typed.answer_digest and shown.options == typed.options
    number = selfcheck.show("demo-sum")
    from brbook import data

    fall = data.fact_value("paper2016-f901") - data.fact_value("paper2016-f902")
    assert number.answer_digest == selfcheck.answer_hash(number.salt, str(round(fall)))
    assert selfcheck.unmask(number.salt, "worked", number.worked).endswith(f"= {selfcheck.figure(fall)}")
    with pytest.raises(KeyError):
        selfcheck.show("demo-missing")


@pytest.mark.parametrize("broken, message", [
    (GOOD.replace('feedback: "No, earlier."}', 'feedback: "No, earlier.", right: true}'), "exactly one option"),
    (GOOD.replace("kind: number", "kind: numeral"), "kind"),
    (GOOD.replace("answer: last - now", "answer: last - now\n  colour: red"), "colour"),
    (GOOD.replace("id: demo-one", "id: other-one"), "must start with"),
    (GOOD.replace("id: demo-sum", "id: demo-one"), "defined twice"),
])
def test_a_bad_definition_file_fails(tmp_path, broken, message):
    folder = write_definitions(tmp_path / "selfchecks", broken)
    with pytest.raises(ValueError, match=message):
        selfcheck.definitions(folder)


def test_check_usage_fails_on_an_unknown_id_and_on_an_unused_definition(tmp_path):
    write_definitions(tmp_path / "exercises" / "selfchecks", GOOD)
    chapter = tmp_path / "book" / "demo" / "index.md"
    chapter.parent.mkdir(parents=True)
    chapter.write_text('selfcheck.show("demo-one")\nselfcheck.show("demo-sum")\n', encoding="utf-8")
    selfcheck.check_usage(tmp_path)
    chapter.write_text('selfcheck.show("demo-one")\nselfcheck.show("demo-typo")\n', encoding="utf-8")
    with pytest.raises(ValueError) as error:
        selfcheck.check_usage(tmp_path)
    assert "demo-typo: shown in" in str(error.value) and "demo-sum: defined in" in str(error.value)


@pytest.mark.parametrize("expression", ["__import__('os').system('true')", "open('x')", "a.b", "[1][0]"])
def test_expressions_allow_only_arithmetic(expression):
    with pytest.raises(ValueError):
        selfcheck._evaluate(expression, {"a": 1})


def test_timeline_right_option_is_the_source_that_loses_most_events():
    """The definition fixes the right option; the data decide it, so a data change must show here."""
    from brbook import data

    events = data.events()
    lost = events[events["date_basis"] != "stated"].groupby("source_id").size()
    item = selfcheck.definitions(ROOT / "exercises" / "selfchecks")["timeline-most-undated"]
    right = next(option for option in item.options if option.right)
    assert f"{{lost[{lost.idxmax()}]}}" in right.feedback
