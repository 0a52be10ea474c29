"""Workspace code runs confined: real bubblewrap, real processes."""

from __future__ import annotations

import asyncio
import shlex
import shutil
from pathlib import Path

import pytest

from claudeserver.domain.confinement import Confinement
from claudeserver.domain.testrun import RunContext
from claudeserver.domain.testrun.base import execute

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="needs bubblewrap")


@pytest.fixture
def fake_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The server's home, with credentials in it."""
    home = tmp_path / "server-home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_rsa").write_text("PRIVATE KEY")
    (home / ".netrc").write_text("machine example.com password hunter2")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("API_TOKENS", "server-api-token")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-server-key")
    monkeypatch.setenv("DATABASE_URL", "postgresql://user:pw@db/prod")
    return home


def _run(jail: Confinement, script: str, **kwargs: object) -> tuple[int, str]:
    ctx = RunContext(jail.workspace, 30, {"CLAUDESERVER_TASK_ID": "t"}, confinement=jail)
    return asyncio.run(execute(["sh", "-c", script], ctx, **kwargs))  # type: ignore[arg-type]


def _jail(tmp_path: Path, **fields: object) -> Confinement:
    workspace = tmp_path / "workspace"
    workspace.mkdir(exist_ok=True)
    return Confinement(workspace, tmp_path / "task-home", **fields)  # type: ignore[arg-type]


