"""The folders whose files the web server may hand out: output folders only, never the sources.

Gradio serves a file at ``gradio_api/file=<path>`` when the path lies under one of ``allowed_paths``.
The list given to ``launch`` is kept by reference, so a job with a new output folder can be added while
the app runs; a job that saves next to its sources adds nothing, because that would expose the media
folders too. With allowed roots in force, a folder outside them (an output folder a CLI job chose, or
one saved in the settings before the roots were set) is never served.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from webui.access import AllowedRoots


class ServedFolders:
    def __init__(self, folders: list[str | Path] = (), limit: AllowedRoots | None = None) -> None:
        self.roots: list[str] = []
        self._limit = limit
        for folder in folders:
            self.allow(folder)

    def allow(self, folder: str | Path) -> None:
        """Serve ``folder`` from now on, unless it lies outside the allowed roots."""
        if self._limit is not None and not self._limit.contains(folder):
            return
        root = str(Path(folder).expanduser().resolve())
        if root not in self.roots:
            self.roots.append(root)

    def link_for(self, path: str) -> str | None:
        """A URL relative to the page for ``path``, or None when it is not under a served folder."""
        resolved = Path(path).expanduser().resolve()
        if any(resolved.is_relative_to(root) for root in self.roots):
            return "gradio_api/file=" + quote(str(resolved))
        return None
