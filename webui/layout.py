"""The page: settings panels on top, the job panel below, wired to the config store and the job files.

Each panel is a small function returning its controls keyed by setting name, so autosave and restore
are wired once for all of them. Controls that tests touch carry an ``elem_id`` (the setting name with
dashes). Nothing here holds job state: every page renders the job from the data folder on each tick.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from asr_core.options import ATTN_IMPLEMENTATIONS, CUE_PRESETS, DTYPES, LRC_HEADER_TAGS_HELP, VAD_SOURCES
from asr_core.presets import PRESETS
from webui import actions
from webui.choices import VLLM_LABEL, LocalModels
from webui.config_store import ConfigStore
from webui.fields import AUTO_LANGUAGE, AUTO_PRESET, CUE_LIMITS, LANGUAGE_CHOICES, cue_key
from webui.polling import TABLE_COLUMNS, JobPanel, changed_fields, render_job
from webui.preview import cue_rows, read_preview
from webui.served import ServedFolders
from worker.protocol import read_job
from worker.settings import Settings

logger = logging.getLogger(__name__)

POLL_INTERVAL_S = 1.0
LOG_LINES = 200
CSS = """
#job-summary { gap: 4px; }
#job-summary .block { padding-top: 2px; padding-bottom: 2px; }
#job-summary .block:has(span.md:empty), #job-summary .block:has(.job-stage[data-stage=""]) { display: none; }
.job-progress { position: relative; height: 1.6em; border-radius: 6px; overflow: hidden;
  background: var(--block-background-fill); border: 1px solid var(--border-color-primary); }
.job-progress-fill { position: absolute; inset: 0 auto 0 0; background: var(--color-accent); opacity: .75;
  transition: width .4s ease; }
.job-progress-label { position: relative; padding-left: .6em; line-height: 1.6em; font-size: .9em; }
.job-status, .job-stage { padding: .2em 0; min-height: 1.4em; }
"""
FLASH_ATTENTION_HINT = (
    "flash_attention_2 needs the flash-attn package, a CUDA GPU and dtype fp16 or bf16; "
    "otherwise sdpa is used (auto picks it when it can)."
)
PREVIEW_COLUMNS = ("Start", "End", "Text")
# CueOptions limit -> (label, what it limits); the same options as the command line's subtitle layout group.
CUE_LIMIT_LABELS = {
    "max_line_width": ("Max line width (columns)", "A CJK character counts 2."),
    "max_lines": ("Max lines per cue", "1, 2 or 3."),
    "max_chars_per_s": ("Max characters per second", "Reading speed; in CJK presets a full-width character "
                        "counts 1."),
    "min_duration_s": ("Min cue duration (s)", "Shortest time a cue stays on screen."),
    "max_duration_s": ("Max cue duration (s)", "Longer sentences are split."),
    "max_linger_s": ("Max linger (s)", "How long a cue may stay after its last word."),
}


@dataclass(frozen=True)
class UiContext:
    """What the page is built from; all of it is decided once, when the app starts."""

    settings: Settings
    store: ConfigStore
    startup_notices: tuple[str, ...]
    local_models: LocalModels
    vllm_unavailable: str | None
    formats: tuple[str, ...]
    served: ServedFolders


def _id(key: str) -> str:
    return key.replace("_", "-")


def _checkpoint_choices(found: Sequence[str], default: str) -> list[str]:
    return list(dict.fromkeys([*found, default]))


def input_panel() -> tuple[dict[str, gr.components.Component], gr.Group, gr.Group, gr.File]:
    controls: dict[str, gr.components.Component] = {}
    controls["input_mode"] = gr.Radio(
        [("Folder on the server", "folder"), ("Upload files", "upload")], label="Input", elem_id=_id("input_mode")
    )
    with gr.Group(visible=True) as folder_group:
        controls["input_dir"] = gr.Textbox(
            label="Input folder", placeholder="/music or D:\\Audio", elem_id=_id("input_dir"),
            info="Scanned on the server for audio and video files.",
        )
        with gr.Row():
            controls["extensions"] = gr.Textbox(
                label="Only these extensions", placeholder="all media, or e.g. mp3, flac", elem_id=_id("extensions")
            )
            controls["include_subfolders"] = gr.Checkbox(label="Include sub-folders", elem_id=_id("include_subfolders"))
    with gr.Group(visible=False) as upload_group:
        uploads = gr.File(label="Files to transcribe", file_count="multiple", type="filepath", elem_id="upload-files")
    return controls, folder_group, upload_group, uploads


def output_panel(formats: Sequence[str]) -> dict[str, gr.components.Component]:
    controls: dict[str, gr.components.Component] = {}
    controls["output_dir"] = gr.Textbox(
        label="Output folder", elem_id=_id("output_dir"), info="Sub-folders of the input are mirrored here."
    )
    controls["save_next_to_source"] = gr.Checkbox(
        label="Save next to source (folder input only)", elem_id=_id("save_next_to_source")
    )
    controls["formats"] = gr.CheckboxGroup(
        [(f.upper(), f) for f in formats], label="Formats", elem_id=_id("formats")
    )
    with gr.Row():
        controls["overwrite"] = gr.Checkbox(label="Overwrite existing subtitles", elem_id=_id("overwrite"))
        controls["touch_album_root"] = gr.Checkbox(
            label="Update album folder modification time", elem_id=_id("touch_album_root"),
            info="Touches each first-level sub-folder of the input once, after its first subtitle.",
        )
    with gr.Accordion("Subtitle layout", open=False, elem_id="subtitle-layout"):
        controls |= subtitle_layout_panel()
    return controls


def _preset_values(option: str) -> dict[str, str]:
    """Each preset's value of a CueOptions limit, as shown to the user (``0.83``, not ``0.8333333``)."""
    return {name: f"{round(getattr(PRESETS[name], option), 2):g}" for name in CUE_PRESETS}


