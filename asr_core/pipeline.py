"""One file from start to finish: decode, find speech, recognise and align, build cues, write subtitles.

Every expected failure of a single file becomes a ``FileResult`` so that a batch never stops on one bad
input; only programming errors propagate.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Protocol

import numpy as np

from asr_core import media
from asr_core.cues import build_cues
from asr_core.errors import AsrError, NoAudioStream
from asr_core.hallucination import collapse_repeats, drop_words_outside_speech
from asr_core.options import PipelineOptions
from asr_core.punctuate import attach_punctuation
from asr_core.quality import assess
from asr_core.types import SAMPLE_RATE, Audio, Recognition, SpeechSpan, Transcript, Word
from asr_core.writers import SubtitleDocument, write_subtitles

logger = logging.getLogger(__name__)

# Below -60 dBFS peak there is nothing a recogniser could hear; skipping it avoids invented text.
SILENCE_PEAK = 10 ** (-60 / 20)

ProgressCallback = Callable[[str, float], None]


class FileStatus(str, enum.Enum):
    DONE = "done"
    EMPTY = "empty"
    SKIPPED = "skipped"
    FAILED = "failed"


@dataclass(frozen=True)
class FileResult:
    """What happened to one input file; ``reason`` is shown to the user for every status but done."""

    source: Path
    status: FileStatus
    reason: str = ""
    outputs: tuple[Path, ...] = ()
    duration_s: float = 0.0
    language: str = ""
    cue_count: int = 0
    quality: dict[str, object] = field(default_factory=dict)


class Recogniser(Protocol):
    def recognise(
        self, clips: Sequence[np.ndarray], on_stage: Callable[[str], None] | None = None
    ) -> list[Recognition]: ...


class SpeechFinder(Protocol):
    def detect(self, audio: Audio) -> list[SpeechSpan]: ...


def speech_spans(audio: Audio, vad: SpeechFinder | None) -> list[SpeechSpan]:
    """The parts of the file worth transcribing: VAD spans, or the whole file when VAD is off."""
    if audio.duration_s == 0 or _peak(audio.samples) < SILENCE_PEAK:
        return []
    if vad is None:
        return [SpeechSpan(0.0, audio.duration_s)]
    return vad.detect(audio)


def _peak(samples: np.ndarray) -> float:
    """The largest absolute sample without ``np.abs``'s full-size temporary copy (hours of audio)."""
    return float(max(np.max(samples), -np.min(samples)))


def words_on_timeline(spans: Sequence[SpeechSpan], recognitions: Sequence[Recognition]) -> list[Word]:
    """Re-attach punctuation per span and move word times from span-relative to file time."""
    words: list[Word] = []
    for span, recognition in zip(spans, recognitions, strict=True):
        for word in attach_punctuation(recognition.text, recognition.units):
            words.append(replace(word, start_s=word.start_s + span.start_s, end_s=word.end_s + span.start_s))
    return words


def dominant_language(recognitions: Sequence[Recognition]) -> str:
    """The language that produced the most text, so one preset fits the whole file."""
    weight: dict[str, int] = {}
    for recognition in recognitions:
        for language in filter(None, recognition.language.split(",")):
            weight[language] = weight.get(language, 0) + len(recognition.text)
    return max(weight, key=lambda lang: weight[lang]) if weight else ""


def transcribe(
    audio: Audio,
    spans: Sequence[SpeechSpan],
    engine: Recogniser,
    on_progress: ProgressCallback,
    *,
    vad_used: bool,
) -> Transcript:
    """Recognise the spans and return the file's words on its own timeline, minus invented repeats and,
    when VAD ran, minus words placed where it heard no speech."""
    clips = [audio.samples[int(s.start_s * SAMPLE_RATE) : int(s.end_s * SAMPLE_RATE)] for s in spans]
    recognitions = engine.recognise(clips, on_stage=lambda stage: on_progress(stage, 0.0))
    words = collapse_repeats(words_on_timeline(spans, recognitions))
    if vad_used:
        words = drop_words_outside_speech(words, spans)
    text = "".join(w.text for w in words).strip()
    return Transcript(language=dominant_language(recognitions), text=text, words=tuple(words))


@dataclass(frozen=True, eq=False)
class PreparedFile:
    """A file decoded and searched for speech, waiting for the recogniser.

    Decoding and VAD need no model time, so a batch prepares the next files while the current one is
    recognised. ``spans`` is empty when there is nothing to recognise; ``reason`` then says why.
    """

    source: Path
    audio: Audio
    spans: tuple[SpeechSpan, ...]
    vad_used: bool
    reason: str = ""


