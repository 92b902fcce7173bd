"""`make run`: start the Streamlit app on a port that is free, and say which.

The port is, in order: ``--port`` (the Makefile passes ``PORT=``), Streamlit's own
``STREAMLIT_SERVER_PORT``, else 8501. A port the user named that is taken is an error that says
so; when the default is taken (another app, an earlier ``make run``), the next free one is used.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

DEFAULT_PORT = 8501
# How many ports after the default to try before giving up: a machine with more apps than this
# running wants an explicit PORT=.
PORTS_TO_TRY = 20
ROOT = Path(__file__).resolve().parents[1]


class PortError(Exception):
    """No usable port: the message says what to do."""


def port_is_free(port: int, host: str = "") -> bool:
    """Whether a server could listen on `port` now (all interfaces, as Streamlit does)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _parse(text: str, where: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise PortError(f"{where} must be a port number, not {text!r}") from None
    if not 1 <= port <= 65535:
        raise PortError(f"{where} must be between 1 and 65535, not {port}")
    return port


def choose_port(
    requested: str | None, env: Mapping[str, str], is_free: Callable[[int], bool] = port_is_free
) -> tuple[int, str | None]:
    """The port to serve on and, when it is not the one expected, a note saying why."""
    if requested:
        where, port = "PORT", _parse(requested, "PORT")
    elif env.get("STREAMLIT_SERVER_PORT"):
        where = "STREAMLIT_SERVER_PORT"
        port = _parse(env["STREAMLIT_SERVER_PORT"], where)
    else:
        for port in range(DEFAULT_PORT, DEFAULT_PORT + PORTS_TO_TRY):
            if is_free(port):
                note = (
                    None
                    if port == DEFAULT_PORT
                    else (
                        f"port {DEFAULT_PORT} is in use, so the app uses {port} "
                        f"(choose one with: make run PORT=NNNN)"
                    )
                )
                return port, note
        raise PortError(
            f"ports {DEFAULT_PORT}-{DEFAULT_PORT + PORTS_TO_TRY - 1} are all in "
            "use; choose another with: make run PORT=NNNN"
        )
    if not is_free(port):
        raise PortError(
            f"port {port} ({where}) is in use by another program; choose another "
            f"with: make run PORT={port + 1}"
        )
    return port, None


def main(argv: list[str] | None = None) -> int:
    """Choose the port, then replace this process with `streamlit run app.py`."""
    parser = argparse.ArgumentParser(prog="python -m aop_map.launch", description=__doc__)
    parser.add_argument("--port", help="the port to serve on (default: see above)")
    args = parser.parse_args(argv)
    try:
        port, note = choose_port(args.port, os.environ)
    except PortError as error:
        print(f"make run: {error}", file=sys.stderr)
        return 2
    if note:
        print(f"make run: {note}", file=sys.stderr)
    print(f"make run: open http://localhost:{port}", file=sys.stderr)
    streamlit = str(Path(sys.executable).with_name("streamlit"))
    os.execv(
        streamlit,
        [
            streamlit,
            "run",
            str(ROOT / "app.py"),
            "--server.port",
            str(port),
            "--server.headless",
            "true",
        ],
    )
    return 0  # not reached


if __name__ == "__main__":
    raise SystemExit(main())
