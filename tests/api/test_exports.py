"""CSV cells a spreadsheet could run as formulas: neutralised on export, restored on reading."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from api.exports import FORMULA_STARTS, iso_time, spreadsheet_safe
from models.exports import unescape_cell

# Texts built to start with the characters that matter, and any text at all.
TEXTS = st.one_of(
    st.tuples(st.sampled_from([*FORMULA_STARTS, "'", "''", "'=", "a"]), st.text()).map("".join),
    st.text(),
)


@given(TEXTS)
def test_no_exported_cell_starts_a_formula_and_reading_restores_the_text(text: str) -> None:
    cell = spreadsheet_safe(text)
    assert not cell.startswith(FORMULA_STARTS)
    assert unescape_cell(cell) == text


def test_examples() -> None:
    assert (
        spreadsheet_safe('=HYPERLINK("http://evil.example")')
        == '\'=HYPERLINK("http://evil.example")'
    )
    assert spreadsheet_safe("-5") == "'-5"
    assert spreadsheet_safe("'Tis the season") == "'Tis the season"
    assert spreadsheet_safe("'=1") == "''=1"
    assert spreadsheet_safe("fine = good") == "fine = good"


def test_times_are_iso_8601_with_their_offset() -> None:
    naive = datetime(2026, 11, 28, 9, 30)  # how SQLite hands back a stored UTC time
    assert iso_time(naive) == "2026-11-28T09:30:00+00:00"
    aware = datetime(2026, 11, 28, 9, 30, tzinfo=timezone(timedelta(hours=2)))
    assert iso_time(aware) == "2026-11-28T09:30:00+02:00"
    assert iso_time(datetime(2026, 1, 1, tzinfo=UTC)).endswith("+00:00")
    assert iso_time(None) == ""
