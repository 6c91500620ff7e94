from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not available")
    return SHARED_DATA


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """A real Redis server: $DEDUP_TEST_REDIS (CI starts one), or one started here from redis-server."""
    import os
    import shutil
    import subprocess
    import time

    url = os.environ.get("DEDUP_TEST_REDIS")
    if url:
        yield url.rstrip("/")
        return
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("no Redis server: set DEDUP_TEST_REDIS or install redis-server")
    port = _free_port()
    workdir = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(workdir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    import redis

    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def redis_url(redis_server, request):
    """A Redis index location of its own for one test (a fresh key prefix), cleaned up afterwards."""
    import re
    import uuid

    import redis

    prefix = "t" + re.sub(r"\W", "", request.node.name)[:40] + uuid.uuid4().hex[:6]
    yield f"{redis_server}?prefix={prefix}"
    client = redis.Redis.from_url(redis_server)
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    for k in range(0, len(keys), 1000):  # (one at a time took seconds for a built index)
        client.unlink(*keys[k : k + 1000])


@pytest.fixture(params=["sqlite", "redis"])
def locations(request):
    """Index locations of each kind: ``locations(tmp_path)`` gives one."""
    if request.param == "sqlite":
        return lambda tmp_path: tmp_path / "archive.dedup"
    url = request.getfixturevalue("redis_url")
    return lambda tmp_path: url


@pytest.fixture
def zh_archive(tmp_path) -> Path:
    """A folder holding the first five Chinese speeches of the corpus, to index."""
    import shutil

    folder = tmp_path / "archive"
    folder.mkdir()
    for f in sorted((CORPUS / "zh").glob("*.txt"))[:5]:
        shutil.copy(f, folder / f.name)
    return folder
