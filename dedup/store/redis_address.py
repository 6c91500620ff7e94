"""Redis index addresses: ``redis://`` and ``rediss://`` (TLS) URLs taken apart into redis-py's connection
parameters, and what a Redis error means for the index (``failure``): the part of ``dedup.store.redis`` that
needs no server.

``[user][:password@]host[:port][/db][?parameters]``; an IPv6 host in brackets. Query parameters, named as
redis-py's ``from_url`` names them: ``prefix`` (dedup's: several indexes in one database), ``socket_timeout``
and ``socket_connect_timeout`` (seconds: an answer that takes longer is an ``IndexStoreError``, never a wait
without end), and with ``rediss://`` the TLS options ``TLS_OPTIONS``. A password (of the server or of a key)
is never shown: not in ``location``, not in any message.
"""

from __future__ import annotations

import functools
import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from dedup.errors import IndexStoreError

#: Seconds to wait for an answer of the server (``?socket_timeout=``), and for a connection (``?socket_connect_timeout=``).
SOCKET_TIMEOUT = 30.0
CONNECT_TIMEOUT = 5.0
#: The TLS options of a ``rediss://`` address (query parameters, as redis-py's ``from_url`` names them).
TLS_OPTIONS = ("ssl_cert_reqs", "ssl_ca_certs", "ssl_ca_path", "ssl_certfile", "ssl_keyfile", "ssl_password", "ssl_check_hostname")
CERT_REQS = ("none", "optional", "required")
BOOLEANS = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False}


@dataclass(frozen=True)
class RedisAddress:
    """A Redis index address taken apart: redis-py's connection parameters, the key prefix, and the address as
    reports show it (``location``: no password, no TLS files)."""

    location: str
    prefix: str
    params: dict[str, Any] = field(repr=False)  # (holds the password)

    @property
    def socket_timeout(self) -> float:
        return self.params["socket_timeout"]


def shown(url: str) -> str:
    """An address as it may be shown before it is understood: no password (all before the last ``@`` goes, even
    where a password holds a ``/`` or ``?`` it should have escaped), no query parameters."""
    scheme, sep, rest = url.partition("://")
    return scheme + sep + re.split(r"[?#]", rest.rpartition("@")[2], maxsplit=1)[0]


def address(url: str) -> RedisAddress:
    """``redis://`` or ``rediss://`` ``[user][:password@]host[:port][/db][?parameters]``, taken apart (see the
    module's docstring); an ``IndexStoreError`` saying what is wrong with it (and never showing its password)."""
    where = shown(url)
    try:
        parts = urlsplit(url)
    except ValueError:  # (an unclosed bracket)
        raise IndexStoreError(f"{where}: not a Redis address; an IPv6 address goes in brackets, as in redis://[::1]:6379/0") from None
    tls = parts.scheme == "rediss"
    host_part = parts.netloc.rpartition("@")[2]
    if host_part.count(":") > 1 and not host_part.startswith("["):
        raise IndexStoreError(f"{where}: an IPv6 address goes in brackets, as in redis://[::1]:6379/0")
    try:
        port = parts.port
    except ValueError:  # (its message may quote a password that holds a "/": not shown)
        raise IndexStoreError(f"{where}: the port must be a number from 1 to 65535") from None
    if port == 0:
        raise IndexStoreError(f"{where}: the port must be a number from 1 to 65535")
    path = parts.path.strip("/")
    if path and not path.isdigit():
        raise IndexStoreError(f"{where}: the database must be a number, as in redis://host:6379/0")
    db = int(path or 0)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    known = ("prefix", "socket_timeout", "socket_connect_timeout", *TLS_OPTIONS)
    unknown = sorted(set(query) - set(known))
    if unknown:
        raise IndexStoreError(f"{where}: unknown parameter {', '.join(unknown)} (known: {', '.join(known)})")
    if not tls and set(query) & set(TLS_OPTIONS):
        raise IndexStoreError(
            f"{where}: TLS options ({', '.join(sorted(set(query) & set(TLS_OPTIONS)))}) need a rediss:// address"
        )
    host = unquote(parts.hostname or "localhost")
    params: dict[str, Any] = {
        "host": host,
        "port": port or 6379,
        "db": db,
        "socket_timeout": seconds(query, "socket_timeout", SOCKET_TIMEOUT, where),
        "socket_connect_timeout": seconds(query, "socket_connect_timeout", CONNECT_TIMEOUT, where),
        # a lost connection is made again once; a server that does not answer in time is an error, not retried
        "retry": Retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,)),
    }
    if parts.username:
        params["username"] = unquote(parts.username)
    if parts.password:
        params["password"] = unquote(parts.password)
    if tls:
        params["ssl"] = True
        for name in TLS_OPTIONS:
            if name in query:
                params[name] = query[name]
        for name in ("ssl_ca_certs", "ssl_certfile", "ssl_keyfile", "ssl_ca_path"):
            if name in params and not (os.path.isdir if name == "ssl_ca_path" else os.path.isfile)(params[name]):
                raise IndexStoreError(f"{where}: {name}: no such {'folder' if name == 'ssl_ca_path' else 'file'}: {params[name]}")
        if params.get("ssl_cert_reqs", "required") not in CERT_REQS:
            raise IndexStoreError(f"{where}: ssl_cert_reqs must be one of {', '.join(CERT_REQS)}")
        if "ssl_check_hostname" in params:
            flag = BOOLEANS.get(params["ssl_check_hostname"].lower())
            if flag is None:
                raise IndexStoreError(f"{where}: ssl_check_hostname must be true or false")
            params["ssl_check_hostname"] = flag
    prefix = query.get("prefix", "dedup")
    if not prefix or re.search(r"[*?\[\]\\\s]", prefix):
        raise IndexStoreError(f"{where}: the prefix must be a name, without spaces or any of * ? [ ] \\")
    shown_host = f"[{host}]" if ":" in host else host
    location = f"{parts.scheme}://{shown_host}:{params['port']}/{db}?prefix={prefix}"
    return RedisAddress(location, prefix, params)


