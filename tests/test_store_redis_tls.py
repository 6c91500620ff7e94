"""A shared index over TLS (``rediss://``): a redis-server of the tests' own that speaks TLS only, with a
password and wanting a client certificate (``tls_redis`` in ``conftest.py``; certificates made with openssl).

The server has no plain port and refuses clients without a certificate its CA signed, so a check that finds its
sources proves that both connections of the store (its own, and datasketch's bucket storage's) use TLS with
the address's certificate options. Skips without openssl, without redis-server or where it has no TLS.
"""

from __future__ import annotations

import uuid

import numpy as np
import pytest

from dedup import IndexStoreError, build_index, check, index_info
from dedup.store import open_store
from dedup.store.redis import RedisStore

from conftest import CORPUS

ZH = sorted((CORPUS / "zh").glob("*.txt"))
PASSWORD = "s3cret-pw"


@pytest.fixture
def tls_url(tls_redis, tls_files):
    """``url(**options)``: the TLS server's address with a password, a fresh prefix and these query parameters
    (by default the CA certificate and the client certificate and key)."""
    prefix = "tls" + uuid.uuid4().hex[:8]
    f = tls_files
    default = {"ssl_ca_certs": f["ca"], "ssl_certfile": f["client_cert"], "ssl_keyfile": f["client_key"]}

    def url(password: str = PASSWORD, **options) -> str:
        query = "&".join(f"{k}={v}" for k, v in {**default, **options}.items() if v is not None)
        return f"rediss://:{password}@127.0.0.1:{tls_redis.port}/0?{query}&prefix={prefix}"

    yield url
    with RedisStore(url(), create=True) as store:
        store.clear()


def test_an_index_over_tls_is_built_checked_and_named_without_its_password(tls_url, tls_redis, zh_archive):
    url = tls_url()
    update = build_index(zh_archive, url)
    assert update.documents == 5
    report = check([ZH[0], ZH[1]], url)
    assert [[p.b for p in c.sources][:1] for c in report.checked] == [[ZH[0].name], [ZH[1].name]]
    info = index_info(url)
    shown = f"rediss://127.0.0.1:{tls_redis.port}/0?prefix={url.rsplit('prefix=', 1)[1]}"
    assert update.location == report.index == info.location == shown  # no password, no certificate files
    assert PASSWORD not in repr(info) and PASSWORD not in repr(report.index)


def test_buckets_are_read_over_tls_through_datasketchs_storage(tls_url):
    with open_store(tls_url(), create=True) as store:
        store.add_buckets(np.array([5, 2**63 + 1], dtype=np.uint64), np.array([1, 2], dtype=np.uint32))
        found, ids = store.lookup(np.array([5, 2**63 + 1, 7], dtype=np.uint64))  # (datasketch's connection)
        assert sorted(zip(found.tolist(), ids.tolist())) == [(5, 1), (2**63 + 1, 2)]


def test_without_the_servers_ca_the_certificate_is_refused_clearly(tls_url):
    with pytest.raises(IndexStoreError, match="CERTIFICATE_VERIFY_FAILED.*ssl_ca_certs=FILE") as err:
        open_store(tls_url(ssl_ca_certs=None), create=True)
    assert PASSWORD not in str(err.value) and str(err.value).startswith("rediss://127.0.0.1:")


def test_ssl_cert_reqs_none_does_not_check_the_servers_certificate(tls_url):
    with open_store(tls_url(ssl_ca_certs=None, ssl_cert_reqs="none"), create=True) as store:
        assert store.count() == 0


def test_a_server_that_wants_a_client_certificate_refuses_a_client_without_one(tls_url):
    with pytest.raises(IndexStoreError, match="client certificate"):
        open_store(tls_url(ssl_certfile=None, ssl_keyfile=None), create=True)


def test_a_wrong_password_is_said_without_showing_it(tls_url):
    with pytest.raises(IndexStoreError, match="refused the user or password") as err:
        open_store(tls_url(password="not-the-password"), create=True)
    assert "not-the-password" not in str(err.value)


def test_a_plain_address_to_a_tls_port_fails_quickly_and_clearly(tls_redis):
    with pytest.raises(IndexStoreError, match="cannot reach the Redis server|did not answer"):
        open_store(f"redis://:{PASSWORD}@127.0.0.1:{tls_redis.port}/0?socket_timeout=2&socket_connect_timeout=2")


def test_certificate_files_that_are_not_there_are_named(tls_url, tmp_path):
    missing = tmp_path / "missing.pem"
    for option in ("ssl_ca_certs", "ssl_certfile", "ssl_keyfile"):
        with pytest.raises(IndexStoreError, match=f"{option}: no such file: .*missing.pem"):
            open_store(tls_url(**{option: missing}))
    with pytest.raises(IndexStoreError, match="ssl_ca_path: no such folder"):
        open_store(tls_url(ssl_ca_path=tmp_path / "nowhere"))
