"""`smduty serve`: the TUI in a browser, for colleagues without a terminal (textual-serve).

Each browser tab runs its own smduty on the same database, so what one officer does reaches
the others within two seconds, as between terminals. It listens on this machine only unless
--host says otherwise; on a team host put it behind the council's access controls (a reverse
proxy with single sign-on), as textual-serve has no log-in of its own.
"""

from __future__ import annotations

import shlex
import socket
import sys

import click

from smduty.commands.session import Session, echo, pass_session

LOCAL = ("127.0.0.1", "localhost", "::1")


def app_command(session: Session) -> str:
    """The command each browser tab runs: this Python, this database, this officer."""
    return shlex.join(
        [sys.executable, "-m", "smduty", "--db", str(session.db_path), "--as", session.actor]
    )


def _refuse_a_taken_port(host: str, port: int) -> None:
    """Say so in a sentence, before textual-serve prints its banner and fails to bind."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host!r}: {exc}") from None
    family, kind, proto, _, address = found[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise click.ClickException(
                f"cannot listen on {host}:{port} ({exc.strerror or exc}): another smduty serve"
                " or another program has it; choose another --port"
            ) from None


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="The address to listen on (0.0.0.0: all this machine's networks).")  # fmt: skip
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--public-url", metavar="URL",
              help="The address browsers reach it by, behind a proxy"
              " (https://smduty.council.example); default http://HOST:PORT.")  # fmt: skip
@pass_session
def serve(session: Session, host: str, port: int, public_url: str | None) -> None:
    """Serve the dashboard to browsers (http://HOST:PORT): each tab runs its own smduty on
    this database, acting as the operator (--as) in the audit log. Ctrl-C stops it."""
    from textual_serve.server import Server

    session.open()  # refuse a bad database before listening
    _refuse_a_taken_port(host, port)
    if host not in LOCAL:
        echo(
            f"Listening on {host}:{port}: anyone who can reach it acts as {session.actor}."
            " Put it behind the council's access controls.",
            err=True,
        )
    if public_url is None and host in ("0.0.0.0", "::"):
        public_url = f"http://{socket.getfqdn()}:{port}"  # the page's own links must reach it
    Server(
        app_command(session), host=host, port=port, title="smduty", public_url=public_url
    ).serve()


COMMANDS = (serve,)
