"""Tiny Qwen3-ASR and Qwen3-ForcedAligner checkpoints with the real architecture, for CPU tests.

The folders load through the real ``Qwen3ASRModel.from_pretrained`` / ``Qwen3ForcedAligner.from_pretrained``
path, so tests exercise the product's real loading and inference code without downloading gigabytes.
Random weights would give garbage, so the weights are then *programmed* to give known answers:

* the ASR model is a bigram machine that, for any audio, says ``language English<asr_text>`` followed by
  :data:`EXPECTED_TEXT` and then ``<|im_end|>``;
* the aligner is a counter: the k-th ``<timestamp>`` of the aligner prompt gets class ``3k``, i.e.
  ``0.24 * k`` seconds, so unit ``i`` spans ``0.24 * (2i + 1)`` to ``0.24 * (2i + 2)`` for any language
  and any audio length (up to 833 units, the aligner's 5000 classes), even past the end of a short clip.

Run ``python -m tests.tiny_models OUT_DIR`` to write ``OUT_DIR/asr`` and ``OUT_DIR/aligner``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import torch
from qwen_asr.core.transformers_backend import (
    Qwen3ASRConfig,
    Qwen3ASRForConditionalGeneration,
    Qwen3ASRProcessor,
)
from qwen_asr.inference.utils import SUPPORTED_LANGUAGES
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
from transformers import Qwen2TokenizerFast, WhisperFeatureExtractor

from asr_core.types import SAMPLE_RATE, AlignedUnit

EXPECTED_LANGUAGE = "English"
EXPECTED_TEXT = "hello world, this is a test."
TIMESTAMP_SEGMENT_MS = 80
COUNTER_STEP = 3  # aligner classes per <timestamp>: 3 x 80 ms = 0.24 s
SEED = 0

# Ids mirrored from the real Qwen3-ASR tokenizer; qwen-asr hard-codes the two EOS ids in generate().
ENDOFTEXT_ID = 151643
AUDIO_START_ID = 151669
AUDIO_PAD_ID = 151676
ASR_TEXT_ID = 151704
TIMESTAMP_ID = 151705
VOCAB_SIZE = 151936
CLASSIFY_NUM = 5000

_QWEN2_SPLIT_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
_NAMED_SPECIAL_TOKENS = {
    151643: "<|endoftext|>",
    151644: "<|im_start|>",
    151645: "<|im_end|>",
    AUDIO_START_ID: "<|audio_start|>",
    151670: "<|audio_end|>",
    AUDIO_PAD_ID: "<|audio_pad|>",
}
_BPE_TRAINING_TEXT = (
    "hello world, this is a test.",
    "language English",
    "the quick brown fox jumps over the lazy dog.",
    "subtitles are written line by line, with a start and an end time.",
    "we transcribe speech and align every word to the audio.",
)
# The prompt qwen-asr builds: a system message with string content and a user message holding one audio part.
_CHAT_TEMPLATE = (
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' }}"
    "{%- if message['content'] is string %}{{- message['content'] }}"
    "{%- else %}{%- for part in message['content'] %}"
    "{%- if part['type'] == 'audio' %}{{- '<|audio_start|><|audio_pad|><|audio_end|>' }}"
    "{%- elif part['type'] == 'text' %}{{- part['text'] }}{%- endif %}"
    "{%- endfor %}{%- endif %}"
    "{{- '<|im_end|>\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)


def aligned_span(unit_index: int) -> tuple[float, float]:
    """Start and end (seconds) the counter aligner gives the unit at ``unit_index`` (0-based)."""
    step_s = COUNTER_STEP * TIMESTAMP_SEGMENT_MS / 1000
    return round(step_s * (2 * unit_index + 1), 3), round(step_s * (2 * unit_index + 2), 3)


def _expected_units() -> tuple[AlignedUnit, ...]:
    words = [w.strip(",.") for w in EXPECTED_TEXT.split()]
    return tuple(AlignedUnit(w, *aligned_span(i)) for i, w in enumerate(words))


@dataclass(frozen=True)
class TinyModels:
    """Where the tiny checkpoints were written, and what they are programmed to answer."""

    asr_dir: Path
    aligner_dir: Path

    language: ClassVar[str] = EXPECTED_LANGUAGE
    text: ClassVar[str] = EXPECTED_TEXT
    units: ClassVar[tuple[AlignedUnit, ...]] = _expected_units()


# --- tokenizer and processor -------------------------------------------------------------------------


def _train_byte_level_bpe() -> tuple[dict[str, int], list[tuple[str, str]]]:
    """A few hundred BPE pieces learnt in memory from English sentences; any other text falls back to bytes."""
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(
        vocab_size=400, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False
    )
    tokenizer.train_from_iterator(_BPE_TRAINING_TEXT * 4, trainer=trainer)
    merges = [tuple(pair) for pair in json.loads(tokenizer.to_str())["model"]["merges"]]
    return tokenizer.get_vocab(), merges


def _special_token_names() -> list[str]:
    """Names for ids 151643..151703 in order; ids without a name the product relies on get placeholders."""
    return [_NAMED_SPECIAL_TOKENS.get(i, f"<|reserved_{i}|>") for i in range(ENDOFTEXT_ID, ASR_TEXT_ID)]


def build_tokenizer() -> Qwen2TokenizerFast:
    """A byte-level BPE tokenizer shaped like Qwen2's, with the special tokens at their real ids.

    Added tokens always get consecutive ids, so the model vocabulary is padded with unreachable filler
    pieces up to the first special id. The pre-tokenizer is a ``Sequence`` because transformers replaces
    its first element when loading with ``fix_mistral_regex=True``, as qwen-asr does.
    """
    vocab, merges = _train_byte_level_bpe()
    vocab.update({f"<|fill{i}|>": i for i in range(len(vocab), ENDOFTEXT_ID)})
    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=merges))
    tokenizer.normalizer = normalizers.NFC()
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(_QWEN2_SPLIT_PATTERN), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.add_special_tokens([AddedToken(name, special=True) for name in _special_token_names()])
    # Non-special, as in the real tokenizer: decoding skips special tokens, and these two must survive it.
    tokenizer.add_tokens([AddedToken("<asr_text>", special=False), AddedToken("<timestamp>", special=False)])
    wrapped = Qwen2TokenizerFast(
        tokenizer_object=tokenizer,
        unk_token=None,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        extra_special_tokens={
            "audio_token": "<|audio_pad|>",
            "audio_bos_token": "<|audio_start|>",
            "audio_eos_token": "<|audio_end|>",
        },
    )
    ids = {name: wrapped.convert_tokens_to_ids(name) for name in ("<|audio_pad|>", "<asr_text>", "<timestamp>")}
    if ids != {"<|audio_pad|>": AUDIO_PAD_ID, "<asr_text>": ASR_TEXT_ID, "<timestamp>": TIMESTAMP_ID}:
        raise RuntimeError(f"special tokens landed on the wrong ids: {ids}")
    return wrapped


def build_processor() -> Qwen3ASRProcessor:
    feature_extractor = WhisperFeatureExtractor(
        feature_size=128,
        sampling_rate=SAMPLE_RATE,
        hop_length=160,
        chunk_length=30,
        n_fft=400,
        return_attention_mask=True,
    )
    return Qwen3ASRProcessor(feature_extractor, build_tokenizer(), chat_template=_CHAT_TEMPLATE)


# --- configs -----------------------------------------------------------------------------------------


def _thinker_config(hidden_size: int) -> dict:
    """Smallest thinker that keeps every dimension tie of the real one (mel bins, 13 tokens/s, mrope)."""
    head_dim = 16
    return {
        "audio_config": {
            "num_mel_bins": 128,
            "encoder_layers": 1,
            "encoder_attention_heads": 2,
            "encoder_ffn_dim": 2 * hidden_size,
            "d_model": hidden_size,
            "output_dim": hidden_size,
            "downsample_hidden_size": 8,
            "n_window": 50,
            "n_window_infer": 800,
            "max_source_positions": 1500,
            "conv_chunksize": 500,
        },
        "text_config": {
            "vocab_size": VOCAB_SIZE,
            "hidden_size": hidden_size,
            "intermediate_size": 2 * hidden_size,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "num_key_value_heads": 1,
            "head_dim": head_dim,
            "rope_theta": 1_000_000.0,
            "max_position_embeddings": 65536,
            "tie_word_embeddings": False,
            # sum(mrope_section) must be head_dim / 2
            "rope_scaling": {"rope_type": "default", "mrope_section": [4, 2, 2], "interleaved": True},
        },
        "audio_token_id": AUDIO_PAD_ID,
        "audio_start_token_id": AUDIO_START_ID,
        "pad_token_id": ENDOFTEXT_ID,
    }


def asr_config(hidden_size: int) -> Qwen3ASRConfig:
    return Qwen3ASRConfig(
        thinker_config=_thinker_config(hidden_size),
        support_languages=list(SUPPORTED_LANGUAGES),
        architectures=["Qwen3ASRForConditionalGeneration"],
    )


def aligner_config(hidden_size: int) -> Qwen3ASRConfig:
    thinker = {**_thinker_config(hidden_size), "model_type": "qwen3_forced_aligner", "classify_num": CLASSIFY_NUM}
    return Qwen3ASRConfig(
        thinker_config=thinker,
        support_languages=list(SUPPORTED_LANGUAGES),
        architectures=["Qwen3ASRForConditionalGeneration"],
        timestamp_token_id=TIMESTAMP_ID,
        timestamp_segment_time=TIMESTAMP_SEGMENT_MS,
    )


# --- programmed weights ------------------------------------------------------------------------------


def _make_text_layers_pass_through(thinker: torch.nn.Module) -> None:
    """Zero every block's output projections so the residual stream is just the token embedding."""
    for layer in thinker.model.layers:
        layer.self_attn.o_proj.weight.zero_()
        layer.mlp.down_proj.weight.zero_()
        layer.input_layernorm.weight.fill_(1.0)
        layer.post_attention_layernorm.weight.fill_(1.0)
    thinker.model.norm.weight.fill_(1.0)


