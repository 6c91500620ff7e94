"""The HTML report of corpus/ in a real browser: headless Chromium runs its script and lays it out."""

import re
import subprocess
from pathlib import Path

import pytest

import dedup
from dedup.report.html import render_html

from conftest import CORPUS

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)
LAPTOP, PHONE = "1366,900", "390,844"


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    if not CHROMIUM.exists():
        pytest.skip(f"headless Chromium ({CHROMIUM}) is not installed")
    report = dedup.scan(CORPUS)
    html = render_html(report, load_text=lambda path: dedup.read_document(CORPUS / path, relpath=path).text)
    out = tmp_path_factory.mktemp("browser") / "report.html"
    out.write_text(html, encoding="utf-8")
    return out


def _chromium(page: Path, *args: str, fragment: str = "") -> str:
    done = subprocess.run(
        [str(CHROMIUM), *FLAGS, f"--user-data-dir={page.parent / 'profile'}", *args, page.as_uri() + fragment],
        capture_output=True, text=True, timeout=180, check=True,
    )
    return done.stdout


@pytest.mark.parametrize(("window", "layout"), [(LAPTOP, "beside"), (PHONE, "stacked")])
def test_overview_and_side_by_side_render(page: Path, window: str, layout: str):
    dom = _chromium(page, f"--window-size={window}", "--dump-dom")
    body = re.search(r"<body([^>]*)>", dom).group(1)
    wired = int(re.search(r'data-ready="(\d+)"', body).group(1))  # the script ran
    assert wired == len(re.findall(r'class="m [^"]*" id="v\d+[ab]\d+" data-to=', dom)) > 20
    assert f'data-layout="{layout}"' in body
    assert '<table id="pairs">' in dom and "near-duplicate pairs" in dom
    assert '<details class="pair" id="pair-1" open="">' in dom and 'class="sbs"' in dom
    assert dom.count("<svg") >= 10
    ids = re.findall(r' id="([^"]+)"', dom)
    targets = re.findall(r'data-to="([^"]+)"', dom) + re.findall(r'href="#([^"]+)"', dom)
    assert len(ids) == len(set(ids)) and set(targets) <= set(ids)  # every passage link lands somewhere


def test_a_link_to_a_passage_opens_its_closed_view(page: Path):
    last = max(int(n) for n in re.findall(r'<details class="pair" id="pair-(\d+)"', page.read_text(encoding="utf-8")))
    assert f'<details class="pair" id="pair-{last}">' in page.read_text(encoding="utf-8")  # closed in the file
    dom = _chromium(page, f"--window-size={LAPTOP}", "--dump-dom", fragment=f"#v{last}b1")
    assert f'<details class="pair" id="pair-{last}" open="">' in dom


@pytest.mark.parametrize("window", [LAPTOP, PHONE])
def test_screenshot_is_not_blank(page: Path, window: str):
    png = page.parent / f"report-{window.replace(',', 'x')}.png"
    _chromium(page, f"--window-size={window}", f"--screenshot={png}")
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 20_000
