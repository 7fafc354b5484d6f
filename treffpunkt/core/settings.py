"""Connection and tracking settings: one object, read from the environment and the workspace's ``.env``.

The environment wins over ``.env``; nothing here has a value in code beyond "not set". Secrets are
``SecretStr`` and never printed.
"""

from __future__ import annotations

import netrc
import os
from urllib.parse import urlsplit

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from treffpunkt.core.workspace import Workspace

#: Where ``wandb login`` keeps the key when WANDB_API_KEY is not set.
WANDB_DEFAULT_HOST = "https://api.wandb.ai"
DATABASE_ENV = "TREFFPUNKT_STUDIO_DATABASE"


class Settings(BaseSettings):
    """Every ``LABEL_STUDIO_*``, ``TREFFPUNKT_*`` and ``WANDB_*`` setting treffpunkt reads."""

    model_config = SettingsConfigDict(env_file_encoding="utf-8", extra="ignore")

    label_studio_url: str | None = Field(default=None, validation_alias="LABEL_STUDIO_URL")
    label_studio_api_key: SecretStr | None = Field(default=None, validation_alias="LABEL_STUDIO_API_KEY")
    project_title: str | None = Field(default=None, validation_alias="TREFFPUNKT_PROJECT_TITLE")
    studio_database: SecretStr | None = Field(default=None, validation_alias=DATABASE_ENV)
    wandb_api_key: SecretStr | None = Field(default=None, validation_alias="WANDB_API_KEY")
    wandb_mode: str | None = Field(default=None, validation_alias="WANDB_MODE")
    wandb_project: str | None = Field(default=None, validation_alias="WANDB_PROJECT")
    wandb_entity: str | None = Field(default=None, validation_alias="WANDB_ENTITY")
    wandb_dir: str | None = Field(default=None, validation_alias="WANDB_DIR")
    wandb_base_url: str | None = Field(default=None, validation_alias="WANDB_BASE_URL")

    def wandb_logged_in(self) -> bool:
        """A key in WANDB_API_KEY, or one that ``wandb login`` stored in ~/.netrc for the wandb host."""
        if self.wandb_api_key and self.wandb_api_key.get_secret_value():
            return True
        host = urlsplit(self.wandb_base_url or WANDB_DEFAULT_HOST).hostname or ""
        path = os.environ.get("NETRC") or os.path.expanduser("~/.netrc")
        try:
            entry = netrc.netrc(path).authenticators(host)
        except (OSError, netrc.NetrcParseError):
            return False
        return bool(entry and entry[2])


def settings(ws: Workspace) -> Settings:
    """The settings for a workspace: environment first, then ``<workspace>/.env``."""
    env_file = ws.root / ".env"
    return Settings(_env_file=env_file if env_file.is_file() else None)  # type: ignore[call-arg]
