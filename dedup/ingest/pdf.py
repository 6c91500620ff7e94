"""The text of a PDF file: every page's, through pypdf (imported on first use), pages joined with newlines.

Reading one is bounded: the characters and the time, checked between pages
and while a page's text is extracted (pages can share one content stream, or
draw one form many times), and the size of each content stream that can show
text, checked before pypdf parses it: pypdf parses a stream whole before it
extracts any of its text (some 1 to 2.5 s and 35 to 55 MB for each MB of
drawing instructions), so neither of the other limits can stop it inside.
"""

from __future__ import annotations

import io
import logging
import re
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from dedup.errors import IngestError
from dedup.ingest.formats import _Budget, _Stop, extracting, megabytes

__all__ = ["pdf_text"]

#: The operators that can show text (``Tj``, ``TJ``, ``'``, ``"``) or draw a form that does (``Do``): content
#: without any of these bytes gives no text, and pypdf itself does not parse it unless a visitor asks to see it.
_TEXT_OPERATOR = re.compile(rb"T[jJ]|Do|['\"]")


@contextmanager
def _quiet_pypdf() -> Iterator[None]:
    """Keep pypdf's messages about damaged files off the console, then restore: the library never prints (pypdf logs
    some at ERROR, e.g. an unknown font encoding, which Python prints where logging is not set up)."""
    logger = logging.getLogger("pypdf")
    level = logger.level
    logger.setLevel(logging.CRITICAL + 1)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def _page_content(page) -> bytes | None:  # noqa: ANN001 (a pypdf page)
    """A page's content streams, uncompressed and joined as pypdf parses them; b"" where pypdf finds none, None
    where getting them fails (pypdf's extraction then says why, as it did)."""
    try:
        contents = page.get_contents()
    except (AttributeError, KeyError):  # (what pypdf's extraction takes for a page without content)
        return b""
    except Exception:
        return None
    return b"" if contents is None else contents.get_data()


class _Forms:
    """pypdf's ``visitor_operand_before``/``_after`` while a page is extracted: follows the form XObjects it draws
    (``Do``, at any depth, in the resources pypdf looks them up in) and measures each that can show text before
    pypdf parses it. A lookup that fails is left to pypdf, which leaves such a form out."""

    def __init__(self, page, limit: int, budget: _Budget) -> None:  # noqa: ANN001 (a pypdf page)
        self.limit, self.budget = limit, budget
        self.resources = [self._resources(page)]

    @staticmethod
    def _resources(obj):  # noqa: ANN001, ANN205 (pypdf objects)
        """The /Resources pypdf extracts ``obj``'s text with (its own or inherited), or None."""
        from pypdf.generic import DictionaryObject

        try:
            resources = obj.get_inherited("/Resources", None)
            resources = resources.get_object() if resources is not None else None
        except Exception:
            return None
        return resources if isinstance(resources, DictionaryObject) else None

    def before(self, operator: bytes, operands: list, *_: object) -> None:
        if operator != b"Do":
            return
        resources = None
        try:
            form = self.resources[-1]["/XObject"][operands[0]]
            if form["/Subtype"] != "/Image":
                resources = self._resources(form)
                content = form.get_data() if resources else b""  # (pypdf reads nothing of a form without resources)
                if len(content) > self.limit and _TEXT_OPERATOR.search(content):
                    raise _Stop(_too_large(len(content), self.limit, f"in a form drawn on {self.budget.at}"))
        except Exception:
            resources = None
        self.resources.append(resources)

    def after(self, operator: bytes, *_: object) -> None:
        if operator == b"Do":
            self.resources.pop()


def _too_large(size: int, limit: int, where: str) -> str:
    over = f"over the limit of {megabytes(limit)} (max_pdf_content_bytes)"
    return f"content too large: {megabytes(size)} of drawing instructions {where}, {over}"


def pdf_text(
    where: str,
    data: bytes,
    *,
    max_chars: int = 10_000_000,
    deadline: float | None = None,
    max_seconds: float = 60.0,
    max_content: int = 2_000_000,
) -> str:
    """Text of every page of a PDF, pages joined with newlines; IngestError(where, reason) if unreadable.

    AES- and RC4-encrypted PDFs that open without a password (most do) are read; one that needs a
    password is skipped saying so. Extraction stops, and the file is skipped with a reason naming
    the limit, once the text passes ``max_chars`` characters or the clock passes ``deadline``
    (``time.monotonic()``; by default ``max_seconds`` from now), checked between pages and while
    a page's text is extracted (pages can share one content stream, or draw one form many times),
    or at a page, or a form a page draws, whose content can show text and is more than
    ``max_content`` bytes uncompressed (checked before it is parsed). A page whose content cannot
    show text (a figure, a scan) is not parsed, whatever its size: its text is empty.
    """
    from pypdf import PasswordType, PdfReader

    deadline = time.monotonic() + max_seconds if deadline is None else deadline
    with _quiet_pypdf():
        try:
            reader = PdfReader(io.BytesIO(data))
        except Exception as exc:
            raise IngestError(where, f"corrupt .pdf: {exc}") from exc
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("") != PasswordType.NOT_DECRYPTED
            except Exception as exc:  # an encryption scheme pypdf does not know
                raise IngestError(where, f"encrypted PDF: cannot decrypt it ({exc})") from exc
            if not opened:
                raise IngestError(where, "encrypted PDF: needs a password")
        budget = _Budget(max_chars, deadline, max_seconds)
        texts: list[str] = []
        with extracting(where, "pdf"):
            count = len(reader.pages)
            for number, page in enumerate(reader.pages, start=1):
                budget.at = f"page {number:,} of {count:,}"
                budget.chars += number > 1  # the newline that joins it to the page before
                budget.check()
                done = budget.chars
                content = _page_content(page)
                if content is not None and not _TEXT_OPERATOR.search(content):
                    texts.append("")  # (what pypdf gives for it, after parsing it)
                    continue
                if content is not None and len(content) > max_content:
                    raise _Stop(_too_large(len(content), max_content, f"on {budget.at}"))
                forms = _Forms(page, max_content, budget)
                text = page.extract_text(
                    visitor_text=budget, visitor_operand_before=forms.before, visitor_operand_after=forms.after
                ) or ""
                budget.chars = done + len(text)
                budget.check(clock=False)
                texts.append(text)
        return "\n".join(texts)
