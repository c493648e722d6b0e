"""The tiny programmed checkpoints load and answer through the real qwen-asr code path on CPU."""

from __future__ import annotations

import socket

import numpy as np
import pytest
import torch
from qwen_asr import Qwen3ASRModel, Qwen3ForcedAligner
from qwen_asr.core.transformers_backend import Qwen3ASRForConditionalGeneration

from asr_core.types import SAMPLE_RATE, AlignedUnit
from tests.tiny_models import (
    ASR_TEXT_ID,
    AUDIO_PAD_ID,
    CLASSIFY_NUM,
    TIMESTAMP_ID,
    VOCAB_SIZE,
    TinyModels,
    aligned_span,
)


def _noise(seconds: float, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal(int(seconds * SAMPLE_RATE)) * 0.1).astype(np.float32)


def _units(time_stamps) -> tuple[AlignedUnit, ...]:
    return tuple(AlignedUnit(item.text, item.start_time, item.end_time) for item in time_stamps)


def _counter_units(texts: list[str]) -> tuple[AlignedUnit, ...]:
    return tuple(AlignedUnit(text, *aligned_span(i)) for i, text in enumerate(texts))


@pytest.fixture(scope="module", autouse=True)
def offline():
    """Any attempt to reach the network (a hub lookup, a dictionary download) fails these tests."""

    def refuse(*args, **kwargs):
        raise OSError("network access attempted during an offline test")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", refuse)
        yield


@pytest.fixture(scope="module")
def asr(tiny_models: TinyModels) -> Qwen3ASRModel:
    return Qwen3ASRModel.from_pretrained(
        str(tiny_models.asr_dir),
        forced_aligner=str(tiny_models.aligner_dir),
        forced_aligner_kwargs={"dtype": torch.float32, "device_map": "cpu"},
        dtype=torch.float32,
        device_map="cpu",
    )


def test_folders_load_as_the_real_architecture(asr: Qwen3ASRModel) -> None:
    assert isinstance(asr.model, Qwen3ASRForConditionalGeneration)
    assert asr.model.thinker.lm_head.out_features == VOCAB_SIZE
    assert asr.forced_aligner.model.thinker.lm_head.out_features == CLASSIFY_NUM
    assert asr.forced_aligner.timestamp_token_id == TIMESTAMP_ID
    assert asr.forced_aligner.timestamp_segment_time == 80
    assert {"English", "Chinese", "Japanese", "Korean"} <= set(asr.model.get_support_languages())
    tokenizer = asr.processor.tokenizer
    assert tokenizer.convert_tokens_to_ids(["<|endoftext|>", "<|im_end|>"]) == [151643, 151645]
    assert tokenizer.convert_tokens_to_ids(["<|audio_pad|>", "<asr_text>"]) == [AUDIO_PAD_ID, ASR_TEXT_ID]


@pytest.mark.parametrize("seconds", [3.0, 10.0])
def test_transcribe_gives_the_programmed_text_and_timings(asr: Qwen3ASRModel, seconds: float) -> None:
    audio = (_noise(seconds), SAMPLE_RATE)

    first = asr.transcribe(audio, return_time_stamps=True)
    second = asr.transcribe(audio, return_time_stamps=True)

    assert [(r.language, r.text) for r in first] == [(TinyModels.language, TinyModels.text)]
    assert _units(first[0].time_stamps) == TinyModels.units
    assert first == second


def test_forced_language_skips_the_language_prefix(asr: Qwen3ASRModel) -> None:
    [result] = asr.transcribe((_noise(3.0), SAMPLE_RATE), language="English", return_time_stamps=True)

    assert (result.language, result.text) == ("English", TinyModels.text)
    assert _units(result.time_stamps) == TinyModels.units


def test_batch_of_clips_with_different_lengths(asr: Qwen3ASRModel) -> None:
    results = asr.transcribe(
        [(_noise(3.0, seed=1), SAMPLE_RATE), (_noise(10.0, seed=2), SAMPLE_RATE)], return_time_stamps=True
    )

    assert [(r.language, r.text, _units(r.time_stamps)) for r in results] == [
        (TinyModels.language, TinyModels.text, TinyModels.units)
    ] * 2


@pytest.mark.parametrize(
    "samples",
    [_noise(60.0), np.pad(_noise(0.2), (0, int(0.3 * SAMPLE_RATE)))],
    ids=["60s", "0.2s-zero-padded-to-0.5s"],
)
def test_long_and_padded_short_clips(asr: Qwen3ASRModel, samples: np.ndarray) -> None:
    [result] = asr.transcribe((samples, SAMPLE_RATE), return_time_stamps=True)

    assert result.text == TinyModels.text
    assert _units(result.time_stamps) == TinyModels.units


@pytest.mark.parametrize(
    ("language", "text", "expected_units"),
    [
        ("Chinese", "你好，世界。", ["你", "好", "世", "界"]),
        ("Japanese", "今日はいい天気ですね。", None),
        ("Korean", "안녕하세요 오늘 날씨가 좋네요", None),
    ],
)
def test_aligner_splits_cjk_offline_into_monotone_units(
    asr: Qwen3ASRModel, language: str, text: str, expected_units: list[str] | None
) -> None:
    [result] = asr.forced_aligner.align(audio=(_noise(5.0), SAMPLE_RATE), text=text, language=language)
    units = _units(result)

    if expected_units is not None:
        assert [u.text for u in units] == expected_units
    assert "".join(u.text for u in units) == "".join(ch for ch in text if ch.isalnum())
    assert len(units) >= 3
    assert units == _counter_units([u.text for u in units])


@pytest.mark.parametrize("attn_implementation", ["sdpa", "eager"])
def test_aligner_loads_alone(tiny_models: TinyModels, attn_implementation: str) -> None:
    aligner = Qwen3ForcedAligner.from_pretrained(
        str(tiny_models.aligner_dir),
        dtype=torch.float32,
        device_map="cpu",
        attn_implementation=attn_implementation,
    )

    [result] = aligner.align(audio=(_noise(2.0), SAMPLE_RATE), text=TinyModels.text, language="English")

    assert _units(result) == TinyModels.units
