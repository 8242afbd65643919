"""Credentials come from the environment and the secret never shows."""

from __future__ import annotations

import pickle

import pytest

from pushops.providers.credentials import (
    Credentials,
    CredentialsError,
    Secret,
    credentials_from_env,
)

SECRET = "s3cr3t-value-that-must-not-leak"


def test_reads_the_standard_alibaba_cloud_variables() -> None:
    creds = credentials_from_env(
        {
            "ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAIexample",
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET": SECRET,
        }
    )
    assert creds.access_key_id == "LTAIexample"
    assert creds.access_key_secret.reveal() == SECRET
    assert creds.security_token is None


def test_security_token_is_optional_and_also_secret() -> None:
    creds = credentials_from_env(
        {
            "ALIBABA_CLOUD_ACCESS_KEY_ID": "STS.id",
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET": SECRET,
            "ALIBABA_CLOUD_SECURITY_TOKEN": "token-value-1234",
        }
    )
    assert creds.security_token is not None
    assert creds.security_token.reveal() == "token-value-1234"
    assert "token-value-1234" not in repr(creds)


def test_variable_names_can_come_from_config() -> None:
    creds = credentials_from_env(
        {"CI_PUSH_ID": "id", "CI_PUSH_SECRET": SECRET},
        id_var="CI_PUSH_ID",
        secret_var="CI_PUSH_SECRET",
    )
    assert creds.access_key_id == "id"


def test_missing_variables_are_named_in_the_error() -> None:
    with pytest.raises(CredentialsError, match="ALIBABA_CLOUD_ACCESS_KEY_SECRET"):
        credentials_from_env({"ALIBABA_CLOUD_ACCESS_KEY_ID": "id"})


@pytest.mark.parametrize("view", [repr, str, lambda s: f"{s}", lambda s: f"{s!r}", "{}".format])
def test_secret_is_redacted_in_every_textual_view(view) -> None:
    creds = Credentials.of("id", SECRET)
    assert SECRET not in view(creds.access_key_secret)
    assert SECRET not in view(creds)


def test_secret_cannot_be_pickled_into_a_file() -> None:
    with pytest.raises(TypeError):
        pickle.dumps(Secret(SECRET))
