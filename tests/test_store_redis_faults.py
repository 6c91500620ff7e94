"""A Redis index when things go wrong: addresses that are not right, a server that stops answering (SIGSTOP), one
that dies in the middle of an add (SIGKILL), and data that is not what dedup writes. Every failure is an
``IndexStoreError`` saying what failed, in bounded time, and the index stays consistent: what a failed add wrote
never becomes visible, and the next add removes it.

The servers stopped and killed here are the tests' own (``redis_process`` in ``conftest.py``); the key layout read
(``pending``, ``doc:<id>``) is the one ``dedup.store.redis`` documents.
"""

from __future__ import annotations

import hashlib
import re
import socket
import time

import numpy as np
import pytest

from dedup import IndexStoreError, build_index, check, index_info
from dedup.store import NewDocument, open_store
from dedup.store.redis import RedisStore, address

from conftest import CORPUS

ZH = sorted((CORPUS / "zh").glob("*.txt"))
NONE = np.zeros(0, np.uint32)
TIMEOUT = 0.5  # ?socket_timeout= of the tests that stop a server


def _doc(path: str, keys=(7,)) -> NewDocument:
    return NewDocument(path=path, text=f"text of {path}", format="txt", encoding="utf-8",
                       digest=hashlib.blake2b(path.encode(), digest_size=16).digest(), keys=np.array(keys, dtype=np.uint64))


def _records(client, prefix: str) -> set[int]:
    """Ids of the document records there are, visible or not."""
    return {int(k.rsplit(b":", 1)[1]) for k in client.scan_iter(match=f"{prefix}:doc:*", count=1000)}


def _client(server):
    import redis

    return redis.Redis(host=server.host, port=server.port)


# --------------------------------------------------------------------------- addresses


@pytest.mark.parametrize("url, message", [
    ("redis://localhost:99999/0", "the port must be a number from 1 to 65535"),
    ("redis://localhost:abc/0", "the port must be a number from 1 to 65535"),
    ("redis://localhost:0/0", "the port must be a number from 1 to 65535"),
    ("redis://::1:6379/0", r"an IPv6 address goes in brackets, as in redis://\[::1\]:6379/0"),
    ("redis://fe80::1/0", "an IPv6 address goes in brackets"),
    ("redis://[::1/0", "not a Redis address; an IPv6 address goes in brackets"),
    ("redis://localhost:6379/x", "the database must be a number"),
    ("redis://localhost:6379/0?prefxi=a", "unknown parameter prefxi"),
    ("redis://localhost:6379/0?ssl_ca_certs=/ca.pem", r"TLS options \(ssl_ca_certs\) need a rediss:// address"),
    ("rediss://localhost:6379/0?ssl_cert_reqs=maybe", "ssl_cert_reqs must be one of none, optional, required"),
    ("rediss://localhost:6379/0?ssl_check_hostname=perhaps", "ssl_check_hostname must be true or false"),
    ("redis://localhost:6379/0?socket_timeout=0", "socket_timeout must be a number of seconds above 0"),
    ("redis://localhost:6379/0?socket_connect_timeout=soon", "socket_connect_timeout must be a number of seconds"),
    ("redis://localhost:6379/0?prefix=a*", "the prefix must be a name"),
    ("redis://localhost:6379/0?prefix=", "the prefix must be a name"),
])
def test_an_address_that_is_not_right_is_refused_with_what_is_wrong(url, message):
    with pytest.raises(IndexStoreError, match=message):
        address(url)
    with pytest.raises(IndexStoreError, match=message):
        open_store(url)


def test_a_password_is_never_shown():
    for url in ("redis://:Xy7Qz9@localhost:99999/0", "redis://user:Xy7Qz9@::1:6379/0",
                "redis://user:Xy7Qz9@localhost/x", "rediss://:Xy7Qz9@localhost/0?ssl_password=Xy7Qz9&bad=1",
                "redis://:Xy7/Qz9@localhost:6379/0", "redis://:Xy7?Qz9@localhost:6379/0"):
        with pytest.raises(IndexStoreError) as err:
            address(url)
        assert "Xy7" not in str(err.value) and "Qz9" not in str(err.value), err.value
    parsed = address("rediss://me:pa%40ss@host.example:6390/3?ssl_password=keypass&prefix=p&socket_timeout=2.5")
    assert parsed.location == "rediss://host.example:6390/3?prefix=p"
    assert "pa" not in repr(parsed).replace("prefix", "") and "keypass" not in repr(parsed)
    assert parsed.params["password"] == "pa@ss" and parsed.params["username"] == "me"
    assert parsed.params["ssl"] is True and parsed.params["ssl_password"] == "keypass"
    assert parsed.socket_timeout == 2.5 and parsed.params["db"] == 3


