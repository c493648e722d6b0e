"""Languages Qwen3-ASR can be forced to, by the canonical names the model uses (kept here so the UI can list
them without importing the model package)."""

from __future__ import annotations

SUPPORTED_LANGUAGES: tuple[str, ...] = (
    "Chinese", "English", "Cantonese", "Arabic", "German", "French", "Spanish", "Portuguese", "Indonesian",
    "Italian", "Korean", "Russian", "Thai", "Vietnamese", "Japanese", "Turkish", "Hindi", "Malay", "Dutch",
    "Swedish", "Danish", "Finnish", "Polish", "Czech", "Filipino", "Persian", "Greek", "Romanian", "Hungarian",
    "Macedonian",
)  # fmt: skip


def normalize_language(name: str | None) -> str | None:
    """``None``/``""``/``"auto"`` mean detect; otherwise the canonical name, or ValueError listing the choices."""
    if name is None or name.strip().lower() in ("", "auto"):
        return None
    canonical = name.strip()[:1].upper() + name.strip()[1:].lower()
    if canonical not in SUPPORTED_LANGUAGES:
        raise ValueError(f"unsupported language {name!r}; choose one of: {', '.join(SUPPORTED_LANGUAGES)}")
    return canonical