def asr_token_chain(processor: Qwen3ASRProcessor) -> list[int]:
    """Token ids from the prompt's last token to ``<|im_end|>``: what the bigram ASR must walk through."""
    messages = [
        {"role": "system", "content": ""},
        {"role": "user", "content": [{"type": "audio", "audio": ""}]},
    ]
    prompt = processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    answer = f"language {EXPECTED_LANGUAGE}<asr_text>{EXPECTED_TEXT}<|im_end|>"
    return [processor.tokenizer.encode(prompt)[-1], *processor.tokenizer.encode(answer)]


def program_asr(model: Qwen3ASRForConditionalGeneration, chain: Sequence[int]) -> None:
    """Make greedy decoding follow ``chain``: each token's embedding points ``lm_head`` at its successor.

    The sources get orthonormal embeddings, so every step's winning logit is exact and no other
    chain entry competes with it.
    """
    if len(set(chain)) != len(chain):
        raise ValueError("a bigram chain cannot repeat a token")
    thinker = model.thinker
    hidden_size = thinker.config.text_config.hidden_size
    sources, targets = chain[:-1], chain[1:]
    if len(sources) > hidden_size:
        raise ValueError(f"hidden_size {hidden_size} is too small for a {len(sources)}-step chain")
    _make_text_layers_pass_through(thinker)
    basis, _ = torch.linalg.qr(torch.randn(hidden_size, len(sources)))
    embeddings = thinker.model.embed_tokens.weight
    thinker.lm_head.weight.zero_()
    for column, (source, target) in enumerate(zip(sources, targets, strict=True)):
        embeddings[source] = basis[:, column]
        thinker.lm_head.weight[target] = 50.0 * basis[:, column]