def preset_values_text(option: str) -> str:
    """For a limit's help text: ``"latin 42, chinese 32, …"``, or ``"2"`` when every preset agrees."""
    values = _preset_values(option)
    if len(set(values.values())) == 1:
        return values[CUE_PRESETS[0]]
    return ", ".join(f"{name} {value}" for name, value in values.items())


def limit_placeholder(option: str, preset: str) -> str:
    """What a blank limit means with ``preset`` chosen, shown in the empty field."""
    values = _preset_values(option)
    possible = set(values.values()) if preset == AUTO_PRESET else {values[preset]}
    return f"preset: {possible.pop()}" if len(possible) == 1 else "preset: by language"


def subtitle_layout_panel() -> dict[str, gr.components.Component]:
    """The command line's subtitle layout options; a blank number keeps the preset's value."""
    controls: dict[str, gr.components.Component] = {
        "cue_preset": gr.Dropdown(
            [("Automatic (by language)", AUTO_PRESET), *((name.capitalize(), name) for name in CUE_PRESETS)],
            label="Preset", elem_id=_id("cue_preset"),
            info="The limits of one script; automatic picks it from the (detected) language.",
        )
    }
    options = list(CUE_LIMITS)
    for row in (options[:3], options[3:]):
        with gr.Row():
            for option in row:
                label, meaning = CUE_LIMIT_LABELS[option]
                controls[cue_key(option)] = gr.Number(
                    label=label, info=f"{meaning} Preset: {preset_values_text(option)}.",
                    placeholder=limit_placeholder(option, AUTO_PRESET), elem_id=_id(cue_key(option)),
                    precision=0 if CUE_LIMITS[option] is int else None, step=1 if CUE_LIMITS[option] is int else 0.1,
                )
    controls["lrc_header_tags"] = gr.Checkbox(
        label="LRC header tags", elem_id=_id("lrc_header_tags"),
        info=LRC_HEADER_TAGS_HELP,
    )
    return controls


