"""Command-line options of ``python -m worker``, turned into the pipeline's option dataclasses."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from pathlib import Path

from asr_core.options import (
    ATTN_IMPLEMENTATIONS,
    BACKENDS,
    CUE_PRESETS,
    DTYPES,
    LRC_HEADER_TAGS_HELP,
    VAD_SOURCES,
    CueOptions,
    ModelOptions,
    OutputOptions,
    PipelineOptions,
    VadOptions,
    WriterOptions,
)
from asr_core.writers import WRITERS
from worker.protocol import JobSpec
from worker.settings import Settings

DEFAULT_FORMATS = ("srt", "lrc")


def build_parser(settings: Settings) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m worker",
        description="Transcribe audio/video files into subtitles (SRT, LRC, …) with Qwen3-ASR, without the WebUI.",
        epilog="Exit status: 0 no file failed, 1 some file failed (or the job could not run), 2 bad usage, "
               "3 another job is already running.",
    )
    io = parser.add_argument_group("input and output")
    io.add_argument("paths", nargs="*", type=Path, help="media files or folders (folders are scanned recursively)")
    io.add_argument("--input", "-i", action="append", type=Path, default=[], metavar="DIR",
                    help="folder to scan recursively (repeatable)")
    io.add_argument("--output", "-o", type=Path, default=settings.output_dir, metavar="DIR",
                    help="output folder; sub-folders of the input are mirrored (default: OUTPUT_DIR or ./output)")
    io.add_argument("--next-to-source", action="store_true", help="write subtitles beside each source file")
    io.add_argument("--format", "-f", action="append", choices=sorted(WRITERS), dest="formats", metavar="FMT",
                    help=f"output format, repeatable: {', '.join(sorted(WRITERS))} (default: srt and lrc)")
    io.add_argument("--overwrite", action="store_true", help="replace subtitles that already exist")
    io.add_argument("--extensions", action="append", default=[], metavar="EXT",
                    help="only these media extensions, e.g. mp3,flac (repeatable; default: every audio/video type)")
    io.add_argument("--no-subfolders", action="store_true", help="scan only the top level of input folders")
    io.add_argument("--touch-album-root", action="store_true",
                    help="update the modification time of each first-level sub-folder of an input folder once, "
                         "after its first subtitle is written (for music servers that rescan by folder time)")

    job = parser.add_argument_group("job state (shared with the WebUI)")
    job.add_argument("--data-dir", type=Path, default=settings.data_dir, metavar="DIR",
                     help="where job_state.json and job.log are kept (default: DATA_DIR or ./data)")
    job.add_argument("--resume", action="store_true",
                     help="run the last job of the data folder again, skipping the files it already finished")
    job.add_argument("--job-spec", type=Path, metavar="FILE", help="run the job described by this JSON file")
    job.add_argument("--detached", action="store_true",
                     help="run as the WebUI's background worker (print nothing; wait for the job lock)")
    job.add_argument("--status", action="store_true", help="print the state of the last job and exit")

    model = parser.add_argument_group("model")
    model.add_argument("--asr-checkpoint", default=settings.asr_checkpoint,
                       help="ASR model folder or hub ID (default: ASR_CHECKPOINT, ./models/Qwen3-ASR-1.7B, hub)")
    model.add_argument("--aligner-checkpoint", default=settings.aligner_checkpoint,
                       help="forced aligner folder or hub ID (default: ALIGNER_CHECKPOINT, "
                            "./models/Qwen3-ForcedAligner-0.6B, hub)")
    model.add_argument("--backend", choices=BACKENDS, default="transformers", help="vllm is Linux only")
    model.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    model.add_argument("--dtype", choices=DTYPES, default="auto")
    model.add_argument("--attn-implementation", choices=ATTN_IMPLEMENTATIONS, default="auto",
                       help="flash_attention_2 needs the flash-attn package and fp16/bf16; otherwise sdpa is used")
    model.add_argument("--batch-size", type=int, default=8,
                       help="clips (of at most 180 s) recognised at once; short files share one call up to this")
    model.add_argument("--max-new-tokens", type=int, default=1024)
    model.add_argument("--language", default=None, help="force a language (e.g. English, Chinese); default: detect")
    model.add_argument("--context", default="", help="context or hotwords given to the recogniser")
    model.add_argument("--gpu-memory-utilization", type=float, default=0.8, help="vLLM only")
    model.add_argument("--max-model-len", type=int, default=settings.vllm_max_model_len,
                       help="vLLM only (default: VLLM_MAX_MODEL_LEN or 16384)")

    vad = parser.add_argument_group("voice activity detection (Silero VAD)")
    vad.add_argument("--vad", action=argparse.BooleanOptionalAction, default=False,
                     help="transcribe only speech spans, skipping long silences")
    vad.add_argument("--vad-source", choices=VAD_SOURCES, default="package",
                     help="package: model shipped with silero-vad (offline); hub/auto: torch.hub; "
                          "local: a silero-vad checkout in VAD_REPO_DIR")
    vad.add_argument("--vad-repo-dir", default=settings.vad_repo_dir, help="silero-vad checkout for source local")
    vad.add_argument("--vad-threshold", type=float, default=0.5)
    vad.add_argument("--vad-min-speech-ms", type=int, default=250)
    vad.add_argument("--vad-min-silence-ms", type=int, default=500)
    vad.add_argument("--vad-pad-ms", type=int, default=200)
    vad.add_argument("--vad-max-span-s", type=float, default=30.0)

    layout = parser.add_argument_group(
        "subtitle layout (defaults come from the language's preset: latin, chinese, japanese, korean)"
    )
    layout.add_argument("--preset", choices=CUE_PRESETS, default=None, help="force a preset instead of the language's")
    layout.add_argument("--max-line-width", type=int, default=None, metavar="COLUMNS",
                        help="display columns per line; a CJK character counts 2 (presets: 42/32/26/32)")
    layout.add_argument("--max-lines", type=int, default=None, help="lines per cue (default 2)")
    layout.add_argument("--min-duration", type=float, default=None, metavar="S", help="shortest cue (default 5/6 s)")
    layout.add_argument("--max-duration", type=float, default=None, metavar="S", help="longest cue (default 7 s)")
    layout.add_argument("--max-cps", type=float, default=None, metavar="CHARS",
                        help="reading speed limit in characters/s (presets: 20/9/4/12)")
    layout.add_argument("--max-linger", type=float, default=None, metavar="S",
                        help="how long a cue may stay after its last word (default 0.5 s)")
    layout.add_argument("--lrc-header-tags", action="store_true",
                        help=LRC_HEADER_TAGS_HELP)

    parser.add_argument("--ffmpeg", default=settings.ffmpeg_binary,
                        help="ffmpeg binary (default: FFMPEG_BINARY, then PATH, then the bundled one)")
    parser.add_argument("--verbose", "-v", action="store_true", help="log model loading and warnings")
    return parser


def options_from_args(args: argparse.Namespace) -> PipelineOptions:
    """Raises ValueError with a readable message for an invalid combination."""
    return PipelineOptions(
        model=ModelOptions(
            asr_checkpoint=args.asr_checkpoint,
            aligner_checkpoint=args.aligner_checkpoint,
            backend=args.backend,
            device=args.device,
            dtype=args.dtype,
            attn_implementation=args.attn_implementation,
            batch_size=args.batch_size,
            max_new_tokens=args.max_new_tokens,
            language=args.language or None,
            context=args.context,
            gpu_memory_utilization=args.gpu_memory_utilization,
            max_model_len=args.max_model_len,
        ),
        vad=VadOptions(
            enabled=args.vad,
            source=args.vad_source,
            repo_dir=args.vad_repo_dir,
            threshold=args.vad_threshold,
            min_speech_ms=args.vad_min_speech_ms,
            min_silence_ms=args.vad_min_silence_ms,
            speech_pad_ms=args.vad_pad_ms,
            max_span_s=args.vad_max_span_s,
        ),
        cues=CueOptions(
            preset=args.preset,
            max_line_width=args.max_line_width,
            max_lines=args.max_lines,
            min_duration_s=args.min_duration,
            max_duration_s=args.max_duration,
            max_chars_per_s=args.max_cps,
            max_linger_s=args.max_linger,
        ),
        writer=WriterOptions(lrc_header_tags=args.lrc_header_tags),
        output=OutputOptions(
            formats=tuple(args.formats or DEFAULT_FORMATS),
            output_dir=str(args.output),
            save_next_to_source=args.next_to_source,
            overwrite=args.overwrite,
        ),
    )


def spec_from_args(args: argparse.Namespace, options: PipelineOptions) -> JobSpec:
    """The job a command line describes, in the same form the WebUI stores."""
    return JobSpec(
        inputs=tuple(str(p) for p in [*args.input, *args.paths]),
        output_dir=None if options.output.save_next_to_source else options.output.output_dir,
        formats=options.output.formats,
        overwrite=options.output.overwrite,
        touch_album_root=args.touch_album_root,
        include_subfolders=not args.no_subfolders,
        extensions=tuple(args.extensions),
        model=asdict(options.model),
        vad=asdict(options.vad),
        cues=asdict(options.cues),
        writer=asdict(options.writer),
    ).with_absolute_paths()
