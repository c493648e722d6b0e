"""Silero VAD pre-segmentation: find the speech, group it into spans the recogniser takes one at a time.

Model sources:

- ``package``: the model inside the silero-vad wheel. Offline; the default. The ONNX export runs when
  onnxruntime is installed (1.2-1.5x faster on CPU, same segments), otherwise the TorchScript one.
- ``hub``: the snakers4/silero-vad repository through torch.hub, downloaded once into
  ``$TORCH_HOME/hub`` and read from there afterwards.
- ``auto``: like ``hub``, but falls back to the packaged model when the hub is unreachable.
- ``local``: a silero-vad checkout on disk (``VAD_REPO_DIR``), for machines that are always offline.

Checkouts (local, or the hub's cached copy) are loaded by running their ``hubconf.py`` entry point the
way ``torch.hub.load(..., source="local")`` does, but without its check of the declared dependencies:
silero-vad's hubconf still lists torchaudio, which only its file-reading helpers use, and this
project decodes audio with ffmpeg instead.

A file is scanned while it decodes: ``SpeechDetector.scan()`` takes the decoded blocks one by one and
gives the same spans as silero's scan of the whole array.

torch and silero-vad are imported on first use, so ``group_segments`` costs no torch import.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from asr_core.errors import ModelLoadError
from asr_core.options import VadOptions
from asr_core.types import SAMPLE_RATE, Audio, SpeechSpan

logger = logging.getLogger(__name__)

HUB_REPO = "snakers4/silero-vad"
# Naming the branch keeps torch.hub from asking GitHub for the default branch on every load.
HUB_REF = "master"
HUB_ENTRY_POINT = "silero_vad"
HUB_OFFLINE_HINT = (
    "VAD source 'hub' needs internet once or a cache in TORCH_HOME; use source 'package' or 'local' with VAD_REPO_DIR"
)
WINDOW = 512  # samples the model scores at a time at 16 kHz
_THREAD_COUNT_TURN = threading.RLock()


@dataclass(frozen=True, eq=False)
class SpeechDetector:
    """A loaded Silero model and the settings to apply. Load once, reuse for every file (not thread-safe:
    the model keeps state while it scans a file)."""

    model: Any
    options: VadOptions
    origin: str

    def scan(self) -> SpeechScan:
        """Start one file's scan; only one scan at a time per detector, as they share the model."""
        return SpeechScan(self)

    def detect(self, audio: Audio) -> list[SpeechSpan]:
        """Speech spans on the file's timeline, each at most ``max_span_s`` long; empty for silence."""
        scan = self.scan()
        scan.feed(audio.samples)
        return scan.finish()


class PeakMeter:
    """The loudest sample of the blocks seen so far, for the digital-silence check without another pass."""

    def __init__(self) -> None:
        self.peak = 0.0

    def feed(self, block: np.ndarray) -> None:
        if len(block):
            # max and -min rather than np.abs, which would copy the whole block.
            self.peak = max(self.peak, float(np.max(block)), -float(np.min(block)))