def test_addresses_and_their_defaults():
    plain = address("redis://localhost")
    assert plain.location == "redis://localhost:6379/0?prefix=dedup" and "ssl" not in plain.params
    assert plain.socket_timeout > 0 and plain.params["socket_connect_timeout"] > 0  # never a wait without end
    assert address("redis://[::1]:7000/2?prefix=x").location == "redis://[::1]:7000/2?prefix=x"
    assert address("redis://[::1]:7000/2").params["host"] == "::1"
    tls = address("rediss://localhost?ssl_cert_reqs=none&ssl_check_hostname=false")
    assert tls.params["ssl_cert_reqs"] == "none" and tls.params["ssl_check_hostname"] is False
    assert tls.location == "rediss://localhost:6379/0?prefix=dedup"


def test_a_server_that_is_not_there_is_said_at_once():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # (nothing listens there)
    with pytest.raises(IndexStoreError, match="cannot reach the Redis server"):
        open_store(f"redis://127.0.0.1:{port}/0")


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback here")
def test_an_ipv6_address_in_brackets_is_used(redis_process, zh_archive):
    server = redis_process(host="::1")
    url = f"redis://[::1]:{server.port}/0?prefix=six"
    assert build_index(zh_archive, url).location == url
    (doc,) = check([ZH[0]], url).checked
    assert [p.b for p in doc.sources][:1] == [ZH[0].name]


# --------------------------------------------------------------------------- a server that stops answering


class StoppingWriter(RedisStore):
    """A writer whose add stops the server (``stop()``) in the middle: its ids taken and its records written, before
    its bucket entries (``add`` writes them next, by ``add_buckets``)."""

    def __init__(self, url: str, stop) -> None:
        super().__init__(url)
        self.stop = stop

    def add_buckets(self, keys: np.ndarray, ids: np.ndarray) -> None:
        self.stop()
        super().add_buckets(keys, ids)


def _index_with_one_document(url: str) -> int:
    with RedisStore(url, create=True) as store:
        store.write_meta({"magic": "test"})
        (kept,) = store.add([_doc("kept")], boilerplate=NONE, replace=False)
    return kept


def _assert_consistent_and_cleaned_up(url: str, server, kept: int) -> None:
    """Only what was there before is visible; the next add removes what the failed one wrote."""
    client = _client(server)
    prefix = url.rsplit("prefix=", 1)[1]
    with RedisStore(url) as store:
        assert store.paths() == ["kept"] and store.count() == 1
        found, ids = store.lookup(np.array([7], dtype=np.uint64))
        assert [d.path for d in store.load(ids.tolist())] == ["kept"]
        end = time.monotonic() + 10  # (the failed writer's connections leave the server once it has resumed)
        while any(c.get("name", "").startswith("dedup-writer-") and c["name"] != f"dedup-writer-{store.writer}"
                  for c in client.client_list()) and time.monotonic() < end:
            time.sleep(0.02)
        (after,) = store.add([_doc("after")], boilerplate=NONE, replace=False)
        assert store.paths() == ["after", "kept"] and _records(client, prefix) == {kept, after}
        assert client.hlen(f"{prefix}:pending") == 0


def test_a_server_stopped_in_the_middle_of_an_add_is_an_error_in_bounded_time(redis_process):
    """SIGSTOP while an add writes: the add fails after about ``socket_timeout`` (not never), saying so; once the
    server goes on, nothing of the add is visible and the next add removes what it wrote."""
    server = redis_process()
    url = f"{server.url}?socket_timeout={TIMEOUT}&prefix=stopped"
    kept = _index_with_one_document(url)
    with StoppingWriter(url, server.pause) as writer:
        start = time.monotonic()
        with pytest.raises(IndexStoreError, match=rf"did not answer within {TIMEOUT:g} s.*the add did not complete"):
            writer.add([_doc("lost/0"), _doc("lost/1")], boilerplate=np.array([3], np.uint32), replace=False)
        assert time.monotonic() - start < 10 * TIMEOUT
        with pytest.raises(IndexStoreError, match="did not answer"):  # (reads too: an error, in bounded time)
            writer.count()
    server.resume()
    _assert_consistent_and_cleaned_up(url, server, kept)


