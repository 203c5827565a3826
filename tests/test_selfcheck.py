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
