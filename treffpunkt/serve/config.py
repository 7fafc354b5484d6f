"""``configs/serve.yaml``: where the ML backend listens, when it retrains, and when a retrained version is promoted."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from treffpunkt.core.config import StrictConfig, load_config
from treffpunkt.core.resources import default_config
from treffpunkt.core.workspace import Workspace


class RetrainConfig(StrictConfig):
    every: int = Field(ge=1)
    config: str
    max_seconds: float = Field(gt=0)
    track: bool


class PromotionConfig(StrictConfig):
    metric: Literal["ents", "events"]
    tolerance: float = Field(ge=0)
    refuse_significantly_worse: bool
    bootstrap_samples: int = Field(ge=1)
    promote_without_test: bool
    refresh_suggestions: bool


class ServeConfig(StrictConfig):
    host: str
    port: int = Field(ge=0, le=65535)
    retrain: RetrainConfig
    promotion: PromotionConfig


def serve_dir(ws: Workspace) -> Path:
    """Where the backend keeps its state, jobs and logs."""
    return ws.state_dir / "serve"


def load_serve_config(ws: Workspace, path: Path | None = None) -> ServeConfig:
    """The workspace's serve.yaml (or ``path``) merged over the shipped one."""
    return load_config(
        path or ws.config_path("serve.yaml"), ServeConfig, what="Serve config", defaults=default_config("serve.yaml")
    )