def test_a_run_writes_only_its_workspace_home_and_tmp(tmp_path: Path, fake_home: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    jail = _jail(tmp_path)
    code, output = _run(
        jail,
        f"echo a > made.txt; echo b > $HOME/cache.txt; echo c > /tmp/scratch.txt; "
        f"echo pwned > {outside}/planted.txt; echo pwned > {fake_home}/.bashrc; "
        "echo pwned > /usr/local/planted.txt; echo end",
    )
    assert (jail.workspace / "made.txt").read_text() == "a\n"
    assert (jail.home / "cache.txt").read_text() == "b\n"
    assert list(outside.iterdir()) == []
    assert not (fake_home / ".bashrc").exists()
    assert not Path("/usr/local/planted.txt").exists()
    assert "Read-only file system" in output, output
    assert code == 0


def test_a_run_sees_no_secret_of_the_server(tmp_path: Path, fake_home: Path) -> None:
    _, output = _run(
        _jail(tmp_path),
        f"cat {fake_home}/.ssh/id_rsa {fake_home}/.netrc; env; cat /etc/shadow; echo end",
    )
    for secret in ("PRIVATE KEY", "hunter2", "server-api-token", "sk-ant-server-key", "pw@db"):
        assert secret not in output
    assert "HOME=" in output and "CLAUDESERVER_TASK_ID=t" in output
    # The operator's choice of pytest plugins does pass (tests/conftest.py makes one).
    assert "PYTEST_DISABLE_PLUGIN_AUTOLOAD=1" in output
    assert output.rstrip().endswith("end")


def test_the_servers_data_is_hidden(tmp_path: Path, fake_home: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "tasks.db").write_text("every task")
    jail = _jail(tmp_path, hidden=(data,))
    _, output = _run(jail, f"ls {data}; cat {data}/tasks.db; echo end")
    assert "every task" not in output


def test_protected_files_cannot_change_and_git_pointer_stays(
    tmp_path: Path, fake_home: Path
) -> None:
    jail = _jail(tmp_path)
    test_file = jail.workspace / "test_old.py"
    test_file.write_text("def test_ok(): pass\n")
    pointer = jail.workspace / ".git"
    pointer.write_text("gitdir: /somewhere/real\n")
    jail = _jail(tmp_path, read_only=(test_file, pointer))
    _, output = _run(
        jail,
        "echo 'def test_ok(): assert False' > test_old.py; rm -f test_old.py; "
        "echo 'gitdir: /tmp/evil' > .git; echo end",
    )
    assert "Read-only file system" in output
    assert test_file.read_text() == "def test_ok(): pass\n"
    assert pointer.read_text() == "gitdir: /somewhere/real\n"


def test_no_network_but_its_own_loopback(tmp_path: Path, fake_home: Path) -> None:
    script = (
        "python3 -c \"import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); "
        "s.listen(); c = socket.create_connection(s.getsockname()); print('loopback ok')\"; "
        "python3 -c \"import socket; socket.create_connection(('1.1.1.1', 53), timeout=3)\" "
        "2>&1 | tail -1"
    )
    _, output = _run(_jail(tmp_path), script)
    assert "loopback ok" in output
    assert "Network is unreachable" in output, output


def test_a_file_cannot_outgrow_the_limit(tmp_path: Path, fake_home: Path) -> None:
    jail = _jail(tmp_path, limits=("--fsize=100000",))
    _run(jail, "head -c 10000000 /dev/zero > big; echo end")
    assert (jail.workspace / "big").stat().st_size == 100_000


def test_the_private_tmp_is_capped(tmp_path: Path, fake_home: Path) -> None:
    """/tmp is in memory: a run may not fill it past the task's disk cap."""
    from claudeserver.domain import confinement

    if not confinement.sized_tmpfs():
        pytest.skip("this bubblewrap cannot size a tmpfs (before 0.7)")
    jail = _jail(tmp_path, tmp_bytes=1024 * 1024)
    _, output = _run(jail, "head -c 5000000 /dev/zero > /tmp/big; ls -l /tmp/big")
    assert "No space left on device" in output, output
    assert " 1048576 " in output, output


def test_a_report_directory_can_be_written(tmp_path: Path, fake_home: Path) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    _run(_jail(tmp_path), f"echo '<xml/>' > {reports}/junit.xml", writable=[reports])
    assert (reports / "junit.xml").read_text() == "<xml/>\n"


def test_unsandboxed_runs_still_get_a_scrubbed_environment(tmp_path: Path, fake_home: Path) -> None:
    """SANDBOX=off: no bubblewrap, but still none of the server's secrets."""
    _, output = _run(_jail(tmp_path, sandboxed=False), "env")
    assert "server-api-token" not in output and "sk-ant-server-key" not in output
    assert f"HOME={tmp_path / 'task-home'}" in output


def test_the_servers_own_python_runs_inside_wherever_it_lives(
    tmp_path: Path, fake_home: Path
) -> None:
    """A server installed under /tmp (a CI checkout) still runs projects without a venv."""
    import sys

    code, output = _run(_jail(tmp_path), f"{sys.executable} -c 'print(40 + 2)'")
    assert (code, output.strip()) == (0, "42"), output


def test_a_fork_loop_stops_at_the_process_limit(
    tmp_path: Path, fake_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even for a server running as root, where the kernel ignores RLIMIT_NPROC."""
    from claudeserver.domain import process_limit
    from claudeserver.domain.testrun import base

    with process_limit.pids_group(10) as probe:
        if probe is None:
            pytest.skip("this machine lets the server make no pids control group")
    monkeypatch.setattr(base, "MAX_PROCESSES", 30)
    fork_loop = (
        "import os, time\n"
        "n = 0\n"
        "for _ in range(100):\n"
        "    try:\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(2)\n"
        "            os._exit(0)\n"
        "    except OSError:\n"
        "        break\n"
        "    n += 1\n"
        "print('forked', n)\n"
    )
    _, output = _run(_jail(tmp_path), f"python3 -c {shlex.quote(fork_loop)}")
    assert "forked" in output, output
    assert int(output.split("forked")[1].split()[0]) < 30, output


def test_a_named_host_service_is_reachable_and_nothing_else(
    tmp_path: Path, fake_home: Path
) -> None:
    """A local database the tests use: its port is bridged in, the host's others are not."""
    import socket
    import threading

    from claudeserver.domain.service_bridge import Service

    server, other = socket.socket(), socket.socket()
    for listener in (server, other):
        listener.bind(("127.0.0.1", 0))
        listener.listen()

    def answer() -> None:
        while True:
            try:
                connection, _ = server.accept()
            except OSError:  # closed at the end of the test
                return
            connection.sendall(b"hello from the host service")
            connection.close()

    threading.Thread(target=answer, daemon=True).start()
    port, other_port = server.getsockname()[1], other.getsockname()[1]
    probe = (
        "import socket, sys\n"
        "for port in sys.argv[1:]:\n"
        "    try:\n"
        "        s = socket.create_connection(('127.0.0.1', int(port)), timeout=3)\n"
        "        print(port, s.recv(100).decode() or 'connected')\n"
        "    except OSError as exc:\n"
        "        print(port, 'refused', exc)\n"
    )
    jail = _jail(tmp_path, services=(Service.parse(f"127.0.0.1:{port}"),))
    _, output = _run(jail, f"python3 -c {shlex.quote(probe)} {port} {other_port}")
    assert f"{port} hello from the host service" in output, output
    assert f"{other_port} refused" in output, output
    server.close()
    other.close()


def test_host_services_must_be_on_the_loopback() -> None:
    from claudeserver.domain.service_bridge import Service

    assert Service.parse("localhost:6379") == Service("localhost", 6379)
    for bad in ("db.internal:5432", "10.0.0.5:5432", "127.0.0.1", "127.0.0.1:99999"):
        with pytest.raises(ValueError):
            Service.parse(bad)


def test_a_fetch_domains_run_reaches_only_its_domains_through_the_proxy(
    tmp_path: Path, fake_home: Path
) -> None:
    """test_network "fetch_domains": a host the session lists (here `localhost`, the host's
    own, where a small web server answers) is reached through the server's proxy; any
    other name is 403, through plain HTTP or a CONNECT tunnel, and nothing goes direct."""
    import http.server
    import threading

    class Hello(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"hello from an allowed host"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    web = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    port = web.server_address[1]
    probe = (
        "import os, socket, sys, urllib.request, urllib.error\n"
        "proxy = os.environ['HTTP_PROXY']\n"
        "assert os.environ['https_proxy'] == proxy, os.environ\n"
        "os.environ.pop('NO_PROXY'); os.environ.pop('no_proxy')  # localhost: via the proxy\n"
        "for url in sys.argv[2:]:\n"
        "    try:\n"
        "        print(url, urllib.request.urlopen(url, timeout=10).read().decode())\n"
        "    except urllib.error.HTTPError as exc:\n"
        "        print(url, exc.code, exc.read().decode().strip())\n"
        "    except OSError as exc:\n"
        "        print(url, 'failed', exc)\n"
        "host, _, proxy_port = proxy.rpartition(':')\n"
        "for target in (f'localhost:{sys.argv[1]}', 'denied.example:443'):\n"
        "    s = socket.create_connection(('127.0.0.1', int(proxy_port)), timeout=10)\n"
        "    s.sendall(f'CONNECT {target} HTTP/1.1\\r\\nHost: {target}\\r\\n\\r\\n'.encode())\n"
        "    answer = s.recv(200).decode().split('\\r\\n')[0]\n"
        "    if answer.endswith('200 Connection established'):\n"
        "        s.sendall(b'GET / HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n')\n"
        "        reply = b''\n"
        "        while chunk := s.recv(500):  # until the server closes (HTTP/1.0)\n"
        "            reply += chunk\n"
        "        answer += ' then ' + reply.decode().split('\\r\\n\\r\\n')[-1]\n"
        "    print('CONNECT', target, answer)\n"
        "try:\n"
        "    socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=3)\n"
        "    print('direct: connected')\n"
        "except OSError:\n"
        "    print('direct: refused')\n"
    )
    jail = _jail(tmp_path, network="fetch_domains", fetch_domains=("localhost",))
    urls = [f"http://localhost:{port}/", "http://denied.example/", "http://169.254.169.254/"]
    _, output = _run(jail, f"python3 -c {shlex.quote(probe)} {port} {' '.join(urls)}")
    web.shutdown()
    assert f"http://localhost:{port}/ hello from an allowed host" in output, output
    assert "http://denied.example/ 403 claudeserver: denied.example is not one of" in output
    assert "http://169.254.169.254/ 403" in output, output
    assert f"CONNECT localhost:{port} HTTP/1.1 200 Connection established then hello" in output
    assert "CONNECT denied.example:443 HTTP/1.1 403 Forbidden" in output, output
    assert "direct: refused" in output, output
