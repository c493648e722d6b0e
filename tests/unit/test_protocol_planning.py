"""From a job spec to the files a run processes: filters, sub-folders, album roots, retry and resume."""

from __future__ import annotations

from pathlib import Path

import pytest

from worker.job import carried_results, pipeline_options, plan_files
from worker.jobfiles import JobPaths, append_line, dump_json, write_journal
from worker.protocol import JobSpec
from worker.scan import MEDIA_EXTENSIONS, normalise_extensions


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return path


@pytest.fixture
def music(tmp_path: Path) -> Path:
    root = tmp_path / "music"
    for name in ("Album A/CD1/01.mp3", "Album A/02.flac", "Album B/01.m4a", "loose.mp3", "notes.txt"):
        touch(root / name)
    return root


def spec(root: Path, **changes) -> JobSpec:
    return JobSpec(**{"inputs": (str(root),), "output_dir": str(root.parent / "out"), "formats": ("srt",), **changes})


def test_extensions_are_normalised_and_empty_means_every_media_type():
    assert normalise_extensions(["MP3", ".flac", " m4a, ogg "]) == {".mp3", ".flac", ".m4a", ".ogg"}
    assert normalise_extensions([]) == MEDIA_EXTENSIONS


def test_plan_follows_extensions_and_sub_folder_choice(music):
    assert [f.display_name for f in plan_files(spec(music))] == [
        "Album A/02.flac", "Album A/CD1/01.mp3", "Album B/01.m4a", "loose.mp3"]
    assert [f.display_name for f in plan_files(spec(music, extensions=("mp3",)))] == [
        "Album A/CD1/01.mp3", "loose.mp3"]
    assert [f.display_name for f in plan_files(spec(music, include_subfolders=False))] == ["loose.mp3"]


def test_each_file_knows_its_album_root_the_first_level_sub_folder(music):
    roots = {f.display_name: f.album_root for f in plan_files(spec(music))}
    assert roots == {"Album A/02.flac": music / "Album A", "Album A/CD1/01.mp3": music / "Album A",
                     "Album B/01.m4a": music / "Album B", "loose.mp3": None}


def test_retry_plans_only_the_listed_sources(music):
    only = (str(music / "Album B" / "01.m4a"),)
    assert [f.display_name for f in plan_files(spec(music, only_sources=only))] == ["Album B/01.m4a"]


def test_options_from_a_spec_are_validated_with_a_readable_message(music):
    options = pipeline_options(spec(music, model={"device": "cpu"}, cues={"max_lines": 1}))
    assert (options.model.device, options.cues.max_lines, options.output.save_next_to_source) == ("cpu", 1, False)
    assert pipeline_options(spec(music, output_dir=None)).output.save_next_to_source is True
    with pytest.raises(ValueError, match="invalid job options"):
        pipeline_options(spec(music, model={"no_such_option": 1}))
    with pytest.raises(ValueError, match="batch_size"):
        pipeline_options(spec(music, model={"batch_size": 0}))


def test_resume_keeps_finished_files_whose_subtitles_still_exist(tmp_path, music):
    files = plan_files(spec(music))
    paths = JobPaths(tmp_path / "data")
    kept_output = touch(tmp_path / "out" / "Album A" / "02.srt")
    plan = [{"i": i, "name": f.display_name, "source": str(f.source)} for i, f in enumerate(files)]
    write_journal(paths.journal, {"schema_version": 1, "job_id": "old"}, plan)
    results = [
        {"i": 0, "status": "done", "outputs": [str(kept_output)], "duration_s": 12.0},
        {"i": 1, "status": "done", "outputs": [str(tmp_path / "out" / "deleted.srt")]},
        {"i": 2, "status": "failed", "reason": "corrupt"},
        {"i": 3, "status": "empty", "outputs": []},
    ]
    for record in results:
        append_line(paths.journal, dump_json(record))
    carried = carried_results(paths, files)
    assert sorted(files[i].display_name for i in carried) == ["Album A/02.flac", "loose.mp3"]
    assert carried[0]["duration_s"] == 12.0
