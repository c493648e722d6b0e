"""``python -m worker``: run a batch with no UI and print one line per file.

The run goes through the same job files as the WebUI (state, journal and log in the data folder), so the
UI shows a CLI run and ``--resume`` continues a job the UI started. The WebUI's detached worker is this
same entry point with ``--job-spec FILE --detached``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence

from worker.environment import prepare_environment
from worker.jobfiles import JobPaths
from worker.runner import EXIT_OK
from worker.settings import Settings


def main(argv: Sequence[str] | None = None) -> int:
    notices = prepare_environment(os.environ)  # before anything imports transformers or torch
    settings = Settings.from_env(os.environ)
    from worker.cli import build_parser

    parser = build_parser(settings)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.ERROR, format="%(levelname)s %(message)s")
    for notice in notices:
        logging.getLogger("worker").info("%s", notice)
    from worker.protocol import read_job
    from worker.runner import print_status, run_cli_job

    if args.status:
        print_status(read_job(args.data_dir, rtf=settings.progress_rtf, done_flash_s=settings.done_flash_s),
                     sys.stdout)
        return EXIT_OK
    spec = _spec(parser, args)
    return run_cli_job(spec, args.data_dir, ffmpeg=args.ffmpeg, resume=args.resume, detached=args.detached)


def _spec(parser: argparse.ArgumentParser, args: argparse.Namespace):
    """The job to run: from --job-spec, the data folder's last job (--resume), or the command line."""
    from worker.cli import options_from_args, spec_from_args
    from worker.protocol import JobSpec

    if args.job_spec is not None or args.resume:
        path = args.job_spec or JobPaths(args.data_dir).spec
        try:
            return JobSpec.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            parser.error(f"no job to run: {path} does not exist")
        except (ValueError, OSError) as exc:
            parser.error(f"cannot use the job spec {path}: {exc}")
    inputs = [*args.input, *args.paths]
    if not inputs:
        parser.error("give at least one file or folder (positional or --input DIR), or --resume")
    missing = [str(p) for p in inputs if not p.exists()]
    if missing:
        parser.error(f"not found: {', '.join(missing)}")
    try:
        return spec_from_args(args, options_from_args(args))
    except ValueError as exc:
        parser.error(str(exc))


if __name__ == "__main__":
    sys.exit(main())
