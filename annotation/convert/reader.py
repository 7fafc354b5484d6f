"""The one Label Studio export reader: tasks streamed one at a time, and the rules for picking annotations.

Label Studio exports are one JSON array of tasks; a large project's export must not be loaded whole, so the array
is decoded element by element, with values exactly as ``json.load`` gives them. ``convert`` and ``agreement``
both read exports here and order annotations by the same key (:func:`annotation_order`: parsed timestamps);
:func:`choose_annotation` is the one rule for which annotation of a task counts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from treffpunkt.core.errors import InputError


class NotAJSONArray(ValueError):
    """The document is valid JSON, but its top level is not an array."""


_DECODER = json.JSONDecoder()
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_CHUNK_CHARS = 1 << 16  # 64 Ki characters: a task or two; larger elements grow the buffer as needed
# A decode error (or a decoded number) this close to the end of the buffer may only mean the element goes on in
# the next chunk (``tru`` or ``1.`` cut off); elsewhere an error is real, reported without reading the rest.
_CUT_MARGIN = 64


class _Buffered:
    """A window on a text stream for decoding one JSON value after another with ``JSONDecoder.raw_decode``."""

    def __init__(self, handle: IO[str], chunk: int) -> None:
        self.handle, self.chunk = handle, chunk
        self.buf, self.pos, self.consumed, self.eof = "", 0, 0, False

    def more(self, at_least: int = 0) -> bool:
        """Append the next chunk (dropping what was consumed); False at the end of the stream."""
        if self.eof:
            return False
        data = self.handle.read(max(self.chunk, at_least))
        if not data:
            self.eof = True
            return False
        self.consumed += self.pos
        self.buf = self.buf[self.pos :] + data
        self.pos = 0
        return True

    def peek(self) -> str:
        """The next character that is not JSON whitespace ("" at the end), skipping to it."""
        while True:
            self.pos = _WHITESPACE.match(self.buf, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self.more():
                return ""

    def value(self) -> Any:
        """Decode the JSON value at the current position."""
        while True:
            try:
                obj, end = _DECODER.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as err:
                cut = err.pos >= len(self.buf) - _CUT_MARGIN or err.msg.startswith("Unterminated string")
                # Ask for as much again as is buffered: an element larger than a chunk costs O(its size) in all.
                if cut and self.more(at_least=len(self.buf) - self.pos):
                    continue
                raise self.error(err.msg, err.pos) from None
            if end > len(self.buf) - _CUT_MARGIN and self.more():  # a number cut at the chunk end ("1." of "1.5")
                continue  # decodes as a shorter one: decode it again with the text that follows
            self.pos = end
            return obj

    def error(self, msg: str, pos: int) -> json.JSONDecodeError:
        # positions count from the start of the file, as json.load's would
        return (
            json.JSONDecodeError(msg, self.buf, pos) if not self.consumed else _offset_error(msg, self.consumed + pos)
        )


def _offset_error(msg: str, pos: int) -> json.JSONDecodeError:
    err = json.JSONDecodeError(msg, "", 0)
    err.pos, err.lineno, err.colno = pos, 0, 0
    err.args = (f"{msg}: char {pos}",)
    return err


def iter_json_array(handle: IO[str], *, chunk: int = _CHUNK_CHARS) -> Iterator[Any]:
    """Yield the elements of the JSON array that makes up ``handle``, holding about one element at a time.

    Each element is decoded by ``json``'s own decoder, so values are exactly those of ``json.load`` (integers of
    any size, NaN, lone surrogates). Raises ``json.JSONDecodeError`` where ``json.load`` would — possibly after
    yielding the elements before the fault — and :class:`NotAJSONArray` for valid JSON that is not an array.
    """
    stream = _Buffered(handle, chunk)
    first = stream.peek()
    if first != "[":
        stream.value()  # not JSON at all raises here
        if stream.peek():
            raise stream.error("Extra data", stream.pos)
        raise NotAJSONArray("the top-level JSON value is not an array")
    stream.pos += 1
    if stream.peek() == "]":
        stream.pos += 1
    else:
        while True:
            stream.peek()
            yield stream.value()
            following = stream.peek()
            if following == "]":
                stream.pos += 1
                break
            if following != ",":
                raise stream.error("Expecting ',' delimiter", stream.pos)
            stream.pos += 1
    if stream.peek():
        raise stream.error("Extra data", stream.pos)


def iter_export(path: Path) -> Iterator[dict[str, Any]]:
    """Stream the tasks of a Label Studio JSON export one at a time, decoded exactly as ``json.load`` would.

    Raises InputError when the file is missing, not JSON, or not a list of tasks with ``data``. The error can come
    after some tasks were yielded (a file cut off at the end): callers that write output read the file through once
    first (see :func:`convert_export`).
    """
    not_an_export = InputError(
        f"Export {path} is not a Label Studio JSON export (a list of tasks with 'data').",
        hint="Use the JSON export (not JSON-MIN, CSV or CoNLL); `treffpunkt annotate pull` saves the right one.",
    )
    try:
        with Path(path).open(encoding="utf-8") as handle:
            for task in iter_json_array(handle):
                if not isinstance(task, dict) or "data" not in task:
                    raise not_an_export
                yield task
    except FileNotFoundError as err:
        raise InputError(
            f"Export {path} does not exist.",
            hint="Pass the path of a Label Studio JSON export, or run `treffpunkt annotate pull`.",
        ) from err
    except NotAJSONArray as err:
        raise not_an_export from err
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise InputError(
            f"Export {path} is not valid JSON: {err}", hint="Export the project again in Label Studio's JSON format."
        ) from err


def annotator_of(annotation: dict[str, Any]) -> str | None:
    """``completed_by`` is a user id, or an object with the email when the export expands it."""
    who = annotation.get("completed_by")
    if isinstance(who, dict):
        return str(who.get("email") or who.get("id"))
    return None if who is None else str(who)


def annotation_order(annotation: dict[str, Any]) -> tuple[float, int, str]:
    """Sort key "older first": ``updated_at`` (else ``created_at``) parsed as a time, then the numeric id.

    Timestamps are compared as times, never as strings ("10:00+01:00" is before "09:30Z"); a missing or unreadable
    one sorts first. Ties fall back to the annotation id (numerically: 10 after 9).
    """
    raw = annotation.get("updated_at") or annotation.get("created_at") or ""
    try:
        when = datetime.fromisoformat(str(raw)).timestamp() if raw else float("-inf")
    except (ValueError, OverflowError, OSError):  # not a date, or one timestamp() cannot express (year 1)
        when = float("-inf")
    ident = annotation.get("id")
    number = ident if isinstance(ident, int) and not isinstance(ident, bool) else -1
    return when, number, str(ident)


def adjudicated(usable: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The task's adjudicated annotation: the newest one marked ground truth, when ground truth singles one out.

    A reviewer's decision (``annotate review``) is marked ``ground_truth`` in Label Studio and the others are not.
    Label Studio marks every *imported* annotation ground truth unless told otherwise, so a task whose annotations
    all carry the mark has no adjudicated one.
    """
    truth = [a for a in usable if a.get("ground_truth")]
    if not truth or len(truth) == len(usable):
        return None
    return max(truth, key=annotation_order)


def choose_annotation(usable: list[dict[str, Any]]) -> tuple[dict[str, Any], str]:
    """The annotation of a task that counts (``pull``, ``convert``), and the rule that chose it.

    Ground truth wins (a review decision, or imported gold), the newest of them; else the newest annotation
    (:func:`annotation_order`). ``usable`` holds the task's non-cancelled annotations and is not empty.
    """
    truth = [a for a in usable if a.get("ground_truth")]
    pool, rule = (truth, "ground truth") if truth else (usable, "latest")
    return max(pool, key=annotation_order), rule
