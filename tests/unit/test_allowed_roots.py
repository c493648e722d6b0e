"""Allowed roots, login and served folders for a WebUI reachable from the LAN: every refusal is shown."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from webui import actions
from webui.access import AllowedRoots, PathRefused, default_roots, gradio_auth, restrict_for_host
from webui.actions import InputProblem
from webui.fields import defaults, webui_fields
from webui.served import ServedFolders
from worker.settings import Settings


@pytest.fixture
def tree(tmp_path) -> Path:
    """``media/Album/song.mp3``, ``out/``, and ``secret/song.mp3`` outside both."""
    for name in ("media/Album/song.mp3", "secret/song.mp3"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"ID3")
    (tmp_path / "out").mkdir()
    return tmp_path


@pytest.fixture
def roots(tree) -> AllowedRoots:
    return AllowedRoots.of([tree / "media", tree / "out"])


def test_paths_inside_a_root_are_allowed_and_the_root_itself_too(roots, tree):
    assert roots.contains(tree / "media")
    assert roots.contains(tree / "media" / "Album" / "song.mp3")
    assert roots.contains(tree / "out" / "not yet created" / "deeper")
    assert roots.check(tree / "media" / "Album", "input folder") == tree / "media" / "Album"


def test_a_sibling_with_a_root_as_name_prefix_is_refused(roots, tree):
    (tree / "media-private").mkdir()
    assert not roots.contains(tree / "media-private")


def test_dot_dot_escapes_are_refused(roots, tree):
    escape = tree / "media" / ".." / "secret"
    assert not roots.contains(escape)
    with pytest.raises(PathRefused, match="outside the folders this server allows"):
        roots.check(escape, "input folder")
    assert not roots.contains(f"{tree}/out/../../{tree.name}/secret")


def test_symlink_escapes_are_refused_and_links_into_a_root_allowed(roots, tree):
    (tree / "media" / "link to secret").symlink_to(tree / "secret", target_is_directory=True)
    (tree / "outside link").symlink_to(tree / "media" / "Album", target_is_directory=True)
    assert not roots.contains(tree / "media" / "link to secret")
    assert not roots.contains(tree / "media" / "link to secret" / "song.mp3")
    assert roots.contains(tree / "outside link"), "what counts is where the link leads"


def test_a_root_given_through_a_link_or_with_dot_dot_is_compared_resolved(tree):
    (tree / "music").symlink_to(tree / "media", target_is_directory=True)
    roots = AllowedRoots.of([tree / "music", tree / "out" / ".." / "out"])
    assert roots.roots == (tree.resolve() / "media", tree.resolve() / "out")
    assert roots.contains(tree / "media" / "Album")


def test_the_refusal_names_the_allowed_folders(roots, tree):
    with pytest.raises(PathRefused) as refused:
        roots.check(Path("/etc"), "output folder")
    message = str(refused.value)
    assert message.startswith("The output folder /etc is outside")
    assert str(tree.resolve() / "media") in message and "ALLOWED_ROOTS" in message


def test_settings_read_login_and_an_os_pathsep_list_of_roots():
    settings = Settings.from_env({
        "WEBUI_USERNAME": " admin ", "WEBUI_PASSWORD": "s3cret", "ALLOWED_ROOTS": os.pathsep.join(["/music", "", "/x"]),
    })
    assert settings.allowed_roots == (Path("/music"), Path("/x"))
    assert gradio_auth(settings) == ("admin", "s3cret")
    assert Settings.from_env({}).allowed_roots is None


@pytest.mark.parametrize("env", [{}, {"WEBUI_USERNAME": "admin"}, {"WEBUI_PASSWORD": "s3cret"}])
def test_no_login_unless_both_name_and_password_are_set(env):
    assert gradio_auth(Settings.from_env(env)) is None


def test_a_lan_server_gets_the_default_roots_and_a_loopback_one_no_limit(tmp_path):
    settings = Settings.from_env({"DATA_DIR": "/srv/data", "OUTPUT_DIR": "/srv/out"})
    mounts = {Path("/music"), Path("/data")}
    defaults_ = default_roots(settings, cwd=tmp_path, exists=lambda p: p in mounts)
    assert defaults_ == (Path("/srv/data"), Path("/srv/out"), Path("/data"), Path("/music"), tmp_path)
    assert restrict_for_host(settings, "127.0.0.1", cwd=tmp_path).allowed_roots is None
    assert restrict_for_host(settings, None, cwd=tmp_path).allowed_roots is None
    lan = restrict_for_host(settings, "0.0.0.0", cwd=tmp_path).allowed_roots
    assert lan is not None and lan[:2] == (Path("/srv/data"), Path("/srv/out")) and lan[-1] == tmp_path


def test_allowed_roots_set_explicitly_apply_on_loopback_too(tmp_path):
    settings = Settings.from_env({"ALLOWED_ROOTS": "/music"})
    assert restrict_for_host(settings, "127.0.0.1", cwd=tmp_path).allowed_roots == (Path("/music"),)


@pytest.fixture
def limited(tree) -> tuple[Settings, dict]:
    models = tree / "models"
    for name in ("asr", "aligner"):
        (models / name).mkdir(parents=True)
        (models / name / "config.json").write_text("{}")
    settings = Settings.from_env({
        "DATA_DIR": str(tree / "data"), "OUTPUT_DIR": str(tree / "out"),
        "ASR_CHECKPOINT": str(models / "asr"), "ALIGNER_CHECKPOINT": str(models / "aligner"),
        "ALLOWED_ROOTS": os.pathsep.join([str(tree / "media"), str(tree / "out"), str(tree / "data")]),
    })
    return settings, defaults(webui_fields(settings, ("srt", "lrc")))


@pytest.fixture
def launched(monkeypatch) -> list:
    calls: list = []
    monkeypatch.setattr(actions, "start_job", lambda spec, data_dir: calls.append(spec) or 4321)
    return calls


@pytest.mark.parametrize("input_dir", ["secret", "media/../secret", "media/link to secret", "/etc"])
def test_start_refuses_an_input_folder_outside_the_roots(limited, launched, tree, input_dir):
    (tree / "media" / "link to secret").symlink_to(tree / "secret", target_is_directory=True)
    settings, values = limited
    with pytest.raises(InputProblem, match=r"input folder .* is outside the folders this server allows"):
        actions.start_folder_job({**values, "input_dir": str(tree / input_dir)}, settings)
    assert launched == []


@pytest.mark.parametrize("output_dir", ["secret/subs", "out/../secret", "out/escape/subs"])
def test_start_refuses_an_output_folder_outside_the_roots_and_creates_nothing(limited, launched, tree, output_dir):
    (tree / "out" / "escape").symlink_to(tree / "secret", target_is_directory=True)
    settings, values = limited
    form = {**values, "input_dir": str(tree / "media"), "output_dir": str(tree / output_dir)}
    with pytest.raises(InputProblem, match=r"output folder .* is outside"):
        actions.start_folder_job(form, settings)
    assert launched == []
    assert sorted(p.name for p in (tree / "secret").iterdir()) == ["song.mp3"]


def test_uploads_refuse_an_output_folder_outside_the_roots(limited, launched, tree):
    settings, values = limited
    with pytest.raises(InputProblem, match="outside"):
        actions.start_upload_job({**values, "output_dir": str(tree / "secret")}, [str(tree / "secret/song.mp3")],
                                 settings)
    assert launched == [] and not (tree / "data" / "uploads").exists()


def test_start_inside_the_roots_goes_ahead(limited, launched, tree):
    settings, values = limited
    message = actions.start_folder_job({**values, "input_dir": str(tree / "media")}, settings)
    assert "worker pid 4321" in message
    assert launched[0].inputs == (str(tree / "media"),)


def test_served_folders_keep_to_the_roots(roots, tree):
    served = ServedFolders([tree / "out", tree / "secret"], limit=roots)
    served.allow(tree / "media" / ".." / "secret")
    served.allow("/")
    assert served.roots == [str((tree / "out").resolve())]
    assert served.link_for(str(tree / "out" / "a.srt")) is not None
    assert served.link_for(str(tree / "secret" / "song.mp3")) is None
    assert served.link_for(str(tree / "out" / ".." / "secret" / "song.mp3")) is None
    assert served.link_for(str(tree / "media" / "Album" / "song.mp3")) is None, "sources are never served"