def model_panel(context: UiContext) -> tuple[dict[str, gr.components.Component], gr.Markdown]:
    settings, found = context.settings, context.local_models
    controls: dict[str, gr.components.Component] = {}
    with gr.Row():
        controls["asr_checkpoint"] = gr.Dropdown(
            _checkpoint_choices(found.asr, settings.asr_checkpoint), label="ASR model", allow_custom_value=True,
            elem_id=_id("asr_checkpoint"), info="A folder with config.json (models found under ./models are "
            "listed) or a Hugging Face ID.",
        )
        controls["aligner_checkpoint"] = gr.Dropdown(
            _checkpoint_choices(found.aligner, settings.aligner_checkpoint), label="Forced aligner",
            allow_custom_value=True, elem_id=_id("aligner_checkpoint"), info="Gives each word its time.",
        )
    hint = gr.Markdown(elem_id="model-hint")
    with gr.Row():
        controls["backend"] = gr.Radio(
            [("transformers", "transformers"), (VLLM_LABEL, "vllm")], label="Backend", elem_id=_id("backend"),
            interactive=context.vllm_unavailable is None,
            info=context.vllm_unavailable or "vLLM is faster on Linux GPUs.",
        )
        controls["device"] = gr.Dropdown(
            ["auto", "cuda", "cuda:0", "cuda:1", "cpu"], label="Device", allow_custom_value=True,
            elem_id=_id("device"),
        )
        controls["dtype"] = gr.Dropdown(list(DTYPES), label="dtype", elem_id=_id("dtype"))
        controls["attn_implementation"] = gr.Dropdown(
            list(ATTN_IMPLEMENTATIONS), label="attn_implementation", elem_id=_id("attn_implementation"),
            info=FLASH_ATTENTION_HINT,
        )
    with gr.Row():
        controls["batch_size"] = gr.Number(label="Batch size", precision=0, minimum=1, maximum=256,
                                           elem_id=_id("batch_size"),
                                           info="Clips recognised at once; short files share one call. "
                                                "Lower it if the GPU runs out of memory.")
        controls["max_new_tokens"] = gr.Number(label="max_new_tokens", precision=0, minimum=16, maximum=32768,
                                               elem_id=_id("max_new_tokens"))
        controls["gpu_memory_utilization"] = gr.Slider(
            0.05, 0.99, step=0.01, label="gpu_memory_utilization (vLLM)", elem_id=_id("gpu_memory_utilization")
        )
        controls["language"] = gr.Dropdown(
            [("auto (detect)", AUTO_LANGUAGE), *((name, name) for name in LANGUAGE_CHOICES[1:])],
            label="Language", elem_id=_id("language"),
        )
    controls["context"] = gr.Textbox(
        label="Context / hotwords", lines=2, elem_id=_id("context"),
        placeholder="Names and terms that appear in the audio, e.g. Navidrome, Jellyfin",
    )
    return controls, hint


def vad_panel() -> dict[str, gr.components.Component]:
    controls: dict[str, gr.components.Component] = {}
    with gr.Row():
        controls["vad_enabled"] = gr.Checkbox(
            label="Use VAD (skip long silences, transcribe speech spans)", elem_id=_id("vad_enabled")
        )
        controls["vad_source"] = gr.Dropdown(
            list(VAD_SOURCES), label="VAD source", elem_id=_id("vad_source"),
            info="package: bundled with silero-vad (offline); auto/hub: torch.hub; local: VAD_REPO_DIR",
        )
        controls["vad_repo_dir"] = gr.Textbox(label="VAD_REPO_DIR (for source local)", elem_id=_id("vad_repo_dir"))
    with gr.Row():
        controls["vad_threshold"] = gr.Slider(0.05, 0.95, step=0.05, label="Speech threshold",
                                              elem_id=_id("vad_threshold"))
        controls["vad_min_speech_ms"] = gr.Number(label="Min speech (ms)", precision=0, minimum=0,
                                                  elem_id=_id("vad_min_speech_ms"))
        controls["vad_min_silence_ms"] = gr.Number(label="Min silence (ms)", precision=0, minimum=0,
                                                   elem_id=_id("vad_min_silence_ms"))
        controls["vad_speech_pad_ms"] = gr.Number(label="Speech padding (ms)", precision=0, minimum=0,
                                                  elem_id=_id("vad_speech_pad_ms"))
        controls["vad_max_span_s"] = gr.Number(label="Max span (s)", minimum=1, elem_id=_id("vad_max_span_s"))
    return controls


def job_preferences_panel() -> dict[str, gr.components.Component]:
    return {
        "clear_on_cancel": gr.Checkbox(label="Clear the job state and log after Cancel",
                                       elem_id=_id("clear_on_cancel")),
        "clear_on_start": gr.Checkbox(
            label="Clear a finished job's state and log when the app starts", elem_id=_id("clear_on_start"),
            info="A job still running when the app restarts is always kept and shown.",
        ),
    }


@dataclass(frozen=True)
class JobWidgets:
    """The job panel's components, in the order of JobPanel's fields."""

    status: gr.HTML
    notice: gr.Markdown
    stage: gr.HTML
    file_bar: gr.HTML
    batch_bar: gr.HTML
    log: gr.Textbox
    table: gr.Dataframe
    start: gr.Button
    cancel: gr.Button
    resume: gr.Button
    retry: gr.Button
    preview_file: gr.Dropdown

    def components(self) -> list[gr.components.Component]:
        return [self.status, self.notice, self.stage, self.file_bar, self.batch_bar, self.log, self.table,
                self.start, self.cancel, self.resume, self.retry, self.preview_file]


