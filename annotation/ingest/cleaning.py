"""Clean plain-text web-page dumps: keep the article, drop the page around it, and account for every line.

The classifier follows jusText (Pomikálek 2011) adapted to text dumps, where every non-empty line is a block:

1. **Features per block**: length, German stop-word density, sentence-final punctuation, exclamation marks,
   reader address outside quotations ("wir", "unser", "du", mid-sentence "Sie": news text does not talk to the
   site visitor, cookie banners, donation pleas and login widgets do), label lines ("Datum:"), photo credits,
   repetition (teaser titles are printed twice around their summary), shared template suffixes
   ("... - SNA, 1920, 12.01.2022"), truncated teasers ("…"), foreign script, and a boilerplate vocabulary that
   only ever demotes a block by one class (a weak signal).
2. **Context-free classes** good / near-good / short / bad, then jusText's **context smoothing**: short and
   near-good blocks take the class of their good or bad neighbours.
3. **Headings**: a heading-like block followed by good text is kept, unless it follows a photo caption
   (then it is the title of a teaser card).
4. **Position**: the article is one contiguous main region, the maximum-sum run of blocks (kept blocks count
   their length, removed ones their length plus a fixed cost). The headline (and kicker, subtitle) is the run
   of heading-like blocks just above it; an agency signature ("dpa") right after it is kept as closing line.

``clean_dump`` returns the text annotators will see plus a decision for every non-empty input line.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from treffpunkt.core.config import StrictConfig, load_config
from treffpunkt.core.resources import default_config as default_config_path

GOOD, NEAR_GOOD, SHORT, BAD = "good", "near-good", "short", "bad"


class CleaningConfig(StrictConfig):
    """Thresholds of the classifier: section ``cleaning`` of ``configs/ingest.yaml`` (values live there only)."""

    length_low: int
    length_high: int
    stopwords_low: float
    stopwords_high: float
    max_reader_address: int
    boilerplate_density: float
    max_exclamations: int
    region_block_cost: int
    headline_lookback: int
    headline_min_words: int
    heading_max_words: int


@lru_cache(maxsize=1)
def default_config() -> CleaningConfig:
    """The shipped thresholds (``configs/ingest.yaml``)."""
    return load_config(default_config_path("ingest.yaml"), _IngestCleaning, what="Ingest config").cleaning


class _IngestCleaning(StrictConfig, extra="ignore"):
    cleaning: CleaningConfig


# --- normalisation ---------------------------------------------------------------------------------------------

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_SPACES = re.compile(r"[^\S\n]+")  # any whitespace except newline (tabs, NBSP, thin spaces, ...)


def normalize_text(text: str) -> str:
    """NFC, invisible characters removed, runs of spaces/tabs collapsed, lines stripped, paragraphs by blank line.

    Used for every input kind, so stored texts share one normal form. If the text has blank lines, they separate
    paragraphs and single newlines inside a paragraph become spaces (hard-wrapped text); without blank lines every
    line is a paragraph (extractors and crawlers write one paragraph per line).
    """
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n")).translate(_INVISIBLE)
    paragraphs = re.split(r"\n\s*\n", text) if re.search(r"\n\s*\n", text.strip()) else text.split("\n")
    cleaned = [_SPACES.sub(" ", " ".join(line.strip() for line in para.split("\n"))).strip() for para in paragraphs]
    return "\n\n".join(p for p in cleaned if p)


def normalize_line(line: str) -> str:
    line = unicodedata.normalize("NFC", line).translate(_INVISIBLE)
    return _SPACES.sub(" ", line).strip()


# --- lexicons (generic German, not taken from any one page) ------------------------------------------------------

STOPWORDS = frozenset(
    [
        "aber",
        "alle",
        "allem",
        "allen",
        "aller",
        "alles",
        "als",
        "also",
        "am",
        "an",
        "andere",
        "anderen",
        "auch",
        "auf",
        "aus",
        "bei",
        "beide",
        "beiden",
        "bereits",
        "bin",
        "bis",
        "bisher",
        "bleiben",
        "bleibt",
        "da",
        "dabei",
        "damit",
        "dann",
        "darauf",
        "darum",
        "das",
        "dass",
        "dem",
        "den",
        "denen",
        "denn",
        "der",
        "deren",
        "des",
        "dessen",
        "die",
        "dies",
        "diese",
        "diesem",
        "diesen",
        "dieser",
        "dieses",
        "doch",
        "dort",
        "du",
        "durch",
        "ein",
        "eine",
        "einem",
        "einen",
        "einer",
        "eines",
        "einig",
        "einige",
        "er",
        "es",
        "etwa",
        "euch",
        "für",
        "gab",
        "gegen",
        "gewesen",
        "gibt",
        "hab",
        "habe",
        "haben",
        "hat",
        "hatte",
        "hatten",
        "hier",
        "hin",
        "hinter",
        "ich",
        "ihm",
        "ihn",
        "ihnen",
        "ihr",
        "ihre",
        "ihrem",
        "ihren",
        "ihrer",
        "im",
        "immer",
        "in",
        "ins",
        "ist",
        "ja",
        "jedoch",
        "jetzt",
        "kann",
        "kein",
        "keine",
        "keinen",
        "können",
        "könne",
        "könnte",
        "man",
        "mehr",
        "mit",
        "muss",
        "nach",
        "nicht",
        "noch",
        "nun",
        "nur",
        "ob",
        "oder",
        "ohne",
        "schon",
        "sehr",
        "sei",
        "seien",
        "sein",
        "seine",
        "seinem",
        "seinen",
        "seiner",
        "seit",
        "sich",
        "sie",
        "sind",
        "so",
        "soll",
        "sollen",
        "sollte",
        "sollten",
        "sondern",
        "sowie",
        "über",
        "um",
        "und",
        "uns",
        "unter",
        "viel",
        "vom",
        "von",
        "vor",
        "war",
        "waren",
        "was",
        "weil",
        "weiter",
        "weitere",
        "wenn",
        "werde",
        "werden",
        "wie",
        "wieder",
        "will",
        "wir",
        "wird",
        "wo",
        "wurde",
        "wurden",
        "zu",
        "zum",
        "zur",
        "zwar",
        "zwischen",
    ]
)

# Words that address the site's visitor; "Sie"/"Ihr..." count only capitalised mid-sentence (formal address).
_ADDRESS = frozenset(
    [
        "wir",
        "uns",
        "unser",
        "unsere",
        "unserer",
        "unseren",
        "unserem",
        "unseres",
        "du",
        "dich",
        "dir",
        "dein",
        "deine",
        "deinen",
        "deinem",
        "deiner",
        "deines",
        "euch",
        "euer",
        "eure",
    ]
)
_FORMAL = frozenset(["Sie", "Ihnen", "Ihr", "Ihre", "Ihren", "Ihrem", "Ihrer", "Ihres"])

# Web-page furniture vocabulary. A weak signal: a hit only demotes a block by one class.
_BOILERPLATE = re.compile(
    r"\b(cookies?|datenschutz\w*|newsletter|abonn\w+|registrier\w*|(?:ein|aus)?logg\w*|login|account|passw\w+|"
    r"merkliste|merken|kommentare?|werbung|anzeige|impressum|nutzungsbedingungen|paypal|spenden?|\w*überweisung|"
    r"embed-code|html-code|web(?:seite|site)|zwischenablage|teilen|drucken|loader|newsticker|live|chats?|klicks?|"
    r"e-mail|link|browser|javascript|meistgelesen\w*|weiterlesen|mehr zum thema|auch interessant)\b",
    re.IGNORECASE,
)

_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
_QUOTED = re.compile(r"„[^“”\"]*[“”\"]|“[^”\"]*[”\"]|\"[^\"]*\"|»[^«]*«|«[^»]*»")
_SENTENCE_END = re.compile(r"[.!?…][\"'“”»«’)\]]*$")
_LABEL = re.compile(r"^[\w .\-]{1,40}:$")  # "Datum:", "Sie sind hier:", "Beitragslänge:"
_CREDIT = re.compile(r"©|\(c\)|^\w+:\s", re.IGNORECASE)  # "© AP Photo", "Quelle: imago", "Archiv: ..."
_TEMPLATE_SPLIT = re.compile(r"\s[-–|]\s")
_TRUNCATED = re.compile(r"(…|\.\.\.)$")
_BYLINE = re.compile(
    r"^\(?\s*(dpa|afp|apa|ap|reuters|kna|epd|sid|ddp|dts|red|agenturen)\b[\w\s./,;:-]{0,40}\)?$", re.IGNORECASE
)


def _is_latin(char: str) -> bool:
    return ord(char) < 0x250 or 0x1E00 <= ord(char) <= 0x1EFF


def _reader_address(text: str) -> int:
    unquoted = _QUOTED.sub(" ", text)
    count = 0
    sentence_start = True
    for token in re.findall(r"[^\W\d_]+|[.!?:]", unquoted):
        if token in ".!?:":
            sentence_start = True
            continue
        if token.casefold() in _ADDRESS or (token in _FORMAL and not sentence_start):
            count += 1
        sentence_start = False
    return count


# --- blocks -----------------------------------------------------------------------------------------------------


@dataclass
class Paragraph:
    """The decision about one non-empty input line."""

    index: int  # position among the non-empty lines
    line: int  # 1-based line number in the input
    text: str  # the normalised line
    kept: bool = False
    cls: str = BAD  # final class: good | heading | headline | byline | bad | short | near-good
    initial: str = BAD  # context-free class
    reasons: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {
            "index": self.index,
            "line": self.line,
            "text": self.text,
            "kept": self.kept,
            "class": self.cls,
            "initial": self.initial,
            "reasons": list(self.reasons),
        }


@dataclass
class CleanResult:
    text: str  # what annotators see: kept blocks joined by a blank line
    title: str
    paragraphs: list[Paragraph]

    @property
    def removed(self) -> list[Paragraph]:
        return [p for p in self.paragraphs if not p.kept]


@dataclass
class _Features:
    words: int
    stop_density: float
    sentence_end: bool
    exclamations: int
    address: int
    boilerplate: int
    heading_like: bool
    strong: list[str]  # reasons that make a block bad whatever its neighbours
    media: bool  # photo caption / credit / template caption: a following heading is a teaser title


def _features(blocks: list[str], cfg: CleaningConfig) -> list[_Features]:
    suffixes = [(_TEMPLATE_SPLIT.split(b)[-1].casefold() if _TEMPLATE_SPLIT.search(b) else None) for b in blocks]
    suffix_owners: dict[str, set[str]] = {}
    for block, suffix in zip(blocks, suffixes, strict=True):
        if suffix and len(suffix) >= 8:
            suffix_owners.setdefault(suffix, set()).add(block)
    folded = [b.casefold() for b in blocks]
    # A teaser title is printed twice around its summary: repetition within two blocks, not anywhere on the page
    # (a pull quote's attribution may well recur further down).
    repeated = [
        any(0 <= j < len(blocks) and j != i and folded[j] == folded[i] for j in range(i - 2, i + 3))
        for i in range(len(blocks))
    ]

    result = []
    for i, block in enumerate(blocks):
        words = _WORD.findall(block)
        n = len(words)
        stop = sum(w.casefold() in STOPWORDS for w in words) / n if n else 0.0
        letters = [c for c in block if c.isalpha()]
        strong: list[str] = []
        media = False
        sentence_end = bool(_SENTENCE_END.search(block))
        if not letters:
            strong.append("no words")
        elif sum(not _is_latin(c) for c in letters) > len(letters) / 2:
            strong.append("foreign script")
        if repeated[i]:
            strong.append("repeated on the page (teaser title)")
        elif 0 < i < len(blocks) - 1 and repeated[i - 1] and folded[i - 1] == folded[i + 1]:
            strong.append("between repeated titles (teaser summary)")
        if _TRUNCATED.search(block):
            strong.append("truncated teaser")
        if _LABEL.match(block) and n <= 4:
            strong.append("label line")
        if _CREDIT.search(block) and n <= 8 and not sentence_end:
            strong.append("photo credit or caption label")
            media = True
        if suffixes[i] and len(suffix_owners.get(suffixes[i], ())) > 1 and not sentence_end:
            strong.append("shared template suffix (caption)")
            media = True
        address = _reader_address(block)
        if address > cfg.max_reader_address:
            strong.append(f"addresses the reader ({address}x)")
        exclamations = block.count("!")
        if exclamations > cfg.max_exclamations:
            strong.append(f"{exclamations} exclamation marks")
        heading_like = (
            0 < n <= cfg.heading_max_words
            and not sentence_end
            and not block.endswith((":", ",", ";"))
            and (block[0].isupper() or block[0].isdigit() or block[0] in '"„»')
        )
        result.append(
            _Features(
                n,
                stop,
                sentence_end,
                exclamations,
                address,
                len(_BOILERPLATE.findall(block)),
                heading_like,
                strong,
                media,
            )
        )
    # Short non-sentence lines next to a photo credit are its caption ("Das Nato-Hauptquartier in Brüssel
    # (Archivbild)"); a caption may span several lines, so the group grows until no line joins it.
    grown = True
    while grown:
        grown = False
        for i, (block, f) in enumerate(zip(blocks, result, strict=True)):
            beside_media = any(0 <= j < len(blocks) and result[j].media for j in (i - 1, i + 1))
            if beside_media and not f.media and not f.strong and not f.sentence_end and len(block) < cfg.length_low:
                f.strong.append("caption beside a photo credit")
                f.media = grown = True
    return result


def _initial_class(block: str, f: _Features, cfg: CleaningConfig) -> tuple[str, list[str]]:
    if f.strong:
        return BAD, list(f.strong)
    reasons: list[str] = []
    if len(block) < cfg.length_low:
        cls = SHORT
    elif f.stop_density >= cfg.stopwords_high:
        cls = GOOD if len(block) >= cfg.length_high else NEAR_GOOD
    elif f.stop_density >= cfg.stopwords_low:
        cls = NEAR_GOOD
    else:
        cls, reasons = BAD, [f"few stop words ({f.stop_density:.2f})"]
    if f.words and f.boilerplate / f.words > cfg.boilerplate_density and cls != BAD:
        cls = {GOOD: NEAR_GOOD, NEAR_GOOD: BAD, SHORT: BAD}[cls]
        reasons.append(f"boilerplate vocabulary ({f.boilerplate}x)")
    return cls, reasons


def _neighbour(classes: list[str], i: int, step: int, *, ignore_near_good: bool, skip: list[bool]) -> str:
    """jusText's neighbour: the nearest class skipping short (and near-good) blocks; page edges count as bad.

    Photo credits and captions (``skip``) are figures inserted into the text flow, not page furniture that
    delimits it, so they are looked through.
    """
    i += step
    while 0 <= i < len(classes):
        if skip[i]:
            pass
        elif classes[i] in (GOOD, BAD):
            return classes[i]
        if classes[i] == NEAR_GOOD and not ignore_near_good:
            return NEAR_GOOD
        i += step
    return BAD


def _smooth(initial: list[str], media: list[bool]) -> list[str]:
    # Unlike jusText, short blocks are revised in place from top to bottom, so a decided short block (a heading)
    # serves as context for the next one (the attribution line under a pull quote).
    classes = list(initial)
    for i, cls in enumerate(initial):
        if cls != SHORT:
            continue
        prev = _neighbour(classes, i, -1, ignore_near_good=True, skip=media)
        nxt = _neighbour(classes, i, 1, ignore_near_good=True, skip=media)
        if prev == nxt:
            classes[i] = prev
        elif (
            prev == BAD
            and _neighbour(classes, i, 1, ignore_near_good=False, skip=media) == NEAR_GOOD
            or nxt == BAD
            and _neighbour(classes, i, -1, ignore_near_good=False, skip=media) == NEAR_GOOD
        ):
            classes[i] = GOOD
        else:
            classes[i] = BAD
    final = list(classes)
    for i, cls in enumerate(classes):
        if cls == NEAR_GOOD:
            prev = _neighbour(classes, i, -1, ignore_near_good=True, skip=media)
            nxt = _neighbour(classes, i, 1, ignore_near_good=True, skip=media)
            final[i] = BAD if prev == nxt == BAD else GOOD
    return final


def _main_region(values: list[int]) -> tuple[int, int]:
    """Kadane: the contiguous run of blocks with the largest sum (end exclusive); (0, 0) if none is positive."""
    best, best_span = 0, (0, 0)
    total, start = 0, 0
    for i, value in enumerate(values):
        if total <= 0:
            total, start = 0, i
        total += value
        if total > best:
            best, best_span = total, (start, i + 1)
    return best_span


def clean_dump(raw: str, config: CleaningConfig | None = None) -> CleanResult:
    """Classify every line of a web-page dump and return the article text, its headline and all decisions."""
    cfg = config or default_config()
    paragraphs: list[Paragraph] = []
    for number, line in enumerate(raw.replace("\r\n", "\n").replace("\r", "\n").split("\n"), start=1):
        text = normalize_line(line)
        if text:
            paragraphs.append(Paragraph(index=len(paragraphs), line=number, text=text))
    if not paragraphs:
        return CleanResult(text="", title="", paragraphs=[])
    blocks = [p.text for p in paragraphs]
    feats = _features(blocks, cfg)
    initial: list[str] = []
    for p, f in zip(paragraphs, feats, strict=True):
        p.initial, p.reasons = _initial_class(p.text, f, cfg)
        initial.append(p.initial)
    if GOOD not in initial and NEAR_GOOD in initial:
        # A short article (agency brief, pre-cleaned text) has no paragraph long enough to be "good"; jusText's
        # page edges (bad) would then drop every near-good block and lose the whole article.
        for i, p in enumerate(paragraphs):
            if p.initial == NEAR_GOOD:
                initial[i] = p.initial = GOOD
                p.reasons.append("near-good taken as good: the text has no long paragraph")
    classes = _smooth(initial, [f.media for f in feats])
    for i, p in enumerate(paragraphs):
        if classes[i] != p.initial:
            p.reasons.append(f"context: {p.initial} -> {classes[i]}")

    # Headings: kept before good text; after a photo caption they title a teaser card instead.
    for i, (p, f) in enumerate(zip(paragraphs, feats, strict=True)):
        after_media = i > 0 and feats[i - 1].media
        if f.heading_like and after_media and not f.strong:
            if classes[i] == GOOD:
                p.reasons.append("heading after a photo caption (teaser card)")
            classes[i] = BAD
        elif (
            classes[i] == BAD
            and f.heading_like
            and not f.strong
            and p.initial != BAD
            and not after_media
            and i + 1 < len(paragraphs)
            and classes[i + 1] == GOOD
        ):
            classes[i] = "heading"
            p.reasons.append("heading before good text")

    kept = [c in (GOOD, "heading") for c in classes]
    # Photo credits and captions cost nothing: figures sit inside articles.
    values = [
        len(b) if k else 0 if f.media else -(len(b) + cfg.region_block_cost)
        for b, k, f in zip(blocks, kept, feats, strict=True)
    ]
    start, end = _main_region(values)
    for i, p in enumerate(paragraphs):
        p.cls = classes[i]
        p.kept = kept[i] and start <= i < end
        if kept[i] and not p.kept:
            p.reasons.append("outside the main content region")

    # Headline run (kicker, headline, subtitle): heading-like blocks just above the first body block of the main
    # region, looking through removed furniture (photo credits, labels) in between.
    body = next((i for i in range(start, end) if paragraphs[i].kept and not feats[i].heading_like), start)
    run: list[int] = []
    for i in range(body - 1, max(body - 1 - cfg.headline_lookback, -1), -1):
        candidate = feats[i].heading_like and not feats[i].strong and paragraphs[i].initial != BAD
        if candidate:
            run.insert(0, i)
        elif run:
            break
    for i in run:
        paragraphs[i].kept, paragraphs[i].cls = True, "headline"
        paragraphs[i].reasons.append("headline above the main content")
    title = next(
        (paragraphs[i].text for i in run if feats[i].words >= cfg.headline_min_words),
        paragraphs[run[0]].text if run else "",
    )

    # Closing line: an agency signature right after the article.
    if 0 < end < len(paragraphs) and _BYLINE.match(paragraphs[end].text) and feats[end].words <= 6:
        paragraphs[end].kept, paragraphs[end].cls = True, "byline"
        paragraphs[end].reasons.append("agency signature after the article")

    text = "\n\n".join(p.text for p in paragraphs if p.kept)
    return CleanResult(text=text, title=title, paragraphs=paragraphs)


# --- dates ------------------------------------------------------------------------------------------------------

_AGENCY_DATE = re.compile(r"\(\s*[A-Za-z/]{2,12}\s*,\s*(\d{1,2})\.\s?(\d{1,2})\.\s?(\d{4})\s*\)")
_NUMERIC_DATE = re.compile(r"(?<![\d.])(\d{1,2})\.(\d{1,2})\.(\d{4})(?![\d.]\d)")
_MONTHS = [
    "januar",
    "jänner",
    "februar",
    "märz",
    "april",
    "mai",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "dezember",
]
_MONTH_DATE = re.compile(r"(\d{1,2})\.\s*(" + "|".join(_MONTHS) + r")\s+(\d{4})", re.IGNORECASE)


def _iso(day: str, month: str | int, year: str) -> str | None:
    from datetime import date

    try:
        return date(int(year), int(month), int(day)).isoformat()
    except ValueError:
        return None


def find_published(text: str, *, head_chars: int = 600) -> str | None:
    """A publication date found in the text: "(APA, 17.2.2017)", else the first "12.01.2022", else a German
    month-name date near the top ("3. März 2021"). Returns an ISO date or None."""
    for match in _AGENCY_DATE.finditer(text):
        if iso := _iso(*match.groups()):
            return iso
    for match in _NUMERIC_DATE.finditer(text):
        if iso := _iso(*match.groups()):
            return iso
    for match in _MONTH_DATE.finditer(text[:head_chars]):
        month = match.group(2).casefold()
        number = 1 if month in ("januar", "jänner") else _MONTHS.index(month)
        if iso := _iso(match.group(1), number, match.group(3)):
            return iso
    return None
