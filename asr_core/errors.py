"""Errors the pipeline raises on purpose; each carries a message meant for the user."""


class AsrError(Exception):
    """Base of every error the pipeline raises deliberately."""


class MediaError(AsrError):
    """The input file could not be turned into audio."""


class MediaNotFound(MediaError):
    """The file vanished or cannot be opened."""


class NoAudioStream(MediaError):
    """The file is readable but has no audio track (a silent video, an image)."""


class CorruptMedia(MediaError):
    """ffmpeg could not decode the file."""


class ModelLoadError(AsrError):
    """A checkpoint could not be loaded (bad path, missing config.json, out of memory…)."""


class RecognitionError(AsrError):
    """The speech recogniser failed on a clip (out of memory, a bad input shape…)."""


class AlignmentError(AsrError):
    """The forced aligner failed on a clip."""


class OutputError(AsrError):
    """A subtitle file could not be written (read-only folder, disk full…)."""
