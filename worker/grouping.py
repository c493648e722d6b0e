"""Short files recognised together, so the model's batch is full even when each file has little speech.

The model works on up to ``batch_size`` windows (clips of at most 180 s) in one step. A song, a voice memo
or a short clip fills one or two of them, so recognising file by file leaves most of every step empty.
On a file's turn, the files after it join its recognition call until the windows reach the next multiple of
the batch size; their recognitions wait in memory for their own turn. Results, events and writes still come
strictly file by file, in order, exactly as without grouping.

Memory: a group looks at most ``batch_size`` files beyond the current one; their speech fills no more than
the batch steps the current file starts, plus one file that turned out too long to join, kept for its turn
rather than decoded twice. The next group is decoded meanwhile, so about two groups' audio is held.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from asr_core.engine import window_count
from asr_core.pipeline import FileResult, PreparedFile, Recogniser, RecognitionOutcome, clips_of, recognise_files
from worker.prefetch import PrepareAhead

StageEvent = tuple[str, float]
Prepared = tuple[PreparedFile | FileResult, tuple[StageEvent, ...]]


@dataclass
class TakenFile:
    """A file taken from the background preparation, and once recognised, its recognitions."""

    prepared: PreparedFile | FileResult
    stages: tuple[StageEvent, ...]
    recognitions: RecognitionOutcome | None = None
    recognition_stages: tuple[StageEvent, ...] = ()


class RecognitionGroups:
    """Takes prepared files in batch order and recognises them in groups filling the model's batch.

    ``will_process(index)`` says whether a file will be transcribed on its turn (not skipped); only such
    files are decoded ahead or join a group. ``output_base_of(index)`` keeps two files that would write the
    same subtitles out of one group, since the second is skipped once the first is written.
    """

    def __init__(
        self,
        ahead: PrepareAhead[Prepared],
        *,
        count: int,
        batch_windows: int,
        will_process: Callable[[int], bool],
        output_base_of: Callable[[int], Path],
    ) -> None:
        self._ahead = ahead
        self._count = count
        self._batch_windows = batch_windows
        self._will_process = will_process
        self._output_base_of = output_base_of
        self._taken: dict[int, TakenFile] = {}
        self._errors: dict[int, Exception] = {}
        self._furthest = -1  # the last file taken while forming a group
        self._group_size = 1

    def take(self, index: int) -> TakenFile:
        """The file's preparation (and recognitions, when a group already covered it), waiting if needed.

        An exception raised while preparing it is raised here, on the file's own turn.
        """
        taken = self._fetch(index)
        if taken is None:
            raise self._errors.pop(index)
        return taken

    def release(self, index: int) -> None:
        """Forget a file whose turn is over, or one that turned out not to need the work."""
        self._errors.pop(index, None)
        if self._taken.pop(index, None) is None:
            self._ahead.drop(index)

    def _fetch(self, index: int) -> TakenFile | None:
        """Like ``take``, but keeps a preparation error for the file's turn and returns None instead."""
        if index not in self._taken and index not in self._errors:
            try:
                prepared, stages = self._ahead.take(index)
            except Exception as exc:  # a bug while preparing a later file must not fail the current one
                self._errors[index] = exc
                return None
            self._taken[index] = TakenFile(prepared, stages)
        return self._taken.get(index)

    def prepare_next(self, index: int) -> None:
        """Ask for the files after ``index`` and after the current group: as many as the group held, so the
        next group is decoded while this one is recognised, and at least ``depth``."""
        first = max(index, self._furthest) + 1
        for later in range(first, min(first + max(self._ahead.depth, self._group_size), self._count)):
            held = later in self._taken or later in self._errors
            if not held and self._will_process(later):  # a skip decided now stays a skip later
                self._ahead.request(later)

    def recognise(
        self,
        index: int,
        engine: Recogniser,
        on_stage: Callable[[str], None],
        on_group: Callable[[Mapping[int, float]], None],
    ) -> RecognitionOutcome:
        """The recognitions of file ``index`` (prepared, with speech), recognising it now together with the
        files after it unless an earlier group already did. ``on_group`` hears of a call shared by several
        files: each member's audio seconds, by file index."""
        taken = self.take(index)
        if taken.recognitions is None:
            members = self._group(index)
            self.prepare_next(index)  # the next group is decoded while this one is recognised
            if len(members) > 1:
                on_group({member: prepared.audio.duration_s for member, prepared in members})
            stages: list[StageEvent] = []

            def report(stage: str) -> None:
                stages.append((stage, 0.0))
                on_stage(stage)

            outcomes = recognise_files([prepared for _, prepared in members], engine, report)
            for (member, _), outcome in zip(members, outcomes, strict=True):
                self._taken[member].recognitions = outcome
                self._taken[member].recognition_stages = tuple(stages)
            taken.recognition_stages = ()  # the current file reported its stages as they happened
        return taken.recognitions

    def _group(self, index: int) -> list[tuple[int, PreparedFile]]:
        """``index`` and the files after it whose speech fits into the batch steps ``index`` starts."""
        first = self._with_speech(index)
        if first is None:
            raise ValueError(f"file {index} has no speech to recognise")
        windows = _windows(first)
        budget = -(-windows // self._batch_windows) * self._batch_windows
        members, bases = [(index, first)], {self._output_base_of(index)}
        for later in range(index + 1, self._count):
            if windows >= budget or len(bases) > self._batch_windows:
                break
            if not self._will_process(later):
                continue  # its subtitles exist: never decoded, never held
            base = self._output_base_of(later)
            if base in bases:
                break  # skipped once the earlier file writes, unless that one fails: decide on its turn
            bases.add(base)  # one per file held in memory, so it also bounds how far ahead files are held
            prepared = self._with_speech(later)
            self._furthest = max(self._furthest, later)
            extra = _windows(prepared) if prepared is not None else 0
            if windows + extra > budget:
                break
            if prepared is not None:
                members.append((later, prepared))
                windows += extra
        self._group_size = len(members)
        return members

    def _with_speech(self, index: int) -> PreparedFile | None:
        """The prepared file when it has speech to recognise; None when it failed or is silent."""
        taken = self._fetch(index)
        prepared = taken.prepared if taken is not None else None
        return prepared if isinstance(prepared, PreparedFile) and prepared.spans else None


def _windows(prepared: PreparedFile) -> int:
    """Batch windows the file's speech fills."""
    return sum(window_count(len(clip)) for clip in clips_of(prepared))


def replay(stages: Sequence[StageEvent], on_progress: Callable[[str, float], None]) -> None:
    for stage, fraction in stages:
        on_progress(stage, fraction)
