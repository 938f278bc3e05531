"""Throwaway real servers for tests: PostgreSQL, Redis, MariaDB and Chromium.

Each server comes from Debian packages (see scripts/services.sh) and is run
privately: loopback only, a free port, data in a temp dir, its own process
group so teardown can kill everything it spawned, even after a failure.
Nothing here touches system-wide services.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

__all__ = [
    "ServerError",
    "free_port",
    "find_postgres_bin",
    "postgres_has_extension",
    "find_redis_server",
    "find_mariadbd",
    "find_mariadb_install_db",
    "find_mariadb_client",
    "running_postgres",
    "RedisServer",
    "running_redis",
    "running_mariadb",
    "chromium_path",
    "chromium_args",
]

PG_USER = "kamidesk"
DB_NAME = "kamidesk_test"
START_TIMEOUT = 30.0
# AF_UNIX paths are limited to 108 bytes; leave room for the socket file name.
_MAX_SOCKET_DIR = 80


class ServerError(RuntimeError):
    """A server binary exists but could not be set up or started."""


# --------------------------------------------------------------------------- #
# generic helpers
# --------------------------------------------------------------------------- #


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now.

    The OS picks it (bind to port 0); a small race remains until the server
    binds, so the starters below retry with a new port if the bind fails.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _is_root() -> bool:
    return os.geteuid() == 0


def _first_executable(*candidates: str | os.PathLike[str] | None) -> Path | None:
    for cand in candidates:
        if cand and os.path.isfile(cand) and os.access(cand, os.X_OK):
            return Path(cand)
    return None


def _which(name: str) -> str | None:
    # /usr/sbin is often not on a normal user's PATH, but is where Debian
    # puts mariadbd.
    path = os.environ.get("PATH", "") + os.pathsep + "/usr/sbin:/sbin"
    return shutil.which(name, path=path)


def _kill_group(proc: subprocess.Popen[bytes] | None, grace: float = 5.0) -> None:
    """Terminate *proc* and everything in its process group; never raises."""
    if proc is None:
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
    # A group member may outlive the leader (e.g. a forked helper).
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def _load_prctl() -> Any:
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


# Looked up in the parent: after fork+setuid the child may not be able to
# read Python's own files (e.g. a pyenv under /root) to import ctypes.
_PRCTL = _load_prctl()


def _die_with_parent() -> None:
    """preexec_fn: have Linux SIGKILL the server if pytest itself is killed.

    Teardown covers normal ends and failures; this covers `kill -9`,
    pytest-timeout's os._exit and similar, so no stray servers remain.
    """
    if _PRCTL is not None:
        _PRCTL(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG


def _tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def _port_clash(log: Path) -> bool:
    text = _tail(log, 200).lower()
    return "address already in use" in text or "could not bind" in text


def _open_log(path: Path) -> IO[bytes]:
    return open(path, "ab", buffering=0)


def _reachable_by(path: Path, uid: int, gid: int) -> bool:
    """True if user uid/gid can traverse every directory down to *path*."""
    path = path.resolve()
    for part in [*reversed(path.parents), path]:
        try:
            st = part.stat()
        except OSError:
            return False
        if st.st_uid == uid:
            ok = st.st_mode & stat.S_IXUSR
        elif st.st_gid == gid:
            ok = st.st_mode & stat.S_IXGRP
        else:
            ok = st.st_mode & stat.S_IXOTH
        if not ok:
            return False
    return True


def _private_dir(prefix: str, parent: Path | None, owner: pwd.struct_passwd | None) -> Path:
    """Make a fresh temp dir for a server, reachable (and owned) by *owner*.

    pytest's own temp base is mode 0700 and owned by root, so a server that
    runs as an unprivileged user cannot live there; long paths also break
    unix sockets. In both cases fall back to the system temp dir.
    """
    candidates: list[Path | None] = []
    if parent is not None:
        candidates.append(Path(parent))
    candidates.append(Path(tempfile.gettempdir()))
    candidates.append(None)  # tempfile's default
    chosen: Path | None = None
    for cand in candidates:
        if cand is None:
            break
        if len(str(cand)) > _MAX_SOCKET_DIR - len(prefix) - 10:
            continue
        if owner is not None and not _reachable_by(cand, owner.pw_uid, owner.pw_gid):
            continue
        chosen = cand
        break
    base = Path(tempfile.mkdtemp(prefix=prefix, dir=chosen))
    if owner is not None:
        os.chown(base, owner.pw_uid, owner.pw_gid)
    return base


# --------------------------------------------------------------------------- #
# PostgreSQL
# --------------------------------------------------------------------------- #


def _version_key(path: Path) -> tuple[int, ...]:
    nums = re.findall(r"\d+", path.name)
    return tuple(int(n) for n in nums) or (0,)


def find_postgres_bin() -> Path | None:
    """Directory with initdb/postgres/pg_ctl, highest version first.

    KAMIDESK_PG_BINDIR overrides. Debian keeps the binaries in
    /usr/lib/postgresql/<ver>/bin (not on PATH); `pg_config --bindir` and
    PATH are fallbacks for other layouts.
    """
    override = os.environ.get("KAMIDESK_PG_BINDIR")
    if override:
        p = Path(override)
        return p if (p / "initdb").exists() and (p / "postgres").exists() else None

    root = Path("/usr/lib/postgresql")
    if root.is_dir():
        versions = sorted(
            (
                d
                for d in root.iterdir()
                if (d / "bin" / "initdb").exists() and (d / "bin" / "postgres").exists()
            ),
            key=_version_key,
            reverse=True,
        )
        if versions:
            return versions[0] / "bin"

    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10
            ).stdout.strip()
            if out and (Path(out) / "initdb").exists():
                return Path(out)

    initdb = shutil.which("initdb")
    if initdb and (Path(initdb).parent / "postgres").exists():
        return Path(initdb).parent
    return None


def postgres_has_extension(bindir: Path, name: str) -> bool:
    """True if the server in *bindir* ships extension *name* (e.g. pg_trgm)."""
    sharedirs: list[Path] = []
    pg_config = bindir / "pg_config"
    if pg_config.exists():
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [str(pg_config), "--sharedir"], capture_output=True, text=True, timeout=10
            ).stdout.strip()
            if out:
                sharedirs.append(Path(out))
    # Debian: /usr/lib/postgresql/<ver>/bin -> /usr/share/postgresql/<ver>
    sharedirs.append(Path("/usr/share/postgresql") / bindir.parent.name)
    return any((d / "extension" / f"{name}.control").exists() for d in sharedirs)


def _pg_owner() -> pwd.struct_passwd | None:
    """User to run initdb/postgres as: they refuse to run as root."""
    if not _is_root():
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise ServerError("running as root but neither 'postgres' nor 'nobody' user exists")


def _run_as(
    cmd: list[str], owner: pwd.struct_passwd | None, **kw: object
) -> subprocess.CompletedProcess[str]:
    extra: dict[str, object] = {}
    if owner is not None:
        extra = {"user": owner.pw_uid, "group": owner.pw_gid, "extra_groups": []}
    return subprocess.run(cmd, capture_output=True, text=True, **extra, **kw)  # type: ignore[call-overload]


def _pg_connect(port: int, dbname: str, timeout: float = 2.0):  # type: ignore[no-untyped-def]
    import psycopg  # the project's driver; imported late so this module loads without it

    return psycopg.connect(
        host="127.0.0.1",
        port=port,
        user=PG_USER,
        dbname=dbname,
        connect_timeout=max(1, int(timeout)),
        autocommit=True,
    )


@contextlib.contextmanager
def running_postgres(tmpdir: str | os.PathLike[str] | None = None,
                     durable: bool = False) -> Iterator[str]:
    """Run a private PostgreSQL; yield a SQLAlchemy URL to `kamidesk_test`.

    Trust auth on 127.0.0.1 only, durability off (fsync etc.) for speed unless
    ``durable`` (benchmarks compare it with SQLite committing to disk);
    pg_trgm is created in the database. As root the server runs as the
    `postgres` (or `nobody`) user, since initdb/postgres refuse root.
    """
    import psycopg  # noqa: F401 - fail fast, not after a 30 s connect loop

    bindir = find_postgres_bin()
    if bindir is None:
        raise ServerError("PostgreSQL binaries not found (Debian: apt-get install postgresql)")
    owner = _pg_owner()
    base = _private_dir("kamidesk-pg-", Path(tmpdir) if tmpdir else None, owner)
    data = base / "data"
    log = base / "postgres.log"
    proc: subprocess.Popen[bytes] | None = None
    env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
    env.pop("PGDATA", None)
    try:
        initdb = [
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-A",
            "trust",
            "-U",
            PG_USER,
            "--encoding",
            "UTF8",
            "--no-sync",
        ]
        res = _run_as([*initdb, "--locale", "C.UTF-8"], owner, env=env, cwd=base, timeout=120)
        if res.returncode != 0:
            shutil.rmtree(data, ignore_errors=True)
            res = _run_as(
                [*initdb, "--no-locale"],
                owner,
                env={**env, "LC_ALL": "C", "LANG": "C"},
                cwd=base,
                timeout=120,
            )
        if res.returncode != 0:
            raise ServerError(f"initdb failed:\n{res.stdout}\n{res.stderr}")

        port = 0
        for _attempt in range(3):
            port = free_port()
            logf = _open_log(log)
            cmd = [
                str(bindir / "postgres"),
                "-D",
                str(data),
                "-k",
                str(base),
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
            ]
            if not durable:
                cmd += ["-c", "fsync=off", "-c", "synchronous_commit=off",
                        "-c", "full_page_writes=off"]
            extra: dict[str, object] = {}
            if owner is not None:
                extra = {"user": owner.pw_uid, "group": owner.pw_gid, "extra_groups": []}
            proc = subprocess.Popen(  # type: ignore[call-overload]
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=logf,
                stderr=subprocess.STDOUT,
                cwd=base,
                env=env,
                start_new_session=True,
                preexec_fn=_die_with_parent,
                **extra,
            )
            logf.close()
            if _wait_postgres(proc, port, log):
                break
            _kill_group(proc)
            if not _port_clash(log):
                raise ServerError(f"postgres did not start:\n{_tail(log)}")
        else:
            raise ServerError(f"postgres could not bind a port:\n{_tail(log)}")

        with _pg_connect(port, "postgres") as conn:
            conn.execute(f"CREATE DATABASE {DB_NAME}")
        with _pg_connect(port, DB_NAME) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")

        yield f"postgresql+psycopg://{PG_USER}@127.0.0.1:{port}/{DB_NAME}"
    finally:
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                _run_as(
                    [
                        str(bindir / "pg_ctl"),
                        "stop",
                        "-D",
                        str(data),
                        "-m",
                        "immediate",
                        "-w",
                        "-t",
                        "10",
                    ],
                    owner,
                    env=env,
                    cwd=base,
                    timeout=20,
                )
        _kill_group(proc)
        shutil.rmtree(base, ignore_errors=True)


def _wait_postgres(proc: subprocess.Popen[bytes], port: int, log: Path) -> bool:
    """Poll until postgres accepts a connection; False if it exits first."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with _pg_connect(port, "postgres", timeout=1.0):
                return True
        except Exception:  # noqa: BLE001 - any failure means "not yet"
            time.sleep(0.05)
    raise ServerError(f"postgres not ready after {START_TIMEOUT:.0f}s:\n{_tail(log)}")


