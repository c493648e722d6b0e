"""Decoding a long file: every sample arrives, in one writable buffer, identical to the streamed blocks, which
a caller can also watch go by."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from asr_core.media import decode, find_ffmpeg, iter_decode
from asr_core.types import SAMPLE_RATE

LONG_S = 600


@pytest.fixture(scope="module")
def long_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Ten minutes of pink noise at 16 kHz, generated (19 MB) rather than committed."""
    target = tmp_path_factory.mktemp("long") / "ten minutes.wav"
    subprocess.run(
        [find_ffmpeg(), "-hide_banner", "-nostdin", "-loglevel", "error", "-f", "lavfi",
         "-i", f"anoisesrc=color=pink:sample_rate={SAMPLE_RATE}:amplitude=0.3:duration={LONG_S}:seed=7",
         "-ac", "1", str(target)],
        check=True,
    )
    return target


def test_long_file_decodes_to_the_exact_sample_count(long_wav: Path) -> None:
    audio = decode(long_wav, find_ffmpeg())
    assert len(audio.samples) == LONG_S * SAMPLE_RATE
    assert audio.samples.dtype == np.float32
    assert audio.samples.flags.writeable and audio.samples.flags.owndata  # VAD uses it without a copy


def test_buffered_decode_equals_the_streamed_blocks(long_wav: Path) -> None:
    ffmpeg = find_ffmpeg()
    blocks = list(iter_decode(long_wav, ffmpeg, block_s=45.0))
    assert len(blocks) == -(-LONG_S // 45)
    assert np.array_equal(decode(long_wav, ffmpeg).samples, np.concatenate(blocks))
    assert 0.05 < float(np.abs(blocks[3]).max()) <= 1.0  # real noise came through, not a zero-filled buffer


def test_on_block_sees_every_block_read_only_and_in_order(long_wav: Path) -> None:
    seen: list[np.ndarray] = []
    audio = decode(long_wav, find_ffmpeg(), on_block=seen.append)
    assert len(seen) == LONG_S // 30
    assert not any(block.flags.writeable for block in seen)
    assert np.array_equal(np.concatenate(seen), audio.samples)