def job_panel() -> tuple[JobWidgets, gr.Markdown, gr.Dataframe]:
    with gr.Row():
        start = gr.Button("Start", variant="primary", elem_id="start-button")
        cancel = gr.Button("Cancel", variant="stop", elem_id="cancel-button")
        resume = gr.Button("Resume", elem_id="resume-button")
        retry = gr.Button("Retry failed", elem_id="retry-button")
    with gr.Column(elem_id="job-summary"):
        message = gr.Markdown(elem_id="action-message")
        status = gr.HTML(elem_id="job-status")
        stage = gr.HTML(elem_id="job-stage")
        notice = gr.Markdown(elem_id="job-notice")
        file_bar = gr.HTML(elem_id="file-progress")
        batch_bar = gr.HTML(elem_id="batch-progress")
    log = gr.Textbox(label="Log", lines=10, max_lines=10, autoscroll=True, interactive=False, elem_id="job-log")
    table = gr.Dataframe(
        # One datatype for all columns: a per-column list sends Gradio 6.17's table into a render loop.
        headers=list(TABLE_COLUMNS), datatype="markdown", interactive=False,
        label="Results", elem_id="results-table", wrap=True,
        column_widths=["5%", "25%", "8%", "9%", "23%", "30%"],
    )
    with gr.Accordion("Preview a finished subtitle", open=True):
        preview_file = gr.Dropdown([], label="Subtitle file", elem_id="preview-file")
        preview = gr.Dataframe(headers=list(PREVIEW_COLUMNS), interactive=False, elem_id="preview-cues", wrap=True)
    widgets = JobWidgets(status, notice, stage, file_bar, batch_bar, log, table, start, cancel, resume, retry,
                         preview_file)
    return widgets, message, preview


def panel_updates(previous: JobPanel | None, panel: JobPanel) -> list[Any]:
    """One value per JobWidgets component; unchanged ones are skipped so the browser keeps scroll and focus."""
    changed = changed_fields(previous, panel)
    values = [
        ("status_html", panel.status_html),
        ("notice", panel.notice),
        ("stage_html", panel.stage_html),
        ("file_bar_html", panel.file_bar_html),
        ("batch_bar_html", panel.batch_bar_html),
        ("log", panel.log),
        ("rows", {"headers": list(TABLE_COLUMNS), "data": [list(r) for r in panel.rows]}),
        ("can_start", gr.update(interactive=panel.can_start)),
        ("can_cancel", gr.update(interactive=panel.can_cancel)),
        ("can_resume", gr.update(interactive=panel.can_resume)),
        ("can_retry", gr.update(interactive=panel.can_retry)),
        ("preview_choices", gr.update(choices=[list(c) for c in panel.preview_choices])),
    ]
    return [value if name in changed else gr.skip() for name, value in values]


