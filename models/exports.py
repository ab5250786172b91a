"""Reading the moderation service's CSV exports (`decisions.csv`) back as the texts it stored."""

from __future__ import annotations

# The service writes a cell that a spreadsheet would run as a formula (starting with
# = + - @ tab or carriage return), or that starts with a quote before one of those or
# before another quote, with one more quote in front (api.exports.spreadsheet_safe).
_ESCAPED_AFTER = ("=", "+", "-", "@", "\t", "\r", "'")


def unescape_cell(cell: str) -> str:
    """The text as stored: the one quote a `decisions.csv` export put in front is removed."""
    if cell.startswith("'") and cell[1:2] and cell[1] in _ESCAPED_AFTER:
        return cell[1:]
    return cell
