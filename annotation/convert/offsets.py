"""Verify and repair character spans from Label Studio against the task text, then snap them to tokens.

Label Studio's browser front end counts offsets in JavaScript string units, so a span after an emoji
(an astral code point: two UTF-16 units) is shifted, and browsers turn ``\\r\\n`` into one character.
We try the plain offsets first, then each of these coordinate systems, and accept the first one whose
slice matches ``value.text`` (whitespace-normalised). Whatever is changed is named in ``repairs``.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from spacy.tokens import Doc, Span

SnapMode = Literal["expand", "contract", "strict"]
SNAP_MODES: tuple[str, ...] = ("expand", "contract", "strict")

# Names of the coordinate systems, as they appear in reports.
UTF16 = "UTF-16 offsets (emoji) converted to code points"
CRLF = "offsets counting CRLF as one character converted"
UTF16_CRLF = "UTF-16 offsets counting CRLF as one character converted"


def normalise_ws(text: str) -> str:
    """Collapse all whitespace runs to one space and strip: how ``value.text`` is compared."""
    return " ".join(text.split())


@dataclass
class Located:
    """Outcome of checking one span: final offsets (None when rejected), repairs made, or the reason it failed."""

    start: int | None = None
    end: int | None = None
    repairs: list[str] = field(default_factory=list)
    reason: str | None = None
    verified: bool = True


class OffsetIndex:
    """Per-text maps from Label Studio's possible coordinate systems to Python code-point offsets.

    Built once per task text; maps are only computed when the text has emoji or CRLF at all.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self._views: list[tuple[str, Callable[[int], int | None]]] = []
        astral = len(text.encode("utf-16-le")) != 2 * len(text)  # C speed, unlike scanning every character
        crlf = "\r\n" in text
        if astral:
            self._views.append((UTF16, _utf16_map(text)))
        if crlf:
            lf_to_orig = _crlf_map(text)
            self._views.append((CRLF, lf_to_orig))
            if astral:
                lf_text = text.replace("\r\n", "\n")
                u16 = _utf16_map(lf_text)

                def combined(offset: int, u16: Callable[[int], int | None] = u16) -> int | None:
                    mid = u16(offset)
                    return None if mid is None else lf_to_orig(mid)

                self._views.append((UTF16_CRLF, combined))

    def candidates(self, start: int, end: int) -> Iterator[tuple[str | None, int, int]]:
        """``(repair or None, start, end)`` in code points for each coordinate system, plain offsets first."""
        yield None, start, end
        for name, to_cp in self._views:
            s, e = to_cp(start), to_cp(end)
            if s is not None and e is not None and (s, e) != (start, end):
                yield name, s, e


def _utf16_map(text: str) -> Callable[[int], int | None]:
    """UTF-16 unit offset → code-point offset (None inside a surrogate pair or past the end)."""
    units = [0]
    for ch in text:
        units.append(units[-1] + (2 if ord(ch) > 0xFFFF else 1))

    def to_cp(offset: int) -> int | None:
        i = bisect_left(units, offset)
        return i if i < len(units) and units[i] == offset else None

    return to_cp


def _crlf_map(text: str) -> Callable[[int], int | None]:
    """Offset in the text with CRLF as one character → offset in the original text."""
    orig = [i for i, ch in enumerate(text) if not (ch == "\r" and text[i + 1 : i + 2] == "\n")]
    orig.append(len(text))

    def to_orig(offset: int) -> int | None:
        return orig[offset] if 0 <= offset < len(orig) else None

    return to_orig


def to_utf16(text: str) -> Callable[[int], int]:
    """Code-point offset → UTF-16 unit offset, for tasks we send to Label Studio (as pre-annotations are sent)."""
    if len(text.encode("utf-16-le")) == 2 * len(text):
        return lambda offset: offset
    units = [0]
    for ch in text:
        units.append(units[-1] + (2 if ord(ch) > 0xFFFF else 1))
    return units.__getitem__


def locate(index: OffsetIndex, start: object, end: object, expected: str | None) -> Located:
    """Check a span against the text, repairing its coordinate system and surrounding whitespace."""
    text = index.text
    if not isinstance(start, int) or not isinstance(end, int) or isinstance(start, bool) or isinstance(end, bool):
        return Located(reason=f"offsets are not integers (start={start!r}, end={end!r})")
    if not 0 <= start < end:
        return Located(reason=f"empty or negative span (start={start}, end={end})")
    if expected is not None and not isinstance(expected, str):
        return Located(reason=f"malformed value.text: {expected!r} is not a string")
    found: tuple[int, int, list[str], bool] | None = None  # start, end, repairs, verified
    if expected is None:
        if end <= len(text):
            found = (start, end, [], False)
    else:
        want = normalise_ws(expected)
        for how, s, e in index.candidates(start, end):
            if 0 <= s < e <= len(text) and normalise_ws(text[s:e]) == want:
                found = (s, e, [how] if how else [], True)
                break
    if found is None:
        got = text[start:end] if end <= len(text) else f"<past the end of the {len(text)}-character text>"
        return Located(reason=f"text mismatch: value.text {expected!r} but text[{start}:{end}] is {got!r}")
    s, e, repairs, verified = found
    inner = text[s:e]
    stripped = inner.strip()
    if not stripped:
        return Located(reason="span holds only whitespace")
    if stripped != inner:
        lead = len(inner) - len(inner.lstrip())
        trail = len(inner) - len(inner.rstrip())
        s, e = s + lead, e - trail
        repairs.append(f"trimmed whitespace ({lead} leading, {trail} trailing)")
    return Located(s, e, repairs, verified=verified)


def snap(doc: Doc, start: int, end: int, mode: SnapMode) -> tuple[Span | None, str | None]:
    """The token span for ``[start, end)`` under ``mode``; with a repair note if the boundaries moved.

    ``expand`` grows to the tokens the span touches, ``contract`` keeps only tokens fully inside,
    ``strict`` accepts only exact token boundaries. Returns ``(None, reason)`` when no span results.
    """
    span = doc.char_span(start, end, alignment_mode=mode)
    if span is None or len(span) == 0:
        what = "no whole token inside it" if mode == "contract" else "not on token boundaries"
        return None, f"{what} (snap mode {mode}): {doc.text[start:end]!r}"
    # spaCy keeps runs of whitespace ("\r\n", "\x1c") as tokens; a span must not begin or end with one.
    first, last = span.start, span.end
    while first < last and not doc[first].text.strip():
        first += 1
    while last > first and not doc[last - 1].text.strip():
        last -= 1
    if first == last:
        return None, f"only whitespace tokens inside it (snap mode {mode}): {doc.text[start:end]!r}"
    span = doc[first:last]
    if (span.start_char, span.end_char) == (start, end):
        return span, None
    return span, f"snapped to token boundaries ({mode}): {doc.text[start:end]!r} → {span.text!r}"