def build_ui(context: UiContext) -> gr.Blocks:
    settings, store = context.settings, context.store
    with gr.Blocks(title="Qwen3-ASR subtitles") as demo:
        gr.Markdown("## Qwen3-ASR batch subtitles")
        settings_notice = gr.Markdown(elem_id="settings-notice")
        with gr.Tabs():
            with gr.Tab("Input & output", elem_id="tab-io"), gr.Row():
                with gr.Column():
                    controls, folder_group, upload_group, uploads = input_panel()
                with gr.Column():
                    controls |= output_panel(context.formats)
            with gr.Tab("Model", elem_id="tab-model"):
                model_controls, model_hint = model_panel(context)
                controls |= model_controls
            with gr.Tab("VAD", elem_id="tab-vad"):
                controls |= vad_panel()
            with gr.Tab("Job", elem_id="tab-job"):
                controls |= job_preferences_panel()
        widgets, message, preview = job_panel()
        previous = gr.State(None)
        timer = gr.Timer(POLL_INTERVAL_S)

        keys = list(controls)
        components = [controls[k] for k in keys]
        _wire_autosave(controls, store)

        def poll(last: JobPanel | None) -> list[Any]:
            view = read_job(settings.data_dir, log_lines=LOG_LINES, rtf=settings.progress_rtf,
                            done_flash_s=settings.done_flash_s)
            if view.spec is not None and view.spec.output_dir:
                context.served.allow(view.spec.output_dir)
            panel = render_job(view, now=time.time(), link_for=context.served.link_for)
            return [panel, *panel_updates(last, panel)]

        poll_outputs = [previous, *widgets.components()]
        timer.tick(poll, inputs=previous, outputs=poll_outputs, show_progress="hidden")

        def restore() -> list[Any]:
            values = store.values()
            notices = [*context.startup_notices, *store.notices]
            return [*(list(v) if isinstance(v, tuple) else v for v in (values[k] for k in keys)),
                    "\n\n".join(f"⚠ {n}" for n in notices)]

        demo.load(restore, outputs=[*components, settings_notice], show_progress="hidden").then(
            poll, inputs=previous, outputs=poll_outputs, show_progress="hidden"
        )

        controls["input_mode"].change(
            lambda mode: (gr.update(visible=mode == "folder"), gr.update(visible=mode == "upload")),
            inputs=controls["input_mode"], outputs=[folder_group, upload_group], show_progress="hidden",
        )
        limits = [controls[cue_key(option)] for option in CUE_LIMITS]
        controls["cue_preset"].change(
            lambda preset: [gr.update(placeholder=limit_placeholder(option, preset)) for option in CUE_LIMITS],
            inputs=controls["cue_preset"], outputs=limits, show_progress="hidden",
        )
        hint_inputs = [controls[k] for k in ("asr_checkpoint", "aligner_checkpoint", "dtype", "attn_implementation")]
        for component in hint_inputs:
            component.change(actions.model_hints, inputs=hint_inputs, outputs=model_hint, show_progress="hidden")

        def run_action(action: Callable[[], str]) -> str:
            try:
                return action()
            except actions.InputProblem as exc:
                return f"**Cannot do that:** {exc}"

        def start(*args: Any) -> str:
            values = dict(zip(keys, args[:-1], strict=True))
            if values["input_mode"] == "upload":
                return run_action(lambda: actions.start_upload_job(values, args[-1], settings))
            return run_action(lambda: actions.start_folder_job(values, settings))

        def after_action(event: Any) -> None:
            event.then(poll, inputs=previous, outputs=poll_outputs, show_progress="hidden")

        after_action(widgets.start.click(start, inputs=[*components, uploads], outputs=message))
        after_action(widgets.cancel.click(
            lambda clear: run_action(lambda: actions.cancel(settings, clear=clear)),
            inputs=controls["clear_on_cancel"], outputs=message,
        ))
        after_action(widgets.resume.click(lambda: run_action(lambda: actions.resume(settings)), outputs=message))
        after_action(widgets.retry.click(lambda: run_action(lambda: actions.retry(settings)), outputs=message))
        widgets.preview_file.change(
            lambda path: _preview_rows(settings, path), inputs=widgets.preview_file, outputs=preview,
            show_progress="hidden",
        )
    return demo


def _wire_autosave(controls: dict[str, gr.components.Component], store: ConfigStore) -> None:
    """Every user edit (each keystroke included) goes to the store, which writes at most once a second."""
    for key, component in controls.items():

        def save(value: Any, key: str = key) -> None:
            try:
                store.update(key, value)
            except ValueError:
                return  # out of range, often on the way to a valid value ("1" before "16"); Start explains it
            if store.write_error:
                gr.Warning(store.write_error)

        # change, not input: pasted or script-filled text counts too; restoring equal values writes nothing.
        component.change(save, inputs=component, outputs=None, show_progress="hidden", trigger_mode="always_last")


def _preview_rows(settings: Settings, path: str | None) -> dict[str, Any]:
    """Only files the current job wrote may be previewed, whatever a crafted request asks for."""
    empty = {"headers": list(PREVIEW_COLUMNS), "data": []}
    if not path:
        return empty
    outputs = {o for entry in read_job(settings.data_dir, log_lines=0).files for o in entry.outputs}
    if path not in outputs:
        return empty
    try:
        preview = read_preview(Path(path))
    except OSError as exc:
        return {"headers": list(PREVIEW_COLUMNS), "data": [["", "", f"cannot read {path}: {exc.strerror or exc}"]]}
    rows = cue_rows(preview) or [["", "", line] for line in preview.raw_text.splitlines()[:200]]
    return {"headers": list(PREVIEW_COLUMNS), "data": rows or [["", "", "(no cues: nothing was recognised)"]]}
