"""Device/dtype/attention resolution, checkpoint checks and aligner-time cleaning: pure parts of the engine."""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass

import pytest

from asr_core.engine import Engine, check_checkpoint, clean_units, join_separator, merge_windows, resolve_setup
from asr_core.errors import ModelLoadError
from asr_core.options import ModelOptions
from asr_core.types import AlignedUnit, Recognition


@dataclass
class Item:
    text: str
    start_time: float
    end_time: float


def test_auto_picks_bf16_and_flash_attention_on_gpu_when_installed():
    setup = resolve_setup(ModelOptions(), cuda_available=True, flash_attn_installed=True)
    assert (setup.device, setup.dtype, setup.attn_implementation) == ("cuda:0", "bf16", "flash_attention_2")
    assert setup.warnings == ()


def test_auto_on_cpu_is_fp32_sdpa():
    setup = resolve_setup(ModelOptions(), cuda_available=False, flash_attn_installed=True)
    assert (setup.device, setup.dtype, setup.attn_implementation) == ("cpu", "fp32", "sdpa")


@pytest.mark.parametrize(
    ("dtype", "installed", "reason"),
    [("bf16", False, "not installed"), ("fp32", True, "fp16 or bf16")],
)
def test_flash_attention_falls_back_to_sdpa_with_reason(dtype, installed, reason):
    options = ModelOptions(device="cuda", dtype=dtype, attn_implementation="flash_attention_2")
    setup = resolve_setup(options, cuda_available=True, flash_attn_installed=installed)
    assert setup.attn_implementation == "sdpa"
    assert any(reason in w for w in setup.warnings)


def test_cuda_requested_without_cuda_falls_back_to_cpu_with_warning():
    setup = resolve_setup(ModelOptions(device="cuda:1", dtype="fp16"), cuda_available=False, flash_attn_installed=False)
    assert (setup.device, setup.dtype) == ("cpu", "fp32")
    assert len(setup.warnings) == 2


def test_folder_without_config_is_refused(tmp_path):
    with pytest.raises(ModelLoadError, match=r"has no config\.json"):
        check_checkpoint(str(tmp_path), "ASR")


def test_missing_folder_is_refused_but_hub_ids_pass(tmp_path):
    with pytest.raises(ModelLoadError, match="does not exist"):
        check_checkpoint(str(tmp_path / "nope"), "ASR")
    check_checkpoint("Qwen/Qwen3-ASR-1.7B", "ASR")


def test_units_are_clamped_into_the_clip_and_monotone():
    items = [Item("a", 120.56, 120.56), Item("b", 0.5, 0.4), Item("c", 1.0, 2.0)]
    units = clean_units(items, clip_s=1.5)
    assert [(u.start_s, u.end_s) for u in units] == [(1.5, 1.5), (1.5, 1.5), (1.5, 1.5)]
    units = clean_units([Item("a", 0.2, 0.5), Item("b", 0.4, 0.3), Item("c", 0.9, 1.2)], clip_s=2.0)
    assert [(u.start_s, u.end_s) for u in units] == [(0.2, 0.5), (0.5, 0.5), (0.9, 1.2)]


def test_no_timestamps_give_no_units():
    assert clean_units(None, 3.0) == ()


def test_windows_are_joined_with_a_space_only_between_latin_text():
    assert join_separator("hello", "world") == " "
    assert join_separator("你好", "世界") == ""
    assert join_separator("end. ", "Next") == ""
    assert join_separator("안녕하세요", "감사합니다") == " "  # Korean is written with spaces
    assert join_separator("終わり。", "Next") == ""
    merged = merge_windows(
        [
            (0.0, Recognition("English", "hello", (AlignedUnit("hello", 0.1, 0.5),))),
            (180.0, Recognition("English,Chinese", "world", (AlignedUnit("world", 1.0, 1.5),))),
        ]
    )
    assert merged.text == "hello world"
    assert merged.language == "English,Chinese"
    assert merged.units[1] == AlignedUnit("world", 181.0, 181.5)


def test_vllm_is_refused_on_windows_before_loading_anything():
    with pytest.raises(ModelLoadError, match="Windows"):
        Engine.load(ModelOptions(backend="vllm"), platform="win32")


def test_vllm_missing_package_gives_install_hint_mocked_checkpoint(tmp_path, monkeypatch):
    """vLLM needs CUDA and cannot be installed here: this checks only the error wiring."""
    (tmp_path / "config.json").write_text("{}")
    monkeypatch.setattr("asr_core.engine.package_installed", lambda name: False)
    options = ModelOptions(asr_checkpoint=str(tmp_path), aligner_checkpoint=str(tmp_path), backend="vllm")
    with pytest.raises(ModelLoadError, match=r"requirements-vllm\.txt"):
        Engine.load(options, platform="linux")


def test_vllm_arguments_are_passed_through_mocked_vllm(tmp_path, monkeypatch):
    """vLLM needs CUDA: a stand-in ``Qwen3ASRModel.LLM`` records the arguments the real one would get."""
    (tmp_path / "config.json").write_text("{}")
    calls = {}

    class FakeModel:
        @classmethod
        def LLM(cls, **kwargs):
            calls.update(kwargs)
            return cls()

    monkeypatch.setitem(sys.modules, "qwen_asr", types.SimpleNamespace(Qwen3ASRModel=FakeModel))
    monkeypatch.setattr("asr_core.engine.package_installed", lambda name: name == "vllm")
    options = ModelOptions(
        asr_checkpoint=str(tmp_path), aligner_checkpoint=str(tmp_path), backend="vllm",
        gpu_memory_utilization=0.6, max_model_len=8192, batch_size=4,
    )  # fmt: skip
    engine = Engine.load(options, platform="linux")
    assert calls["gpu_memory_utilization"] == 0.6
    assert calls["max_model_len"] == 8192
    assert calls["max_inference_batch_size"] == 4
    assert calls["forced_aligner"] == str(tmp_path)
    assert engine.setup.attn_implementation == "sdpa"
