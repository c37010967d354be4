"""Config: defaults < file < env < flags; unknown keys and bad values name the key."""

from pathlib import Path

import pytest

from agent.config import load_settings
from agent.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "c.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_load_with_embedded_drafter():
    s = load_settings(env={})
    assert s.drafter.embedded and s.judge.embedded
    assert s.drafter.api_key is None


@pytest.mark.parametrize(
    "text, message",
    [
        ("colour = 1", "unknown key 'colour'"),
        ("[drafter]\nmodle = 'x'", "unknown key 'drafter.modle'"),
        ("[draft]\nmax_revisions = 99", "key 'draft.max_revisions'"),
        ("[embeddings]\nbackend = 'bert'", "key 'embeddings.backend'"),
        ("[drafter\n", "invalid TOML"),
    ],
)
def test_bad_config_is_one_line_naming_the_key(tmp_path, text, message):
    with pytest.raises(ConfigError) as e:
        load_settings(write(tmp_path, text), env={})
    assert message in e.value.one_line()
    assert str(tmp_path / "c.toml") in e.value.one_line()
    assert "\n" not in e.value.one_line()


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml", env={})


def test_precedence_defaults_file_env_flags(tmp_path):
    path = write(tmp_path, "[drafter]\nmodel = 'from-file'\nbase_url = 'http://file/v1'\n[judge]\nmodel = 'judge-file'")
    env = {"BRIEF_DRAFTER_MODEL": "from-env", "OPENAI_API_KEY": "sk-secret"}
    s = load_settings(path, env=env)
    assert s.drafter.model == "from-env"
    assert s.drafter.base_url == "http://file/v1"
    assert s.judge.model == "judge-file"
    s = load_settings(path, overrides={"drafter": {"model": "from-flag"}}, env=env)
    assert s.drafter.model == "from-flag"
    assert s.drafter.api_key.get_secret_value() == "sk-secret"


def test_openai_base_url_env_applies_to_both_roles_and_secret_never_dumped():
    s = load_settings(env={"OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "OPENAI_API_KEY": "sk-secret"})
    assert s.drafter.base_url == s.judge.base_url == "http://127.0.0.1:9/v1"
    assert "sk-secret" not in str(s.public_dump())


def test_every_config_error_is_reported_at_once_with_did_you_mean(tmp_path):
    text = ("[drafer]\nmodel = 'x'\n[drafter]\ntemprature = 1\nmax_atempts = 2\n[draft]\nmax_revisions = -1\n"
            "[fetch]\nallow_privat = true\n")
    with pytest.raises(ConfigError) as e:
        load_settings(write(tmp_path, text), env={})
    line = e.value.one_line()
    assert "\n" not in line and line.startswith(f"{tmp_path / 'c.toml'}: 5 problems: ")
    for part in ["unknown key 'drafer' (did you mean 'drafter'?)",
                 "unknown key 'drafter.temprature' (did you mean 'temperature'?)",
                 "unknown key 'drafter.max_atempts' (did you mean 'max_attempts'?)",
                 "key 'draft.max_revisions': Input should be greater than or equal to 0",
                 "unknown key 'fetch.allow_privat' (did you mean 'allow_private'?)"]:
        assert part in line


def test_no_suggestion_when_nothing_is_close(tmp_path):
    with pytest.raises(ConfigError) as e:
        load_settings(write(tmp_path, "[drafter]\nzzz = 1\n"), env={})
    assert e.value.one_line().endswith("unknown key 'drafter.zzz'")
