"""Forecasts of the earlier sources set beside what a later source reports (``data/forecasts.csv``).

The synthesis chapter shows each forecast and the later excerpts side by side and folds the
verdict away, so that a reader weighs the two texts before reading the book's verdict.
"""

from __future__ import annotations

import html

import pandas as pd

from brbook import data as book_data
from brbook.excerpts import show
from brbook.schema import read_raw

VERDICTS = {"held": "Held", "did_not_hold": "Did not hold", "partly": "Held in part",
            "not_reported": "The later source does not say"}
"""The verdicts of ``forecasts.csv`` as a reader sees them."""


def table() -> pd.DataFrame:
    """Every forecast, with its excerpt ids as lists (``forecast_list``, ``outcome_list``)."""
    frame = read_raw(book_data.data_dir() / "forecasts.csv")
    frame["forecast_list"] = frame["forecast_excerpts"].str.split("|")
    frame["outcome_list"] = frame["outcome_excerpts"].str.split("|")
    return frame


class ForecastsTested:
    """The chosen forecasts, each beside the later excerpts that test it, the verdict folded."""

    def __init__(self, rows: pd.DataFrame):
        if rows.empty:
            raise ValueError("no forecast chosen")
        self.rows = rows

    def __repr__(self) -> str:  # the text a notebook stores beside the HTML: the same on every run
        return f"ForecastsTested({', '.join(self.rows['forecast_id'])})"

    @staticmethod
    def _column(title: str, ids: list[str], prefix: str) -> str:
        return (f'<div class="compare-column"><p class="compare-source"><strong>{html.escape(title)}</strong></p>'
                f"{show(*ids, anchor_prefix=prefix)._repr_html_()}</div>")

    def _one(self, row: pd.Series) -> str:
        said_by = html.escape(book_data.cite(row["source_id"]))
        label = f"Forecast by {book_data.cite(row['source_id'])}: {row['forecast']}"
        hedges = ", ".join(f"“{html.escape(h)}”" for h in row["hedge"].split("; ") if h)
        hedge = f' <span class="forecast-hedge">(hedged: {hedges})</span>' if hedges else ""
        ident = row["forecast_id"]
        said = f"The forecast: {book_data.cite(row['source_id'])}"
        columns = (self._column(said, row["forecast_list"], f"{ident}-f-")
                   + self._column("What a later source reports", row["outcome_list"], f"{ident}-o-"))
        return (f'<section class="forecast" data-forecast="{row["forecast_id"]}" data-verdict="{row["verdict"]}" '
                f'aria-label="{html.escape(label)}">'
                f'<p class="forecast-claim">{said_by}: {html.escape(row["forecast"])}{hedge}</p>'
                f'<div class="compare-columns" tabindex="0" role="region" '
                f'aria-label="{html.escape(row["forecast_id"])}: the forecast and the later source side by side">'
                f"{columns}</div>"
                f'<details class="forecast-verdict"><summary>The verdict from the texts</summary>'
                f'<p><strong>{VERDICTS[row["verdict"]]}.</strong> {html.escape(row["reason"])}</p></details></section>')

    def _repr_html_(self) -> str:
        return "".join(self._one(row) for _, row in self.rows.iterrows())


def tested(source_id: str | None = None, forecast_ids: tuple[str, ...] = ()) -> ForecastsTested:
    """Show the forecasts of one source (or the ones named), each beside what a later source reports."""
    rows = table()
    if source_id is not None:
        rows = rows[rows["source_id"] == source_id]
    if forecast_ids:
        rows = rows.set_index("forecast_id", drop=False).loc[list(forecast_ids)]
    return ForecastsTested(rows.reset_index(drop=True))