def program_aligner(model: Qwen3ASRForConditionalGeneration) -> None:
    """Make the k-th ``<timestamp>`` of a sequence predict class ``COUNTER_STEP * k``.

    Embeddings are one-hot: e0 everywhere, plus e1 on ``<timestamp>`` and e2 on ``<|audio_start|>``
    (audio frames are e0 too: ``proj2`` is zero with bias e0). With zero queries and keys, attention is
    a uniform causal mean, so at a position with ``n`` tokens before it (itself included) the attention
    output holds ``k/n`` (timestamps so far) and ``1/n`` (the single audio start). ``o_proj`` writes
    ``COUNTER_STEP * k/n`` to dim 3 and ``1/n`` to dim 4, and ``lm_head[c] = (2c, -c^2)`` on those dims,
    so the logit ``(2c * STEP * k - c^2) / n`` peaks at ``c = STEP * k`` whatever ``n`` is. The
    ``-c^2`` weights reach 25e6: keep these checkpoints in fp32.
    """
    thinker = model.thinker
    hidden_size = thinker.config.text_config.hidden_size
    if hidden_size < 5:
        raise ValueError("the counter aligner needs hidden_size >= 5")
    _make_text_layers_pass_through(thinker)
    one_hot = torch.eye(hidden_size)
    embeddings = thinker.model.embed_tokens.weight
    embeddings.copy_(one_hot[0].expand_as(embeddings))
    embeddings[TIMESTAMP_ID] += one_hot[1]
    embeddings[AUDIO_START_ID] += one_hot[2]
    audio_out = thinker.audio_tower.proj2
    audio_out.weight.zero_()
    audio_out.bias.copy_(one_hot[0])
    attention = thinker.model.layers[0].self_attn
    attention.q_proj.weight.zero_()
    attention.k_proj.weight.zero_()
    attention.v_proj.weight.zero_()
    attention.v_proj.weight[0, 1] = 1.0  # value dim 0 <- timestamp indicator
    attention.v_proj.weight[1, 2] = 1.0  # value dim 1 <- audio-start indicator
    attention.o_proj.weight[3, 0] = float(COUNTER_STEP)
    attention.o_proj.weight[4, 1] = 1.0
    classes = torch.arange(thinker.lm_head.weight.shape[0], dtype=torch.float32)
    thinker.lm_head.weight.zero_()
    thinker.lm_head.weight[:, 3] = 2.0 * classes
    thinker.lm_head.weight[:, 4] = -(classes**2)


