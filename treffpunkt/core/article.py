"""The article record: what ingestion stores and what every later stage reads.

``text`` is exactly what annotators see. All character offsets anywhere in treffpunkt refer to it:
it is Unicode NFC with whitespace normalised at ingestion and never changed afterwards.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Origin(BaseModel):
    """Where an article came from: the file, its kind, and the line or row within it."""

    model_config = ConfigDict(extra="forbid")

    path: str
    kind: str  # txt | html | jsonl | csv
    line: int | None = None


class Article(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="Stable hash of the normalised text")
    title: str = ""
    text: str
    source: str | None = None
    url: str | None = None
    published: str | None = Field(default=None, description="ISO date (YYYY-MM-DD) from the input or found in the text")
    language: str | None = None
    cluster: str = Field(description="Near-duplicate cluster id; splits group by it")
    origin: Origin
    meta: dict[str, str] = Field(default_factory=dict, description="Extra input fields, e.g. a CSV category")
    added: str = Field(description="UTC time the article entered the corpus (ISO 8601)")
