"""Frozen configuration tree, validated on construction with helpful errors."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from dedup.errors import ConfigError

#: A Latin-script word counts as this many CJK characters when sizes are
#: compared, so that ``min_passage=50`` means about 50 CJK characters or 12 words.
WORD_WEIGHT = 50 / 12
#: Corpus size up to which ``CandidateConfig.min_shared_buckets`` applies as it is (see ``shared_buckets``).
SHARED_BUCKETS_CORPUS = 10_000


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)


@dataclass(frozen=True, kw_only=True)
class NormalizeConfig:
    """How text is normalized for matching (never for display)."""

    traditional_to_simplified: bool = True
    casefold: bool = True
    drop_page_markers: bool = True


@dataclass(frozen=True, kw_only=True)
class SignConfig:
    """Shingles and MinHash parameters (recorded with any stored signature)."""

    cjk_ngram: int = 5  # characters per shingle where a shingle starts on a CJK character
    word_ngram: int = 3  # words per shingle elsewhere
    num_perm: int = 128
    seed: int = 1
    scheme: str = "affine32"  # datasketch permutation scheme

    def __post_init__(self) -> None:
        _check(1 <= self.cjk_ngram <= 16, f"cjk_ngram must be 1..16, got {self.cjk_ngram}")
        _check(1 <= self.word_ngram <= 16, f"word_ngram must be 1..16, got {self.word_ngram}")
        _check(16 <= self.num_perm <= 1024, f"num_perm must be 16..1024, got {self.num_perm}")
        _check(self.scheme == "affine32", f"only the 'affine32' scheme is supported, got {self.scheme!r}")


@dataclass(frozen=True, kw_only=True)
class CandidateConfig:
    """MinHash LSH at document and passage level."""

    doc_threshold: float = 0.4  # estimated Jaccard for document-level candidates
    passage_threshold: float = 0.4  # estimated Jaccard of two windows' CJK trigrams, for candidates
    word_passage_threshold: float = 0.3  # the same for windows of words (smaller bags, so lower)
    window: int = 100  # window size in bag-of-words features: CJK bigrams, or about 4 per content word
    max_shingle_repeats: int = 8  # a shingle repeated more often inside one document is not a seed
    max_window_hits: int = 50  # a window colliding with more documents than this is stock text
    min_shared_buckets: int = 2  # LSH buckets two documents' windows must share to be a candidate pair (see shared_buckets)

    def __post_init__(self) -> None:
        for name in ("doc_threshold", "passage_threshold", "word_passage_threshold"):
            value = getattr(self, name)
            _check(0.0 < value < 1.0, f"{name} must be between 0 and 1 (exclusive), got {value}")
        _check(self.window >= 20, f"window must be at least 20, got {self.window}")
        _check(self.min_shared_buckets >= 1, f"min_shared_buckets must be at least 1, got {self.min_shared_buckets}")

    def shared_buckets(self, documents: int) -> int:
        """Shared LSH buckets that make a candidate pair in a corpus of ``documents``.

        ``min_shared_buckets`` up to ``SHARED_BUCKETS_CORPUS`` documents, one more for each tenfold
        beyond: document pairs, and so chance collisions of unrelated windows, grow with N², while
        each further shared bucket is several times rarer by chance. Copied passages share a
        bucket in most bands for each of their windows: in the scale corpus of 10,000 documents,
        60,306 of the 69,145 candidate pairs shared 2 buckets and 7,045 shared 3, and the 9 pairs
        they gave were all unplanted ones (benchmarks/RESULTS.md).
        """
        extra = int(math.floor(math.log10(documents / SHARED_BUCKETS_CORPUS))) if documents > SHARED_BUCKETS_CORPUS else 0
        return self.min_shared_buckets + extra


@dataclass(frozen=True, kw_only=True)
class AlignConfig:
    """Seed-and-extend alignment of a candidate pair."""

    max_gap: int = 40  # largest unmatched gap (CJK characters; words count WORD_WEIGHT) inside one passage
    min_similarity: float = 0.5  # similarity a passage needs to be reported
    sentence_seeds: bool = True  # also seed with similar sentences (shuffled or replaced words)
    min_block: int = 15  # in documents sharing most of their text, verbatim blocks down to this size are passages

    def __post_init__(self) -> None:
        _check(self.max_gap >= 0, f"max_gap must be >= 0, got {self.max_gap}")
        _check(0.0 <= self.min_similarity <= 1.0, f"min_similarity must be in [0, 1], got {self.min_similarity}")


@dataclass(frozen=True, kw_only=True)
class IngestConfig:
    """Limits on reading one file; a file beyond one is skipped with a reason naming the limit.

    They keep one hostile or absurd file (a zip bomb renamed .docx, a PDF whose pages all repeat
    one content stream, a data dump saved as .txt) from taking the machine's memory or the run's
    time; speeches are far below every default.
    """

    #: Largest file read, in bytes. 50 MB leaves room for PDFs and Word files full of photos (the text
    #: of a long speech is 10 to 100 KB); a text file that large is a data dump or the wrong file, not a
    #: speech. Reading a text file takes 2 to 4 times its size in memory, so one file never takes more
    #: than about 200 MB to read.
    max_file_bytes: int = 50_000_000
    #: Most characters taken from one file, in every format (a PDF's text is counted as it is
    #: extracted): 10 million characters are some 1,000 long speeches, or ten long books, in one
    #: document; comparing a document takes about 60 bytes of memory a character (600 MB at the limit).
    max_text_chars: int = 10_000_000
    #: Time one file may take to read, in seconds, checked while a PDF's pages or a .docx's paragraphs are
    #: extracted (a PDF's reading time its size does not bound: pages can share one content stream, or
    #: draw one form many times); a 1,000-page PDF of dense text takes about 20 s.
    max_seconds: float = 60.0
    #: Largest total uncompressed size of a .docx's parts, in bytes (a .docx is a zip file): Word's XML
    #: takes 4 (plain Chinese paragraphs) to 20 (formatted runs) bytes a character of text, so this is
    #: about the text limit's worth; photos do not expand; a zip bomb expands 1,000 times (3 MB to 3 GB).
    max_docx_unzipped_bytes: int = 200_000_000
    #: Largest uncompressed XML part of a .docx, in bytes (the body, word/document.xml, is the largest):
    #: python-docx parses a part whole, into some 15 bytes of memory a byte, before any text is read, and
    #: takes about 1 s a MB to give its paragraphs' text. 10 MB of Word's XML holds 0.5 to 2.5 million
    #: characters (a long speech's takes 100 to 300 KB) and is read in about 150 MB and 8 s.
    max_docx_xml_bytes: int = 10_000_000
    #: Largest uncompressed content stream of a PDF page, or of a form a page draws, that can show text, in
    #: bytes (a page's drawing instructions): pypdf parses a stream whole, at 1 to 2.5 s and 35 to 55 MB a
    #: MB, before it extracts any of its text, so the text and time limits cannot stop it. A page of text
    #: takes 2 to 200 KB; a page that cannot show text (a figure, a scan) is not parsed, whatever its size.
    max_pdf_content_bytes: int = 2_000_000

    def __post_init__(self) -> None:
        for name in ("max_file_bytes", "max_text_chars", "max_docx_unzipped_bytes", "max_docx_xml_bytes",
                     "max_pdf_content_bytes"):
            value = getattr(self, name)
            _check(
                isinstance(value, int) and not isinstance(value, bool) and value >= 1,
                f"{name} must be a whole number of at least 1, got {value!r}",
            )
        _check(
            isinstance(self.max_seconds, (int, float)) and not isinstance(self.max_seconds, bool) and self.max_seconds > 0,
            f"max_seconds must be a number of seconds above 0, got {self.max_seconds!r}",
        )


@dataclass(frozen=True, kw_only=True)
class ScanConfig:
    """Everything ``dedup.scan`` needs besides the folder."""

    min_passage: int = 50  # shortest reported passage, in CJK characters (a word counts WORD_WEIGHT)
    threshold: float = 0.8  # coverage of the shorter document that makes a pair a near-duplicate
    min_docs_boilerplate: int = 3  # text in this many unrelated documents is boilerplate
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    include_hidden: bool = False
    workers: int = 0  # processes for alignment; 0: one per CPU core, 1: no extra processes
    normalize: NormalizeConfig = field(default_factory=NormalizeConfig)
    sign: SignConfig = field(default_factory=SignConfig)
    candidates: CandidateConfig = field(default_factory=CandidateConfig)
    align: AlignConfig = field(default_factory=AlignConfig)
    ingest: IngestConfig = field(default_factory=IngestConfig)  # limits on reading one file
    id_column: str = "id"  # in a dataset file (JSON Lines, Parquet, CSV): the column that names a document
    text_column: str = "text"  # ... and the one that holds its text
    #: False: documents only (exact and near_duplicate pairs, no passages): no window candidates, no partial pairs
    passages: bool = True

    def __post_init__(self) -> None:
        for name in ("id_column", "text_column"):
            value = getattr(self, name)
            _check(isinstance(value, str) and value.strip() != "", f"{name} must be a column name, got {value!r}")
        _check(
            self.id_column != self.text_column,
            f"id_column and text_column must be different columns, both are {self.id_column!r}",
        )
        _check(self.min_passage >= 5, f"min_passage must be at least 5, got {self.min_passage}")
        _check(0.0 < self.threshold <= 1.0, f"threshold must be in (0, 1], got {self.threshold}")
        _check(
            self.min_docs_boilerplate >= 2,
            f"min_docs_boilerplate must be at least 2, got {self.min_docs_boilerplate}",
        )
        _check(self.workers >= 0, f"workers must be 0 (one per core) or more, got {self.workers}")
        object.__setattr__(self, "include", tuple(self.include))
        object.__setattr__(self, "exclude", tuple(self.exclude))

    def to_dict(self) -> dict:
        return asdict(self)
