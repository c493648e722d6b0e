"""Who may use the WebUI and which server folders it may read media from and write subtitles to.

A page reachable from the LAN lets anyone who can open it type any path. The allowed roots keep that to
the media and output folders: every path is resolved (``..`` and symbolic links followed, as the worker
would) before it is compared, so ``/output/../etc`` or a link inside ``/music`` pointing at ``/etc`` is
refused like ``/etc`` itself.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from worker.settings import Settings

# Folders a container is usually given for media; each one is a default root only where it exists.
MEDIA_MOUNTS = ("/data", "/output", "/media", "/music", "/input", "/videos")
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class PathRefused(ValueError):
    """A path outside the allowed roots; the message is shown to the user as is."""


def real(path: str | Path) -> Path:
    """The path the file system will actually use: ``~`` expanded, ``..`` and every link resolved."""
    return Path(os.path.realpath(Path(path).expanduser()))


@dataclass(frozen=True)
class AllowedRoots:
    """Folders (already resolved) under which the WebUI may read and write."""

    roots: tuple[Path, ...]

    @classmethod
    def of(cls, folders: Iterable[str | Path]) -> AllowedRoots:
        return cls(tuple(dict.fromkeys(real(folder) for folder in folders)))

    def contains(self, path: str | Path) -> bool:
        resolved = real(path)
        return any(resolved.is_relative_to(root) for root in self.roots)

    def check(self, path: str | Path, role: str) -> Path:
        """``path`` as given when it resolves inside a root; PathRefused naming the roots otherwise."""
        if self.contains(path):
            return Path(path)
        where = ", ".join(str(root) for root in self.roots) or "none are configured"
        raise PathRefused(
            f"The {role} {path} is outside the folders this server allows ({where}). "
            "Choose a folder inside one of them, or ask the administrator to add it to ALLOWED_ROOTS."
        )


def default_roots(settings: Settings, cwd: Path, exists: Callable[[Path], bool] = Path.is_dir) -> tuple[Path, ...]:
    """The data and output folders, the usual media mounts that exist, and the folder the app runs in."""
    mounts = [Path(mount) for mount in MEDIA_MOUNTS if exists(Path(mount))]
    return (settings.data_dir, settings.output_dir, *mounts, cwd)


def is_loopback(host: str | None) -> bool:
    return (host or "127.0.0.1") in LOOPBACK_HOSTS


def restrict_for_host(settings: Settings, host: str | None, cwd: Path) -> Settings:
    """Settings with the allowed roots in force for a server listening on ``host``.

    ALLOWED_ROOTS, when set, always applies. Without it, a server reachable from other machines is limited
    to the default roots, while one on the loopback address (only its own user can open it, and that user
    can read the disk anyway) is not limited.
    """
    if settings.allowed_roots is not None or is_loopback(host):
        return settings
    return replace(settings, allowed_roots=default_roots(settings, cwd))


def allowed_roots(settings: Settings) -> AllowedRoots | None:
    """The roots to enforce; None when every folder may be used."""
    return None if settings.allowed_roots is None else AllowedRoots.of(settings.allowed_roots)


def gradio_auth(settings: Settings) -> tuple[str, str] | None:
    """The login Gradio asks for: both WEBUI_USERNAME and WEBUI_PASSWORD set, else no login."""
    if settings.webui_username and settings.webui_password:
        return settings.webui_username, settings.webui_password
    return None
