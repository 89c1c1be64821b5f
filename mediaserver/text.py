"""Text (pure): titles in comparison form, what the match scoring compares and the catalog searches on
(`models.catalog`'s `search_text`, the `q` of the title lists), so both normalise alike; and the
messages of ffmpeg and ffprobe made fit to store and show."""
from __future__ import annotations

import re
import unicodedata

# Leading articles dropped by normalize_title: English, French, German, Spanish (TMDB titles are
# mostly these; "l'" becomes "l" once punctuation is turned into spaces).
LEADING_ARTICLES = frozenset({"the", "a", "an", "le", "la", "les", "l", "der", "die", "das", "el"})

_ROMAN = {
    "ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7, "viii": 8, "ix": 9, "x": 10,
    "xi": 11, "xii": 12, "xiii": 13, "xiv": 14, "xv": 15, "xvi": 16, "xvii": 17, "xviii": 18,
    "xix": 19, "xx": 20,
}
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
#: The memory address in the prefix of an FFmpeg log line, `[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55b0d4722180]`
#: (libavutil/log.c prints `[%s @ %p] `; glibc prints a null pointer as `(nil)`): it changes with every
#: run and tells a viewer nothing.
_LOG_ADDRESS = re.compile(r" @ (?:0x[0-9a-fA-F]+|\(nil\))(?=\])")


def normalize_title(text: str) -> str:
    """Return a comparison form of a title: "The Fabulous Destiny of Amélie!" -> "fabulous destiny of amelie".

    Casefold; strip accents (NFKD, combining marks dropped); "&" -> "and"; punctuation -> space;
    drop one leading article (see LEADING_ARTICLES) unless it is the only word; roman numerals
    II..XX as whole words -> arabic ("Rocky II" -> "rocky 2"); collapse spaces. "I" is left alone
    (it is usually the pronoun). Both sides of a comparison go through this, so the German "die"
    also dropping from "Die Hard" is harmless.
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    plain = plain.replace("&", " and ")
    words = _NON_WORD.sub(" ", plain).split()
    if len(words) > 1 and words[0] in LEADING_ARTICLES:
        words = words[1:]
    return " ".join(str(_ROMAN[w]) if w in _ROMAN else w for w in words)


#: Characters of a `search_text` column kept (models.catalog, models.music).
SEARCH_CHARS = 1100


def search_form(*texts: str | None) -> str:
    """What a `search_text` column holds: each non-empty text through `normalize_title`, joined by
    " | " (so a `q` never matches across two of them), at most SEARCH_CHARS characters."""
    return " | ".join(normalize_title(t) for t in texts if t)[:SEARCH_CHARS]


def tool_message(text: str) -> str:
    """ffmpeg's or ffprobe's message without the memory addresses of its log prefixes, every other
    word kept: "[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55b0d4722180] moov atom not found" ->
    "[mov,mp4,m4a,3gp,3g2,mj2] moov atom not found"."""
    return _LOG_ADDRESS.sub("", text)
