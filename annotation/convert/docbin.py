"""Write ``.spacy`` files Doc by Doc without holding the Docs, and speed up msgpack while (de)serialising many."""

from __future__ import annotations

import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from treffpunkt.core.errors import InputError
from treffpunkt.core.io import atomic_open

if TYPE_CHECKING:
    from spacy.tokens import Doc


class DocBinWriter:
    """Builds a ``.spacy`` file from Docs added one at a time, holding only its strings table in memory.

    The file is byte for byte what ``DocBin(store_user_data=True).to_bytes()`` gives for the same Docs in the
    same order (a zlib-compressed msgpack map): each Doc is encoded by spaCy's own ``DocBin.add`` and its token
    array, spaces and per-Doc data go straight to anonymous temporary files in ``spill_dir``; :meth:`write`
    streams them through one compressor into the target. Use as a context manager (closes the spill files).
    """

    _ARRAYS = ("tokens", "spaces")
    _LISTS = ("cats", "flags", "span_groups", "user_data")

    def __init__(self, *, spill_dir: Path) -> None:
        from spacy.tokens import DocBin

        self._bin = DocBin(store_user_data=True)  # encodes each Doc; its per-Doc lists are emptied after each add
        # spill files live as long as the writer; close() releases them
        self._spill = {part: tempfile.TemporaryFile(dir=spill_dir) for part in (*self._ARRAYS, *self._LISTS)}  # noqa: SIM115
        self._lengths: list[int] = []
        self._bytes = dict.fromkeys(self._ARRAYS, 0)

    def __enter__(self) -> DocBinWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        for handle in self._spill.values():
            handle.close()

    def __len__(self) -> int:
        return len(self._lengths)

    def add(self, doc: Doc) -> None:
        import srsly

        b = self._bin
        b.add(doc)
        tokens, spaces = b.tokens.pop(), b.spaces.pop()
        self._lengths.append(len(tokens))
        for part, array in (("tokens", tokens), ("spaces", spaces)):
            data = array.tobytes("C")  # rows in C order: what numpy.vstack(...).tobytes("C") joins
            self._spill[part].write(data)
            self._bytes[part] += len(data)
        for part in self._LISTS:
            self._spill[part].write(srsly.msgpack_dumps(getattr(b, part).pop()))

    def write(self, path: Path) -> None:
        """Write the ``.spacy`` file atomically."""
        compressor = zlib.compressobj()  # zlib.compress's defaults (level 6, 15 window bits): the same stream
        with atomic_open(path, "wb") as handle:
            for piece in self._pieces():
                handle.write(compressor.compress(piece))
            handle.write(compressor.flush())

    def _pieces(self) -> Iterator[bytes]:
        """The msgpack encoding of DocBin.to_bytes's map, in its key order, a piece at a time."""
        import numpy
        import srsly
        from srsly.msgpack import Packer

        b, packer = self._bin, Packer(use_bin_type=True)
        yield packer.pack_map_header(10)
        yield srsly.msgpack_dumps("version") + srsly.msgpack_dumps(b.version)
        yield srsly.msgpack_dumps("attrs") + srsly.msgpack_dumps(b.attrs)
        for part in self._ARRAYS:
            yield srsly.msgpack_dumps(part) + _bin_header(self._bytes[part])
            yield from self._spilled(part)
        yield srsly.msgpack_dumps("lengths") + srsly.msgpack_dumps(
            numpy.asarray(self._lengths, dtype="int32").tobytes("C")
        )
        yield srsly.msgpack_dumps("strings") + srsly.msgpack_dumps(sorted(b.strings))
        for part in self._LISTS:
            yield srsly.msgpack_dumps(part) + packer.pack_array_header(len(self))
            yield from self._spilled(part)

    def _spilled(self, part: str) -> Iterator[bytes]:
        handle = self._spill[part]
        handle.flush()
        handle.seek(0)
        while chunk := handle.read(1 << 20):
            yield chunk


def _bin_header(size: int) -> bytes:
    """msgpack's header for ``size`` raw bytes (bin 8/16/32, the smallest that fits, as msgpack packs them)."""
    if size < 2**8:
        return b"\xc4" + size.to_bytes(1, "big")
    if size < 2**16:
        return b"\xc5" + size.to_bytes(2, "big")
    if size < 2**32:
        return b"\xc6" + size.to_bytes(4, "big")
    raise InputError(
        f"A split holds {size / 2**30:.1f} GiB of token data, more than one .spacy file can (4 GiB).",
        hint="Convert the export in parts, or with fewer docs per split.",
    )


@contextmanager
def fast_msgpack() -> Iterator[None]:
    """Memoise srsly's msgpack encoder/decoder registries while many Docs are (de)serialised.

    srsly looks its registries up in the installed entry points on every ``msgpack_dumps`` (about 1 ms in an
    environment with Label Studio's many packages), and ``DocBin.add`` calls it several times per Doc.
    Nothing registers encoders mid-conversion, so the lookups are taken once and restored afterwards.
    """
    import srsly.msgpack as sm

    registries = (sm.msgpack_encoders, sm.msgpack_decoders)
    saved = [reg.__dict__.get("get_all") for reg in registries]
    for reg in registries:
        cached = reg.get_all()
        reg.get_all = lambda cached=cached: dict(cached)  # type: ignore[method-assign]
    try:
        yield
    finally:
        for reg, old in zip(registries, saved, strict=True):
            if old is None:
                del reg.get_all
            else:
                reg.get_all = old  # type: ignore[method-assign]