# --------------------------------------------------------------------------- #
# Redis
# --------------------------------------------------------------------------- #


def find_redis_server() -> Path | None:
    """redis-server binary: KAMIDESK_REDIS_SERVER if set, else Debian's path or PATH."""
    override = os.environ.get("KAMIDESK_REDIS_SERVER")
    if override:
        return _first_executable(override)
    return _first_executable("/usr/bin/redis-server", _which("redis-server"))


def _redis_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """A private redis-server that tests can stop and start again.

    The port and URL stay the same across stop()/start(), so outage tests can
    take Redis away and bring it back under the app's feet. Data is not
    persisted: a restarted server is empty.
    """

    def __init__(self, tmpdir: str | os.PathLike[str], binary: Path | None = None) -> None:
        found = binary or find_redis_server()
        if found is None:
            raise ServerError("redis-server not found (Debian: apt-get install redis-server)")
        self.binary: Path = found
        self.dir = Path(tmpdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.log = self.dir / "redis.log"
        self.port = free_port()
        self._proc: subprocess.Popen[bytes] | None = None
        self._ever_started = False

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def __str__(self) -> str:
        return self.url

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        """Start (or restart) on the same port; no-op if already running."""
        if self.running:
            return
        for attempt in range(3):
            logf = _open_log(self.log)
            self._proc = subprocess.Popen(
                [
                    str(self.binary),
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(self.dir),
                    "--daemonize",
                    "no",
                    "--protected-mode",
                    "yes",
                    "--logfile",
                    "",
                ],
                stdin=subprocess.DEVNULL,
                stdout=logf,
                stderr=subprocess.STDOUT,
                cwd=self.dir,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
            logf.close()
            deadline = time.monotonic() + START_TIMEOUT
            while time.monotonic() < deadline and self._proc.poll() is None:
                if _redis_ping(self.port):
                    self._ever_started = True
                    return
                time.sleep(0.02)
            _kill_group(self._proc)
            self._proc = None
            # Only a first start may move to another port; a restart must keep
            # the URL the app already holds.
            if attempt < 2 and not self._ever_started and _port_clash(self.log):
                self.port = free_port()
                continue
            break
        raise ServerError(f"redis-server did not start on port {self.port}:\n{_tail(self.log)}")

    def stop(self) -> None:
        """Kill the server (SIGTERM, then SIGKILL); the port becomes refused."""
        _kill_group(self._proc, grace=3.0)
        self._proc = None

    close = stop


@contextlib.contextmanager
def running_redis(tmpdir: str | os.PathLike[str]) -> Iterator[RedisServer]:
    """Run a private Redis; yield the RedisServer (use `.url`)."""
    server = RedisServer(tmpdir)
    try:
        server.start()
        yield server
    finally:
        server.stop()


# --------------------------------------------------------------------------- #
# MariaDB
# --------------------------------------------------------------------------- #


def find_mariadbd() -> Path | None:
    """mariadbd (or mysqld): KAMIDESK_MARIADBD if set, else /usr/sbin (Debian) or PATH."""
    override = os.environ.get("KAMIDESK_MARIADBD")
    if override:
        return _first_executable(override)
    return _first_executable(
        "/usr/sbin/mariadbd",
        "/usr/sbin/mysqld",
        _which("mariadbd"),
        _which("mysqld"),
    )


def find_mariadb_install_db() -> Path | None:
    return _first_executable(
        "/usr/bin/mariadb-install-db",
        "/usr/bin/mysql_install_db",
        _which("mariadb-install-db"),
        _which("mysql_install_db"),
    )


def find_mariadb_client() -> Path | None:
    return _first_executable(
        "/usr/bin/mariadb",
        "/usr/bin/mysql",
        _which("mariadb"),
        _which("mysql"),
    )


def _mariadb_sql(
    client: Path, sock: Path, sql: str, *, timeout: float = 10.0
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(client),
            "--no-defaults",
            f"--socket={sock}",
            "-uroot",
            "--batch",
            "--connect-timeout=2",
            "-e",
            sql,
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


@contextlib.contextmanager
def running_mariadb(tmpdir: str | os.PathLike[str] | None = None) -> Iterator[str]:
    """Run a private MariaDB; yield a SQLAlchemy (PyMySQL) URL to `kamidesk_test`.

    root has no password and the server listens on 127.0.0.1 only, with its
    socket in the temp dir. As root, mariadbd needs `--user=root`.
    """
    mariadbd = find_mariadbd()
    install_db = find_mariadb_install_db()
    client = find_mariadb_client()
    if mariadbd is None or install_db is None or client is None:
        raise ServerError("MariaDB not found (Debian: apt-get install mariadb-server)")
    base = _private_dir("kamidesk-my-", Path(tmpdir) if tmpdir else None, None)
    data = base / "data"
    sock = base / "mysqld.sock"
    log = base / "mariadb.log"
    as_root = ["--user=root"] if _is_root() else []
    proc: subprocess.Popen[bytes] | None = None
    try:
        res = subprocess.run(
            [
                str(install_db),
                "--no-defaults",
                f"--datadir={data}",
                "--skip-test-db",
                "--auth-root-authentication-method=normal",
                "--skip-name-resolve",
                *as_root,
            ],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=base,
            stdin=subprocess.DEVNULL,
        )
        if res.returncode != 0:
            raise ServerError(f"mariadb-install-db failed:\n{res.stdout}\n{res.stderr}")

        port = 0
        for _attempt in range(3):
            port = free_port()
            cmd = [
                str(mariadbd),
                "--no-defaults",
                f"--datadir={data}",
                f"--socket={sock}",
                f"--port={port}",
                "--bind-address=127.0.0.1",
                "--skip-networking=0",
                f"--pid-file={base / 'mysqld.pid'}",
                f"--log-error={log}",
                "--skip-log-bin",
                "--skip-name-resolve",
                "--innodb-flush-log-at-trx-commit=0",
                "--innodb-buffer-pool-size=64M",
                "--innodb-doublewrite=0",
                "--character-set-server=utf8mb4",
                "--collation-server=utf8mb4_unicode_ci",
                *as_root,
            ]
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd=base,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
            deadline = time.monotonic() + START_TIMEOUT
            ready = False
            while time.monotonic() < deadline and proc.poll() is None:
                if sock.exists() and _mariadb_sql(client, sock, "SELECT 1").returncode == 0:
                    ready = True
                    break
                time.sleep(0.05)
            if ready:
                break
            exited = proc.poll() is not None
            _kill_group(proc)
            if not exited or not _port_clash(log):
                raise ServerError(f"mariadbd did not start:\n{_tail(log)}")
        else:
            raise ServerError(f"mariadbd could not bind a port:\n{_tail(log)}")

        # install-db makes root@localhost; with skip-name-resolve TCP clients
        # are matched by IP, so make sure root@127.0.0.1 exists too.
        res = _mariadb_sql(
            client,
            sock,
            f"CREATE DATABASE {DB_NAME} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;"
            " CREATE USER IF NOT EXISTS 'root'@'127.0.0.1';"
            " GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;",
        )
        if res.returncode != 0:
            raise ServerError(f"mariadb setup failed:\n{res.stderr}")

        yield f"mysql+pymysql://root@127.0.0.1:{port}/{DB_NAME}"
    finally:
        # Data is thrown away, so no graceful shutdown is needed.
        _kill_group(proc, grace=0.0)
        shutil.rmtree(base, ignore_errors=True)


# --------------------------------------------------------------------------- #
# Chromium
# --------------------------------------------------------------------------- #


def chromium_path() -> str | None:
    """Debian's Chromium (or KAMIDESK_CHROMIUM); Playwright's own builds are never used."""
    override = os.environ.get("KAMIDESK_CHROMIUM")
    if override:
        return override if os.access(override, os.X_OK) else None
    return "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None


def chromium_args() -> list[str]:
    """Flags for a headless Chromium on a closed network, possibly as root.

    --no-sandbox: root (and many containers) cannot use the sandbox; the
    tests load only local content. The background-networking flags stop
    Chromium from flooding refused connections to Google services.
    """
    return [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
    ]