# --- writing folders ---------------------------------------------------------------------------------


def save_checkpoint(
    model: Qwen3ASRForConditionalGeneration,
    processor: Qwen3ASRProcessor,
    dest: Path,
    config_overrides: dict | None = None,
) -> None:
    """Write a loadable folder next to ``dest`` and swap it into place, so a reader never sees half of it."""
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}-", dir=dest.parent))
    try:
        staging.chmod(0o755)  # mkdtemp makes it owner-only; a checkpoint folder is ordinary data
        model.save_pretrained(staging)
        processor.save_pretrained(staging)
        if config_overrides:
            config_path = staging / "config.json"
            config = json.loads(config_path.read_text(encoding="utf-8"))
            for section, values in config_overrides.items():
                config[section].update(values)
            config_path.write_text(json.dumps(config, indent=2), encoding="utf-8")
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(staging, dest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def build_tiny_models(out_dir: Path, hidden_size: int = 16) -> TinyModels:
    """Write ``out_dir/asr`` and ``out_dir/aligner``; same seed and size give the same weights."""
    torch.manual_seed(SEED)
    processor = build_processor()
    with torch.no_grad():
        asr = Qwen3ASRForConditionalGeneration(asr_config(hidden_size)).eval()
        program_asr(asr, asr_token_chain(processor))
        aligner = Qwen3ASRForConditionalGeneration(aligner_config(hidden_size)).eval()
        program_aligner(aligner)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    models = TinyModels(asr_dir=out_dir / "asr", aligner_dir=out_dir / "aligner")
    save_checkpoint(asr, processor, models.asr_dir)
    # save_pretrained writes the class default model_type back; the aligner head is chosen by this marker.
    save_checkpoint(aligner, processor, models.aligner_dir, {"thinker_config": {"model_type": "qwen3_forced_aligner"}})
    return models


def _folder_size_mb(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.iterdir() if f.is_file()) / 1e6


def main(argv: Iterable[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.tiny_models", description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path, help="folder that receives asr/ and aligner/")
    parser.add_argument("--hidden-size", type=int, default=16)
    args = parser.parse_args(None if argv is None else list(argv))
    models = build_tiny_models(args.out_dir, hidden_size=args.hidden_size)
    for folder in (models.asr_dir, models.aligner_dir):
        print(f"wrote {folder} ({_folder_size_mb(folder):.1f} MB)")
    print(f"ASR answers: language {models.language!r}, text {models.text!r}")
    print("aligner units: " + ", ".join(f"{u.text} {u.start_s}-{u.end_s}" for u in models.units))


if __name__ == "__main__":
    main()
