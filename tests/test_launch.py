"""`make run`'s port: PORT=, then STREAMLIT_SERVER_PORT, then 8501 or the next free one."""

from __future__ import annotations

import re
import socket
import subprocess
import sys

import pytest

from aop_map.launch import DEFAULT_PORT, PortError, choose_port, port_is_free


def free_except(*taken: int):
    return lambda port: port not in taken


@pytest.mark.parametrize(
    ("requested", "env", "taken", "port", "noted"),
    [
        (None, {}, (), DEFAULT_PORT, False),
        (None, {}, (DEFAULT_PORT,), DEFAULT_PORT + 1, True),
        (None, {}, (DEFAULT_PORT, DEFAULT_PORT + 1), DEFAULT_PORT + 2, True),
        ("9000", {}, (DEFAULT_PORT,), 9000, False),
        (None, {"STREAMLIT_SERVER_PORT": "9100"}, (), 9100, False),
        ("9000", {"STREAMLIT_SERVER_PORT": "9100"}, (), 9000, False),  # PORT= wins
    ],
)
def test_choose_port(requested, env, taken, port: int, noted: bool) -> None:
    chosen, note = choose_port(requested, env, free_except(*taken))
    assert chosen == port and bool(note) == noted


@pytest.mark.parametrize(
    ("requested", "env", "message"),
    [
        ("9000", {}, "port 9000 (PORT) is in use"),
        (None, {"STREAMLIT_SERVER_PORT": "9000"}, "port 9000 (STREAMLIT_SERVER_PORT) is in use"),
        ("http", {}, "PORT must be a port number"),
        ("70000", {}, "between 1 and 65535"),
    ],
)
def test_a_named_port_that_cannot_be_used_is_an_error(requested, env, message: str) -> None:
    with pytest.raises(PortError, match=re.escape(message)):
        choose_port(requested, env, free_except(9000))


def test_every_default_port_taken() -> None:
    with pytest.raises(PortError, match="all in use"):
        choose_port(None, {}, lambda port: False)


def test_a_real_listener_is_seen_and_reported() -> None:
    with socket.socket() as busy:
        busy.bind(("", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert not port_is_free(port)
        done = subprocess.run(
            [sys.executable, "-m", "aop_map.launch", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 2 and f"port {port} (PORT) is in use" in done.stderr
