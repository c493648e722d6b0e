"""Settings for each stage, validated once when they are built so that a bad value fails early."""

from __future__ import annotations

from dataclasses import dataclass, field

from asr_core.languages import normalize_language

BACKENDS = ("transformers", "vllm")
DTYPES = ("auto", "fp32", "fp16", "bf16")
ATTN_IMPLEMENTATIONS = ("auto", "sdpa", "eager", "flash_attention_2")
VAD_SOURCES = ("package", "auto", "hub", "local")
HUB_ASR_CHECKPOINT = "Qwen/Qwen3-ASR-1.7B"
HUB_ALIGNER_CHECKPOINT = "Qwen/Qwen3-ForcedAligner-0.6B"
DEFAULT_VLLM_MAX_MODEL_LEN = 16384


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


@dataclass(frozen=True)
class ModelOptions:
    """How to load and run Qwen3-ASR and the forced aligner."""

    asr_checkpoint: str = HUB_ASR_CHECKPOINT
    aligner_checkpoint: str = HUB_ALIGNER_CHECKPOINT
    backend: str = "transformers"
    device: str = "auto"
    dtype: str = "auto"
    attn_implementation: str = "auto"
    batch_size: int = 8
    max_new_tokens: int = 1024
    language: str | None = None
    context: str = ""
    gpu_memory_utilization: float = 0.8
    max_model_len: int = DEFAULT_VLLM_MAX_MODEL_LEN

    def __post_init__(self) -> None:
        _require(self.backend in BACKENDS, f"backend must be one of {BACKENDS}, got {self.backend!r}")
        _require(self.dtype in DTYPES, f"dtype must be one of {DTYPES}, got {self.dtype!r}")
        _require(
            self.attn_implementation in ATTN_IMPLEMENTATIONS,
            f"attn_implementation must be one of {ATTN_IMPLEMENTATIONS}, got {self.attn_implementation!r}",
        )
        _require(self.batch_size >= 1, "batch_size must be at least 1")
        _require(self.max_new_tokens >= 16, "max_new_tokens must be at least 16")
        _require(0.05 <= self.gpu_memory_utilization <= 0.99, "gpu_memory_utilization must be in 0.05-0.99")
        _require(self.max_model_len >= 1024, "max_model_len must be at least 1024")
        _require(bool(self.asr_checkpoint.strip()), "an ASR checkpoint (folder or hub ID) is required")
        _require(bool(self.aligner_checkpoint.strip()), "an aligner checkpoint (folder or hub ID) is required")
        object.__setattr__(self, "language", normalize_language(self.language))


@dataclass(frozen=True)
class VadOptions:
    """Silero VAD pre-segmentation: drop long silences and transcribe speech spans only."""

    enabled: bool = False
    source: str = "package"
    repo_dir: str | None = None
    threshold: float = 0.5
    min_speech_ms: int = 250
    min_silence_ms: int = 500
    speech_pad_ms: int = 200
    max_span_s: float = 30.0

    def __post_init__(self) -> None:
        _require(self.source in VAD_SOURCES, f"VAD source must be one of {VAD_SOURCES}, got {self.source!r}")
        _require(0.0 < self.threshold < 1.0, "VAD threshold must be between 0 and 1")
        _require(self.min_speech_ms >= 0 and self.min_silence_ms >= 0, "VAD durations must not be negative")
        _require(self.speech_pad_ms >= 0, "VAD padding must not be negative")
        _require(self.max_span_s >= 1.0, "VAD max span must be at least 1 s")
        _require(
            self.source != "local" or bool(self.repo_dir),
            "VAD source 'local' needs a silero-vad checkout folder (VAD_REPO_DIR)",
        )


@dataclass(frozen=True)
class OutputOptions:
    """Which subtitle files to write and where."""

    formats: tuple[str, ...] = ("srt", "lrc")
    output_dir: str = "output"
    save_next_to_source: bool = False
    overwrite: bool = False

    def __post_init__(self) -> None:
        _require(len(self.formats) > 0, "choose at least one output format")
        _require(len(set(self.formats)) == len(self.formats), "an output format is listed twice")


CUE_PRESETS = ("latin", "chinese", "japanese", "korean")


def _positive_or_none(value: float | None, name: str) -> None:
    _require(value is None or value > 0, f"{name} must be positive, got {value!r}")


def _non_negative_or_none(value: float | None, name: str) -> None:
    _require(value is None or value >= 0, f"{name} must not be negative, got {value!r}")


@dataclass(frozen=True)
class CueOptions:
    """Subtitle layout and timing. Every limit left at ``None`` comes from the language's preset.

    Widths are display columns: a CJK character counts 2, a Latin letter 1 (42 columns is 42 Latin
    characters or 21 Chinese ones). Reading speed is in characters per second, where in the CJK
    presets a full-width character counts 1 and a half-width one 0.5.
    """

    preset: str | None = None
    max_line_width: int | None = None
    max_lines: int | None = None
    min_duration_s: float | None = None
    max_duration_s: float | None = None
    max_chars_per_s: float | None = None
    min_gap_s: float | None = None
    chain_gap_s: float | None = None
    max_linger_s: float | None = None
    split_gap_s: float | None = None

    def __post_init__(self) -> None:
        _require(
            self.preset is None or self.preset in CUE_PRESETS,
            f"cue preset must be one of {CUE_PRESETS}, got {self.preset!r}",
        )
        _require(
            self.max_line_width is None or self.max_line_width >= 8,
            "max_line_width must be at least 8 columns",
        )
        _require(self.max_lines is None or 1 <= self.max_lines <= 3, "max_lines must be 1, 2 or 3")
        for name in ("min_duration_s", "max_duration_s", "max_chars_per_s", "split_gap_s"):
            _positive_or_none(getattr(self, name), name)
        for name in ("min_gap_s", "chain_gap_s", "max_linger_s"):
            _non_negative_or_none(getattr(self, name), name)
        durations = (self.min_duration_s, self.max_duration_s)
        _require(None in durations or durations[0] <= durations[1], "min_duration_s must not exceed max_duration_s")


LRC_HEADER_TAGS_HELP = "Write [ti:] [ar:] [al:] [length:] from the file's own tags at the top of .lrc files."


@dataclass(frozen=True)
class WriterOptions:
    """Format details that do not change the cues themselves."""

    lrc_header_tags: bool = False
    lrc_blank_after_gap_s: float | None = 3.0

    def __post_init__(self) -> None:
        _positive_or_none(self.lrc_blank_after_gap_s, "lrc_blank_after_gap_s")


@dataclass(frozen=True)
class PipelineOptions:
    """Everything one file's processing needs besides the loaded engine."""

    model: ModelOptions = field(default_factory=ModelOptions)
    vad: VadOptions = field(default_factory=VadOptions)
    output: OutputOptions = field(default_factory=OutputOptions)
    cues: CueOptions = field(default_factory=CueOptions)
    writer: WriterOptions = field(default_factory=WriterOptions)
