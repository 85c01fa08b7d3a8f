"""The terminal tab's websocket: a shell in a running replica, rendered by xterm.js.

Browser → server messages are JSON: `{"input": "<keys>"}` or `{"resize": [cols, rows]}`;
server → browser messages are the shell's output bytes. The socket is authenticated by the
session cookie and refused from another origin (a page elsewhere cannot borrow the cookie);
the shell is killed when the socket closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from urllib.parse import urlparse

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from fastapi.concurrency import run_in_threadpool

from aichor.api.deps import SESSION_COOKIE
from aichor.db.session import session
from aichor.engines.base import Shell
from aichor.errors import AichorError, Unauthorized
from aichor.services import terminal, tokens

router = APIRouter()
_CHUNK = 65536


@router.websocket("/experiments/{experiment_id}/terminal/{replica}")
async def terminal_socket(websocket: WebSocket, experiment_id: str, replica: str) -> None:
    origin = websocket.headers.get("origin")
    if origin and urlparse(origin).netloc != websocket.headers.get("host"):
        await websocket.close(code=4403)
        return
    await websocket.accept()
    try:
        shell = await run_in_threadpool(
            _open, websocket, websocket.cookies.get(SESSION_COOKIE, ""), experiment_id, replica
        )
    except AichorError as error:
        await websocket.send_bytes(f"\r\n{error.message}\r\n".encode())
        await websocket.close(code=4409)
        return
    try:
        await _pump(websocket, shell)
    finally:
        await run_in_threadpool(shell.close)


def _open(websocket: WebSocket, cookie: str, experiment_id: str, replica: str) -> Shell:
    if not cookie:
        raise Unauthorized("sign in to open a terminal")
    settings = websocket.app.state.settings
    with session(websocket.app.state.db_engine) as db:
        actor = tokens.authenticate(db, token=cookie, kind=tokens.SESSION)
        return terminal.open_shell(db, actor, experiment_id, replica=replica, settings=settings)


async def _pump(websocket: WebSocket, shell: Shell) -> None:
    """Shell output to the socket and socket input to the shell, until either side ends."""
    loop = asyncio.get_running_loop()
    output: asyncio.Queue[bytes | None] = asyncio.Queue()

    def readable() -> None:
        try:
            data = os.read(shell.fileno(), _CHUNK)
        except BlockingIOError:
            return
        except OSError:
            data = b""  # EIO: the shell has exited
        if not data:
            loop.remove_reader(shell.fileno())
        output.put_nowait(data or None)

    loop.add_reader(shell.fileno(), readable)
    sender = asyncio.create_task(_send(websocket, output))
    try:
        await _receive(websocket, shell, sender)
    finally:
        with contextlib.suppress(ValueError, OSError):
            loop.remove_reader(shell.fileno())
        sender.cancel()


async def _send(websocket: WebSocket, output: asyncio.Queue[bytes | None]) -> None:
    while (data := await output.get()) is not None:
        await websocket.send_bytes(data)
    await websocket.close()


async def _receive(websocket: WebSocket, shell: Shell, sender: asyncio.Task[None]) -> None:
    while not sender.done():
        receive = asyncio.create_task(websocket.receive_text())
        done, _ = await asyncio.wait({receive, sender}, return_when=asyncio.FIRST_COMPLETED)
        if receive not in done:
            receive.cancel()
            return
        try:
            message = json.loads(receive.result())
        except (WebSocketDisconnect, RuntimeError):
            return
        except ValueError:
            continue
        if isinstance(message.get("input"), str):
            shell.write(message["input"].encode())
        elif isinstance(message.get("resize"), list) and len(message["resize"]) == 2:
            cols, rows = (int(v) for v in message["resize"])
            shell.resize(rows, cols)
