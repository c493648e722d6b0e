"""Golden files: hand-written aligner output + ASR text in, every subtitle format out, compared exactly.

Each case lives in ``tests/golden/<case>/``: ``input.json`` (language, duration, punctuated text,
aligner units as ``[text, start_s, end_s]``, optional tags and options) and ``expected.<ext>`` for
every registered format. After an intended change, regenerate and review the diff by eye:

    python -m tests.unit.test_golden --update
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from asr_core.cues import build_cues
from asr_core.options import CueOptions, WriterOptions
from asr_core.punctuate import attach_punctuation
from asr_core.types import AlignedUnit
from asr_core.writers import WRITERS, SubtitleDocument, write_subtitles

GOLDEN_DIR = Path(__file__).resolve().parents[1] / "golden"
CASES = sorted(path.name for path in GOLDEN_DIR.iterdir() if (path / "input.json").is_file())


def render_case(case_dir: Path, target_dir: Path) -> list[Path]:
    """Run the product's own steps on the case input and write every format as ``target_dir/expected.*``."""
    spec = json.loads((case_dir / "input.json").read_text(encoding="utf-8"))
    units = [AlignedUnit(text, start, end) for text, start, end in spec["units"]]
    words = attach_punctuation(spec["text"], units)
    cues = build_cues(
        words,
        language=spec["language"],
        options=CueOptions(**spec.get("cue_options", {})),
        duration_s=spec["duration_s"],
    )
    document = SubtitleDocument(
        cues=tuple(cues),
        duration_s=spec["duration_s"],
        language=spec["language"],
        tags=spec.get("tags", {}),
        options=WriterOptions(**spec.get("writer_options", {})),
    )
    return write_subtitles(document, target_dir / "expected", list(WRITERS))


def test_every_case_has_every_format() -> None:
    assert {"english", "chinese", "japanese", "korean", "mixed_zh_en", "song_breaks"} <= set(CASES)
    for case in CASES:
        for writer in WRITERS.values():
            assert (GOLDEN_DIR / case / f"expected{writer.extension}").is_file(), (case, writer.name)


@pytest.mark.parametrize("case", CASES)
def test_output_matches_golden(case: str, tmp_path: Path) -> None:
    for produced in render_case(GOLDEN_DIR / case, tmp_path):
        golden = GOLDEN_DIR / case / produced.name
        assert produced.read_bytes() == golden.read_bytes(), f"{case}/{produced.name} differs from the golden file"


def _update() -> None:
    for case in CASES:
        for path in render_case(GOLDEN_DIR / case, GOLDEN_DIR / case):
            print(f"wrote {path.relative_to(GOLDEN_DIR.parent.parent)}")


if __name__ == "__main__":
    if sys.argv[1:] != ["--update"]:
        sys.exit(f"usage: python -m tests.unit.test_golden --update\n\n{__doc__}")
    _update()
