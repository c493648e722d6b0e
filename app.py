"""Start the WebUI: ``python app.py --host 0.0.0.0 --port 7860``.

Deliberately thin: read the environment once, fix it up, load the saved settings, build the page and
serve it. Gradio is imported only after the arguments are parsed, so ``--help`` answers at once; torch
and the models are never imported here (the detached worker process loads them).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

from worker.environment import prepare_environment
from worker.settings import Settings

logger = logging.getLogger("app")


def build_parser(settings: Settings) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python app.py", description="Qwen3-ASR batch subtitle WebUI (SRT, LRC, …)."
    )
    parser.add_argument(
        "--host", default=None,
        help="address to listen on, e.g. 0.0.0.0 for every interface "
             "(default: GRADIO_SERVER_NAME, else 127.0.0.1)",
    )
    parser.add_argument("--port", type=int, default=settings.port,
                        help=f"port to listen on (default: PORT, else 7860; now {settings.port})")
    parser.add_argument("--verbose", "-v", action="store_true", help="log more detail")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    env_notices = prepare_environment(os.environ)  # before any library reads the cache variables
    settings = Settings.from_env(os.environ)
    args = build_parser(settings).parse_args(argv)
    host = args.host or settings.server_name
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for notice in env_notices:
        logger.warning("%s", notice)
    # Gradio 6.17 trips over Starlette's renamed status constant on every queued event; it is harmless.
    warnings.filterwarnings("ignore", message=".*HTTP_422_UNPROCESSABLE_ENTITY.*")

    from asr_core.writers import WRITERS
    from webui.access import allowed_roots, gradio_auth, restrict_for_host
    from webui.choices import find_local_models, vllm_unavailable_reason
    from webui.config_store import ConfigStore
    from webui.fields import webui_fields
    from webui.layout import CSS, UiContext, build_ui
    from webui.served import ServedFolders
    from worker.launcher import on_app_start

    settings = restrict_for_host(settings, host, cwd=Path.cwd())
    if (settings.webui_username is None) != (settings.webui_password is None):
        logger.warning("set both WEBUI_USERNAME and WEBUI_PASSWORD to require a login; it is off")
    formats = tuple(WRITERS)
    store = ConfigStore(settings.webui_config_path, webui_fields(settings, formats))
    for notice in store.load():
        logger.warning("%s", notice)
    values = store.values()
    on_app_start(settings.data_dir, clear=values["clear_on_start"])
    served = ServedFolders([settings.output_dir, values["output_dir"]], limit=allowed_roots(settings))
    demo = build_ui(UiContext(
        settings=settings, store=store, startup_notices=tuple(env_notices),
        local_models=find_local_models(settings.models_dir), vllm_unavailable=vllm_unavailable_reason(),
        formats=formats, served=served,
    ))
    # SIGTERM (docker stop) becomes SystemExit, so pending settings are still written below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        demo.queue(default_concurrency_limit=4).launch(
            server_name=host, server_port=args.port, ssr_mode=False, allowed_paths=served.roots,
            auth=gradio_auth(settings),
            css=CSS, show_error=True, footer_links=["gradio", "settings"],
        )
    finally:
        store.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
