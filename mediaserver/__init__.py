"""mediaserver: catalog a media library, pre-transcode it to HLS, play it in the browser.

`create_app(config)` builds the Flask app (`factory.py`). Importing the package imports nothing but the
standard library: the pure modules are imported, and unit-tested, on their own. ARCHITECTURE.md shows
how the package is laid out.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .factory import MediaServer


def create_app(config: dict[str, Any] | None = None, web: bool | None = None) -> MediaServer:
    """The application factory: `factory.create_app` (its docstring has the arguments and errors)."""
    from .factory import create_app as build

    return build(config, web)