class SpeechScan:
    """One file's VAD, fed decoded blocks of any length as they arrive, so it runs alongside decoding.

    The spans equal silero's ``get_speech_timestamps`` on the whole file: the same 512-sample windows
    through the same model state (reset when the scan starts), the last window zero-padded, then the
    library's own thresholding of the probabilities. A block's tail shorter than a window waits for the
    next block.
    """

    def __init__(self, detector: SpeechDetector) -> None:
        self._detector = detector
        self._level = PeakMeter()
        self._probabilities: list[float] = []
        self._tail = np.zeros(0, dtype=np.float32)
        self._samples = 0
        detector.model.reset_states()

    @property
    def peak(self) -> float:
        """The largest absolute sample fed so far."""
        return self._level.peak

    def feed(self, block: np.ndarray) -> None:
        """Score every window the block completes; the block is only read."""
        self._level.feed(block)
        self._samples += len(block)
        missing = (WINDOW - len(self._tail)) % WINDOW
        if len(block) < missing:
            self._tail = np.concatenate([self._tail, block])
            return
        rest = block[missing:]
        whole = len(rest) - len(rest) % WINDOW
        with self._scanning():
            if missing:
                self._score(np.concatenate([self._tail, block[:missing]]))
            for start in range(0, whole, WINDOW):
                self._score(rest[start : start + WINDOW])
        self._tail = rest[whole:].copy()

    def finish(self) -> list[SpeechSpan]:
        """The speech spans of everything fed, grouped into spans of at most ``max_span_s``."""
        if self._samples == 0:
            return []
        from silero_vad.utils_vad import get_speech_timestamps_from_probs

        if len(self._tail):
            with self._scanning():
                self._score(np.pad(self._tail, (0, WINDOW - len(self._tail))))
            self._tail = self._tail[:0]
        options = self._detector.options
        found = get_speech_timestamps_from_probs(
            self._probabilities,
            sampling_rate=SAMPLE_RATE,
            threshold=options.threshold,
            min_speech_duration_ms=options.min_speech_ms,
            min_silence_duration_ms=options.min_silence_ms,
            speech_pad_ms=options.speech_pad_ms,
            max_speech_duration_s=options.max_span_s,
            audio_length_samples=self._samples,
        )
        segments = [SpeechSpan(s["start"] / SAMPLE_RATE, s["end"] / SAMPLE_RATE) for s in found]
        return group_segments(segments, options.max_span_s, self._samples / SAMPLE_RATE)

    @contextmanager
    def _scanning(self) -> Iterator[None]:
        """Run the model without autograd, and the TorchScript model on one torch thread.

        The ONNX model brings its own one-thread session, so torch's thread count is left alone: it is
        process-wide, and the recogniser running meanwhile on another thread would lose its threads too.
        """
        import torch

        torchscript = isinstance(self._detector.model, torch.nn.Module)
        with _torch_threads(meanwhile=1) if torchscript else nullcontext(), torch.inference_mode():
            yield

    def _score(self, window: np.ndarray) -> None:
        """Add the model's speech probability for one window, continuing from the windows before it."""
        import torch

        # A copy: decoded blocks are read-only, and torch warns about sharing their memory.
        probability = self._detector.model(torch.from_numpy(window.copy()), SAMPLE_RATE)
        self._probabilities.append(probability.item())


def group_segments(segments: Sequence[SpeechSpan], max_span_s: float, duration_s: float) -> list[SpeechSpan]:
    """Merge neighbouring speech segments into spans of at most ``max_span_s``.

    Fewer, longer spans give the recogniser more context and fewer calls. Segments are clamped to
    ``[0, duration_s]``; one longer than ``max_span_s`` is cut into ``max_span_s`` pieces. The result is
    sorted and never overlaps.
    """
    if max_span_s <= 0:
        raise ValueError("max_span_s must be positive")
    pieces: list[SpeechSpan] = []
    for segment in sorted(segments, key=lambda s: s.start_s):
        start, end = max(0.0, segment.start_s), min(duration_s, segment.end_s)
        while end - start > max_span_s:
            pieces.append(SpeechSpan(start, start + max_span_s))
            start += max_span_s
        if end > start:
            pieces.append(SpeechSpan(start, end))
    spans: list[SpeechSpan] = []
    for piece in pieces:
        if spans and piece.end_s - spans[-1].start_s <= max_span_s:
            spans[-1] = SpeechSpan(spans[-1].start_s, max(spans[-1].end_s, piece.end_s))
        else:
            # Not mergeable means the piece ends after the last span, so trimming its start stays non-empty.
            start = max(piece.start_s, spans[-1].end_s) if spans else piece.start_s
            spans.append(SpeechSpan(start, piece.end_s))
    return spans