def test_a_commit_that_reaches_a_stopped_server_changes_nothing_when_it_goes_on(redis_process):
    """SIGSTOP just before the add makes its documents visible: the commit waits in the server, the writer gives up
    after ``socket_timeout``; when the server goes on, the commit comes too late (the writer's lease has run out)
    and changes nothing."""
    server = redis_process()
    url = f"{server.url}?socket_timeout={TIMEOUT}&prefix=late"
    kept = _index_with_one_document(url)
    with RedisStore(url, before_commit=server.pause) as writer:
        with pytest.raises(IndexStoreError, match="did not answer.*the add did not complete"):
            writer.add([_doc("late/0"), _doc("late/1")], boilerplate=NONE, replace=False)
    time.sleep(TIMEOUT)  # (the lease has run out by now, as it had when a real writer gave up)
    server.resume()
    _assert_consistent_and_cleaned_up(url, server, kept)


# --------------------------------------------------------------------------- a server that dies


def test_a_server_killed_in_the_middle_of_an_add_is_an_error_and_the_index_stays_consistent(redis_process):
    """SIGKILL of the server while an add writes (a server that keeps every write in its append-only file): the add
    fails saying so; the server started again has the old contents, and the next add removes what the failed one
    wrote."""
    server = redis_process("--appendonly", "yes", "--appendfsync", "always")
    url = f"{server.url}?prefix=killed"
    kept = _index_with_one_document(url)
    with StoppingWriter(url, server.kill) as writer:
        with pytest.raises(IndexStoreError, match="cannot reach the Redis server.*the add did not complete"):
            writer.add([_doc("lost/0"), _doc("lost/1")], boilerplate=NONE, replace=False)
        with pytest.raises(IndexStoreError, match="cannot reach the Redis server"):
            index_info(writer.location)
    server.start()  # on the same port, from its append-only file
    prefix = "killed"
    assert len(_records(_client(server), prefix)) == 3  # the failed add's records are there, not visible
    _assert_consistent_and_cleaned_up(url, server, kept)


# --------------------------------------------------------------------------- data that is not dedup's


@pytest.mark.parametrize("tamper, message", [
    (lambda c, p, i: c.hdel(f"{p}:doc:{i}", "text"), "lacks a field"),
    (lambda c, p, i: c.hset(f"{p}:doc:{i}", "chars", "many"), "lacks a field, or one is of the wrong kind"),
    (lambda c, p, i: c.hset(f"{p}:doc:{i}", "chars", "3"), "a stored text is damaged"),
    (lambda c, p, i: c.hset(f"{p}:doc:{i}", "path", b"\xff\xfe"), "wrong kind"),
    (lambda c, p, i: c.hset(f"{p}:doc:{i}", "text", b"\x04\x22\x4d\x18 not lz4"), "a stored text is damaged"),
    (lambda c, p, i: c.hset(f"{p}:paths", "a", "not an id"), "is not a document id"),
    (lambda c, p, i: c.sadd(f"{p}:digest:{hashlib.blake2b(b'a', digest_size=16).hexdigest()}", "x"), "not a document id"),
    (lambda c, p, i: c.set(f"{p}:boilerplate", b"abc"), "boilerplate"),
])
def test_tampered_records_are_an_index_damaged_error(redis_url, tamper, message):
    """Each tampering makes a read an ``IndexStoreError`` ("index damaged"), and no read raises anything else."""
    import redis

    digest = hashlib.blake2b(b"a", digest_size=16).digest()
    with RedisStore(redis_url, create=True) as store:
        (i,) = store.add([_doc("a")], boilerplate=NONE, replace=False)
        tamper(redis.Redis.from_url(redis_url.split("?")[0]), store.prefix, i)
        errors = []
        for read in (lambda: store.load([i]), lambda: store.ids(["a"]), lambda: store.with_digest(digest),
                     store.boilerplate, store.paths, store.count):
            try:
                read()
            except IndexStoreError as err:
                errors.append(str(err))
        assert any(re.search(message, e) and "index damaged" in e for e in errors), errors