def seconds(query: dict[str, str], name: str, default: float, where: str) -> float:
    if name not in query:
        return default
    try:
        value = float(query[name])
    except ValueError:
        value = math.nan
    if not (0 < value < math.inf):
        raise IndexStoreError(f"{where}: {name} must be a number of seconds above 0, not {query[name]!r}")
    return value


def failure(where: RedisAddress, err: redis.RedisError, doing: str = "") -> IndexStoreError:
    """A Redis error as an ``IndexStoreError`` saying what failed (and what to try)."""
    text = str(err) or type(err).__name__
    if isinstance(err, redis.TimeoutError) and "connecting" in text:
        what = (f"no connection to the Redis server within {where.params['socket_connect_timeout']:g} s "
                "(out of reach?"
                + (" does it speak TLS on this port?" if where.params.get("ssl") else "")
                + f"); ?socket_connect_timeout=SECONDS waits longer ({text})")
    elif isinstance(err, redis.TimeoutError):
        what = (f"the Redis server did not answer within {where.socket_timeout:g} s (stopped, overloaded or out of "
                f"reach?); ?socket_timeout=SECONDS waits longer ({text})")
    elif isinstance(err, redis.AuthenticationError) or "NOAUTH" in text or "WRONGPASS" in text:
        what = f"the Redis server refused the user or password (redis://user:password@host:port/db) ({text})"
    elif isinstance(err, redis.ConnectionError):
        what = f"cannot reach the Redis server, or the connection was lost ({text})"
        if where.params.get("ssl") and re.search(r"ssl|certificate|EOF|TLS", text, re.IGNORECASE):
            what += ("; TLS: is the certificate of the server's CA given (?ssl_ca_certs=FILE, or ?ssl_cert_reqs=none "
                     "not to check it), and a client certificate where the server wants one "
                     "(?ssl_certfile=FILE&ssl_keyfile=FILE)?")
    elif isinstance(err, redis.ResponseError):
        what = f"the Redis server refused a command ({text})"
    else:
        what = f"Redis failed ({type(err).__name__}: {text})"
    return IndexStoreError(f"{where.location}: {what}{doing}")


#: Said of an add that failed while it wrote.
UNFINISHED = (
    "; the add did not complete (what it wrote is never made visible, and is removed by the next add): "
    "add the documents again"
)


def guarded(method: Callable) -> Callable:
    """A store method whose Redis errors are ``IndexStoreError``s (the store's boundary)."""

    @functools.wraps(method)
    def run(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except redis.RedisError as err:
            raise failure(self.address, err) from None

    return run
