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


# --------------------------------------------------------------------------- Redis servers of a test's own


class RedisProcess:
    """A redis-server process of a test's own, to stop (SIGSTOP), resume, kill and start again on its port."""

    def __init__(self, binary: str, workdir: Path, args: list[str], *, host: str = "127.0.0.1", tls: dict | None = None):
        self.binary, self.workdir, self.args, self.host, self.tls = binary, workdir, args, host, tls
        self.port = _free_port()
        self.proc = None

    @property
    def url(self) -> str:
        """The server's address (without query parameters: a TLS server's need its files, see ``tls_url``)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'rediss' if self.tls else 'redis'}://{host}:{self.port}/0"

    def start(self) -> RedisProcess:
        """Start the server (again, after ``kill``: on the same port, from the same folder)."""
        import subprocess

        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()
        ports = (["--port", "0", "--tls-port", str(self.port)] if self.tls else ["--port", str(self.port)])
        self.proc = subprocess.Popen(
            [self.binary, *ports, "--bind", self.host, "--save", "", "--dir", str(self.workdir), *self.args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        self.wait_ready()
        return self

    def wait_ready(self) -> None:
        import time

        import redis

        client = redis.Redis(host=self.host, port=self.port, socket_timeout=2, **(self.tls or {}))
        try:
            for _ in range(200):
                if self.proc.poll() is not None:
                    raise RuntimeError(f"redis-server did not start: {self.proc.stdout.read()[-2000:]}")
                try:
                    client.ping()
                    return
                except redis.ConnectionError:
                    time.sleep(0.025)
                except redis.ResponseError as err:  # (NOAUTH: it is up, and wants a password)
                    if "NOAUTH" in str(err) or "AUTH" in str(err):
                        return
                    raise
            raise RuntimeError("redis-server did not answer within 5 s")
        finally:
            client.close()

    def pause(self) -> None:
        import signal

        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        import signal

        self.proc.send_signal(signal.SIGCONT)

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.resume()
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except Exception:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()


@pytest.fixture
def redis_process(tmp_path_factory):
    """Start redis-server processes of this test's own: ``redis_process(*args, host=...)`` (stopped at the end of
    the test). Skips without redis-server."""
    import shutil

    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("no redis-server to start")
    started: list[RedisProcess] = []

    def start(*args: str, host: str = "127.0.0.1") -> RedisProcess:
        server = RedisProcess(binary, tmp_path_factory.mktemp("redis-own"), list(args), host=host)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


def _openssl(workdir: Path, *args: str) -> None:
    import subprocess

    done = subprocess.run(["openssl", *args], cwd=workdir, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)}: {done.stderr[-1000:]}")


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory) -> dict[str, Path]:
    """A certificate authority of its own (self-signed), a server certificate for 127.0.0.1 and localhost and a
    client certificate it signed, made with openssl. Skips without openssl."""
    import shutil

    if shutil.which("openssl") is None:
        pytest.skip("no openssl to make certificates with")
    d = tmp_path_factory.mktemp("tls")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    (d / "ca.ext").write_text("basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n"
                              "subjectKeyIdentifier=hash\n")
    (d / "server.ext").write_text("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                                  "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n"
                                  "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n")
    (d / "client.ext").write_text("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                                  "extendedKeyUsage=clientAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n")
    _openssl(d, "req", *ec, "-keyout", "ca.key", "-out", "ca.csr", "-subj", "/CN=dedup test CA")
    _openssl(d, "x509", "-req", "-in", "ca.csr", "-signkey", "ca.key", "-out", "ca.pem", "-days", "3", "-extfile", "ca.ext")
    for name, subject in (("server", "/CN=localhost"), ("client", "/CN=dedup test client")):
        _openssl(d, "req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", subject)
        _openssl(d, "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                 "-out", f"{name}.pem", "-days", "3", "-extfile", f"{name}.ext")
    return {"ca": d / "ca.pem", "cert": d / "server.pem", "key": d / "server.key",
            "client_cert": d / "client.pem", "client_key": d / "client.key"}


@pytest.fixture(scope="session")
def tls_redis(tls_files, tmp_path_factory):
    """A redis-server speaking TLS only (``--port 0``), with a password, that wants a client certificate signed by
    its CA (``--tls-auth-clients yes``). Skips without redis-server or where it is built without TLS."""
    import shutil

    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("no redis-server to start")
    f = tls_files
    client = {"ssl": True, "ssl_ca_certs": str(f["ca"]), "ssl_certfile": str(f["client_cert"]),
              "ssl_keyfile": str(f["client_key"]), "password": "s3cret-pw"}
    server = RedisProcess(
        binary, tmp_path_factory.mktemp("redis-tls"),
        ["--tls-cert-file", str(f["cert"]), "--tls-key-file", str(f["key"]), "--tls-ca-cert-file", str(f["ca"]),
         "--tls-auth-clients", "yes", "--requirepass", "s3cret-pw"],
        tls=client,
    )
    try:
        server.start()
    except RuntimeError as err:
        server.stop()
        pytest.skip(f"redis-server cannot speak TLS here: {err}")
    yield server
    server.stop()
