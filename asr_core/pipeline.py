"""One file from start to finish: decode, find speech, recognise and align, build cues, write subtitles.

Every expected failure of a single file becomes a ``FileResult`` so that a batch never stops on one bad
input; only programming errors propagate.
"""

from __future__ import annotations

import enum
import logging
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
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
from asr_core.vad import PeakMeter
from asr_core.writers import SubtitleDocument, write_subtitles

logger = logging.getLogger(__name__)

# Below -60 dBFS peak there is nothing a recogniser could hear; skipping it avoids invented text.
SILENCE_PEAK = 10 ** (-60 / 20)
# Decoded blocks (30 s each) the VAD may lag behind the decoder: enough to keep ffmpeg busy, a few MB.
VAD_BLOCKS_BEHIND = 2

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


class SpeechSearch(Protocol):
    """One file's search for speech, fed the decoded blocks while ffmpeg is still decoding."""

    @property
    def peak(self) -> float: ...

    def feed(self, block: np.ndarray) -> None: ...

    def finish(self) -> list[SpeechSpan]: ...


class SpeechFinder(Protocol):
    def scan(self) -> SpeechSearch: ...


def speech_spans(duration_s: float, peak: float, search: SpeechSearch | None) -> list[SpeechSpan]:
    """The parts of the file worth transcribing: VAD spans, or the whole file when VAD is off."""
    if duration_s == 0 or peak < SILENCE_PEAK:
        return []
    if search is None:
        return [SpeechSpan(0.0, duration_s)]
    return search.finish()


def _decode_and_search(
    source: Path, ffmpeg: str, vad: SpeechFinder | None
) -> tuple[Audio, float, SpeechSearch | None]:
    """Decode the file while the VAD reads each block as it arrives; with VAD off only the peak is kept."""
    if vad is None:
        meter = PeakMeter()
        return media.decode(source, ffmpeg, on_block=meter.feed), meter.peak, None
    search = vad.scan()
    with _on_own_thread(search.feed) as feed:
        audio = media.decode(source, ffmpeg, on_block=feed)
    return audio, search.peak, search


@contextmanager
def _on_own_thread(consume: Callable[[np.ndarray], None]) -> Iterator[Callable[[np.ndarray], None]]:
    """A feed that runs ``consume`` on a thread of its own, block after block, at most
    ``VAD_BLOCKS_BEHIND`` blocks behind.

    Called on the decoding thread, the VAD would leave ffmpeg stalled on a full pipe while it scores each
    block. Errors reach the caller, and when the ``with`` ends every block handed over has been consumed.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="vad") as worker:
        behind: deque[Future[None]] = deque()

        def feed(block: np.ndarray) -> None:
            behind.append(worker.submit(consume, block))
            if len(behind) > VAD_BLOCKS_BEHIND:
                behind.popleft().result()

        yield feed
        for pending in behind:
            pending.result()


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


def transcript_of(spans: Sequence[SpeechSpan], recognitions: Sequence[Recognition], *, vad_used: bool) -> Transcript:
    """The file's words on its own timeline, minus invented repeats and, when VAD ran, minus words placed
    where it heard no speech."""
    timed = words_on_timeline(spans, recognitions)
    words = collapse_repeats(timed)
    collapsed = len(timed) - len(words)
    if vad_used:
        words = drop_words_outside_speech(words, spans)
    text = "".join(w.text for w in words).strip()
    return Transcript(
        language=dominant_language(recognitions), text=text, words=tuple(words), collapsed_words=collapsed
    )


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
            audio, peak, search = _decode_and_search(source, ffmpeg, vad)
        except NoAudioStream as exc:
            return PreparedFile(source, Audio(np.zeros(0, dtype=np.float32)), (), vad is not None, reason=str(exc))
        on_progress("vad", 0.0)
        spans = tuple(speech_spans(audio.duration_s, peak, search))
        return PreparedFile(source, audio, spans, vad is not None, reason="" if spans else "no speech found")
    except AsrError as exc:
        return failed_result(source, exc)


def clips_of(prepared: PreparedFile) -> list[np.ndarray]:
    """The samples of each speech span (views, not copies)."""
    samples = prepared.audio.samples
    return [samples[int(s.start_s * SAMPLE_RATE) : int(s.end_s * SAMPLE_RATE)] for s in prepared.spans]


RecognitionOutcome = list[Recognition] | AsrError


def recognise_files(
    files: Sequence[PreparedFile], engine: Recogniser, on_stage: Callable[[str], None] | None = None
) -> list[RecognitionOutcome]:
    """Recognise the speech of several files in one call and hand each file its own recognitions.

    One call fills the model's batch with short files that would each leave it mostly empty. When the
    shared call fails, every file is tried again on its own, so an error is reported for the file that
    caused it and the others still get their text.
    """
    clips = [clips_of(prepared) for prepared in files]
    try:
        recognitions = engine.recognise([clip for own in clips for clip in own], on_stage=on_stage)
    except AsrError as exc:
        if len(files) == 1:
            return [exc]
        logger.warning("recognising %d files together failed (%s); trying them one by one", len(files), exc)
        return [recognise_files([prepared], engine, on_stage)[0] for prepared in files]
    outcomes: list[RecognitionOutcome] = []
    first = 0
    for own in clips:
        outcomes.append(recognitions[first : first + len(own)])
        first += len(own)
    return outcomes


def finish_file(
    prepared: PreparedFile,
    output_base: Path,
    options: PipelineOptions,
    *,
    recognitions: RecognitionOutcome,
    ffmpeg: str,
) -> FileResult:
    """Build the cues of a recognised file and write every format at ``output_base`` + each extension.

    ``recognitions`` are the file's (one per span) from ``recognise_files``, or the error it met there.
    """
    source, audio = prepared.source, prepared.audio
    if isinstance(recognitions, AsrError):
        return failed_result(source, recognitions)
    try:
        if not prepared.spans:
            return _write(source, output_base, options, Transcript("", ""), audio.duration_s, reason=prepared.reason)
        transcript = transcript_of(prepared.spans, recognitions, vad_used=prepared.vad_used)
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
        return failed_result(source, exc)


def failed_result(source: Path, exc: AsrError) -> FileResult:
    """A failed file, logged once with its reason."""
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
        duration_s=duration_s, speech_s=speech_s, collapsed_words=transcript.collapsed_words,
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