def load_vad(options: VadOptions) -> SpeechDetector:
    """Load the Silero model from ``options.source``; raises ModelLoadError with what to do instead."""
    with _torch_threads():
        # Importing the package first also makes checkouts' hubconf reuse it instead of their own copy.
        import silero_vad  # noqa: F401

        if options.source == "package":
            model, origin = _load_packaged()
        elif options.source == "local":
            model, origin = _load_checkout(Path(options.repo_dir or ""))
        elif options.source == "hub":
            model, origin = _load_hub()
        else:
            try:
                model, origin = _load_hub()
            except ModelLoadError as exc:
                logger.warning("%s; using the model shipped with the silero-vad package", exc)
                model, origin = _load_packaged()
    logger.info("Silero VAD loaded from %s", origin)
    return SpeechDetector(model=model, options=options, origin=origin)


@contextmanager
def _torch_threads(meanwhile: int | None = None) -> Iterator[None]:
    """Give torch back its thread count afterwards, running on ``meanwhile`` threads in between.

    silero-vad calls ``torch.set_num_threads(1)`` when imported, which would slow the recogniser.
    Its TorchScript model, fed 32 ms windows one at a time, is fastest on one thread: more threads only
    add synchronisation, and on a busy CPU that made a 60 s scan over 20 times slower. The count is
    process-wide, so the scan sets it per decoded block and gives it back while it waits for the next.
    Files prepared on several threads take turns here, so none of them restores a count another one set.
    """
    import torch

    with _THREAD_COUNT_TURN:
        threads = torch.get_num_threads()
        if meanwhile is not None:
            torch.set_num_threads(meanwhile)
        try:
            yield
        finally:
            torch.set_num_threads(threads)


def _load_packaged() -> tuple[Any, str]:
    from silero_vad import load_silero_vad

    if importlib.util.find_spec("onnxruntime") is not None:
        try:
            return load_silero_vad(onnx=True), "the silero-vad package (onnx)"
        except (ImportError, OSError) as exc:
            logger.warning("onnxruntime is installed but unusable (%s); using the TorchScript model", exc)
    return load_silero_vad(onnx=False), "the silero-vad package (jit)"


def _load_hub() -> tuple[Any, str]:
    import torch

    try:
        with _sys_path_kept():
            # list() fetches the repository into the cache (or finds it there) without torch.hub.load's
            # dependency check, which would demand torchaudio.
            torch.hub.list(f"{HUB_REPO}:{HUB_REF}", trust_repo=True, verbose=False)
    except Exception as exc:
        raise ModelLoadError(f"{HUB_OFFLINE_HINT} ({type(exc).__name__}: {exc})") from exc
    cached = Path(torch.hub.get_dir()) / f"{HUB_REPO.replace('/', '_')}_{HUB_REF}"
    model, _ = _load_checkout(cached)
    return model, f"torch.hub cache {cached}"


def _load_checkout(repo_dir: Path) -> tuple[Any, str]:
    """Run the checkout's ``hubconf.silero_vad()`` and keep the model (it returns model and helpers)."""
    hubconf = repo_dir / "hubconf.py"
    if not hubconf.is_file():
        raise ModelLoadError(f"{repo_dir} is not a silero-vad checkout (no hubconf.py); check VAD_REPO_DIR")
    try:
        with _sys_path_kept():
            sys.path.insert(0, str(repo_dir))
            spec = importlib.util.spec_from_file_location("silero_vad_hubconf", hubconf)
            if spec is None or spec.loader is None:
                raise ImportError(f"cannot import {hubconf}")
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            loaded = getattr(module, HUB_ENTRY_POINT)()
    except Exception as exc:
        raise ModelLoadError(
            f"could not load Silero VAD from {repo_dir} ({type(exc).__name__}: {exc}); "
            "use source 'package' to run the model shipped with silero-vad"
        ) from exc
    model = loaded[0] if isinstance(loaded, tuple) else loaded
    return model, f"checkout {repo_dir}"


@contextmanager
def _sys_path_kept() -> Iterator[None]:
    """hubconf files add their own folders to sys.path; undo that once the model is loaded."""
    saved = list(sys.path)
    try:
        yield
    finally:
        sys.path[:] = saved