def prepare_file(
    source: Path,
    *,
    ffmpeg: str,
    vad: SpeechFinder | None = None,
    on_progress: ProgressCallback = lambda stage, fraction: None,
) -> PreparedFile | FileResult:
    """Decode ``source`` and find its speech; a FileResult (failed) when the file cannot be decoded.

    Writes nothing, so it can run ahead of the file's turn without touching its outputs.
    """
    try:
        on_progress("decoding", 0.0)
        try:
            audio = media.decode(source, ffmpeg)
        except NoAudioStream as exc:
            return PreparedFile(source, Audio(np.zeros(0, dtype=np.float32)), (), vad is not None, reason=str(exc))
        on_progress("vad", 0.0)
        spans = tuple(speech_spans(audio, vad))
        return PreparedFile(source, audio, spans, vad is not None, reason="" if spans else "no speech found")
    except AsrError as exc:
        return _failed(source, exc)


def finish_file(
    prepared: PreparedFile,
    output_base: Path,
    options: PipelineOptions,
    *,
    engine: Recogniser,
    ffmpeg: str,
    on_progress: ProgressCallback = lambda stage, fraction: None,
) -> FileResult:
    """Recognise a prepared file, build its cues and write every format at ``output_base``."""
    source, audio = prepared.source, prepared.audio
    try:
        if not prepared.spans:
            return _write(source, output_base, options, Transcript("", ""), audio.duration_s, reason=prepared.reason)
        transcript = transcribe(audio, prepared.spans, engine, on_progress, vad_used=prepared.vad_used)
        return _write(
            source,
            output_base,
            options,
            transcript,
            audio.duration_s,
            reason="" if transcript.words else "no text recognised",
            speech_s=sum(span.duration_s for span in prepared.spans),
            tags=_header_tags(source, ffmpeg, options),
        )
    except AsrError as exc:
        return _failed(source, exc)


def process_file(
    source: Path,
    output_base: Path,
    options: PipelineOptions,
    *,
    engine: Recogniser,
    ffmpeg: str,
    vad: SpeechFinder | None = None,
    on_progress: ProgressCallback = lambda stage, fraction: None,
) -> FileResult:
    """Turn ``source`` into subtitle files at ``output_base`` + each format's extension."""
    prepared = prepare_file(source, ffmpeg=ffmpeg, vad=vad, on_progress=on_progress)
    if isinstance(prepared, FileResult):
        return prepared
    return finish_file(prepared, output_base, options, engine=engine, ffmpeg=ffmpeg, on_progress=on_progress)


def _failed(source: Path, exc: AsrError) -> FileResult:
    logger.warning("%s: %s", source, exc)
    return FileResult(source=source, status=FileStatus.FAILED, reason=str(exc))


def _write(
    source: Path,
    output_base: Path,
    options: PipelineOptions,
    transcript: Transcript,
    duration_s: float,
    *,
    reason: str,
    speech_s: float = 0.0,
    tags: Mapping[str, str] | None = None,
) -> FileResult:
    """Build cues and write every format; an empty transcript still gives valid (empty) files."""
    cues = build_cues(transcript.words, language=transcript.language, options=options.cues, duration_s=duration_s)
    document = SubtitleDocument(
        cues=tuple(cues), duration_s=duration_s, language=transcript.language, tags=tags or {}, options=options.writer
    )
    outputs = write_subtitles(document, output_base, options.output.formats)
    quality = assess(
        cues, transcript.words, language=transcript.language, options=options.cues,
        duration_s=duration_s, speech_s=speech_s,
    )  # fmt: skip
    return FileResult(
        source=source,
        status=FileStatus.DONE if cues else FileStatus.EMPTY,
        reason="" if cues else (reason or "no text recognised"),
        outputs=tuple(outputs),
        duration_s=duration_s,
        language=transcript.language,
        cue_count=len(cues),
        quality=asdict(quality) if cues else {},
    )


def _header_tags(source: Path, ffmpeg: str, options: PipelineOptions) -> dict[str, str]:
    """The file's own title/artist/album, read only when LRC header tags are wanted."""
    wants_lrc = any(fmt in ("lrc", "elrc") for fmt in options.output.formats)
    if not (options.writer.lrc_header_tags and wants_lrc):
        return {}
    try:
        return dict(media.probe(source, ffmpeg).tags)
    except AsrError:
        return {}
