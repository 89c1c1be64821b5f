"""Parse the ratios ffprobe prints: frame rates (`"30000/1001"`) and aspect ratios (`"64:45"`). Pure."""
from __future__ import annotations

from fractions import Fraction


def parse_ratio(text: str | None, sep: str = "/") -> Fraction | None:
    """`"30000/1001"` -> Fraction(30000, 1001). None for missing, malformed, zero or negative parts
    (ffprobe prints `0/0` and `0:1` for "unknown")."""
    if not text or sep not in text:
        return None
    num, _, den = text.partition(sep)
    try:
        n, d = int(num), int(den)
    except ValueError:
        return None
    if n <= 0 or d <= 0:
        return None
    return Fraction(n, d)
