"""A client of openpi's websocket policy protocol (what RoboTwin's pi0 server and openpi's servers speak).

Connect to ws://host:port (no compression, no size limit); the server first sends its metadata (a msgpack
map); then each binary msgpack observation is answered by a binary msgpack action map. A server-side failure
arrives as a text frame holding the traceback, followed by close code 1011: `infer` raises `RemotePolicyError`
with it. The base protocol has no reset message, so none is sent (a plain server would take it for an
observation). Connecting retries up to `retries` times, `retry_delay_s` apart; every receive waits at most
`timeout_s`; a connection lost between calls is re-opened once before `infer` gives up.
"""

from __future__ import annotations

import contextlib
import logging
import time

from eva_bench.policies.remote.codec import packb, unpackb

log = logging.getLogger(__name__)


class RemotePolicyError(RuntimeError):
    """The server could not be reached, failed (its traceback is the message), or sent something unreadable."""


class WebsocketPolicyClient:
    """One connection to a policy server.

    Args:
        host: Server host.
        port: Server port.
        timeout_s: Seconds to wait for the connection and for each reply.
        retries: Connection attempts before giving up.
        retry_delay_s: Seconds between attempts.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 8000, timeout_s: float = 30.0, retries: int = 3,
                 retry_delay_s: float = 1.0) -> None:
        self.uri = f"ws://{host}:{port}"
        self.timeout_s, self.retries, self.retry_delay_s = timeout_s, max(1, retries), retry_delay_s
        self.connection = None
        self.stack: contextlib.ExitStack | None = None
        self.metadata: dict = {}

    def connect(self) -> dict:
        """Open the connection (retrying) and return the server's metadata."""
        from websockets.sync.client import connect

        last = None
        for attempt in range(self.retries):
            try:
                self.stack = contextlib.ExitStack()  # websockets wants its connections used as context managers
                self.connection = self.stack.enter_context(
                    connect(self.uri, compression=None, max_size=None, open_timeout=self.timeout_s))
                self.metadata = self._receive()
                return self.metadata
            except Exception as error:  # refused, timed out, websockets' handshake errors, a bad metadata frame
                last = error
                self.close()
                if attempt + 1 < self.retries:
                    log.warning("policy server %s: %s; retrying in %.1f s", self.uri, error, self.retry_delay_s)
                    time.sleep(self.retry_delay_s)
        raise RemotePolicyError(f"cannot reach the policy server at {self.uri} after {self.retries} attempt(s): "
                                f"{last}")

    def _receive(self):
        from websockets.exceptions import ConnectionClosed

        try:
            message = self.connection.recv(timeout=self.timeout_s)
        except TimeoutError:
            raise RemotePolicyError(f"{self.uri}: no reply within {self.timeout_s:g} s") from None
        except ConnectionClosed as closed:
            raise RemotePolicyError(f"{self.uri}: the server closed the connection ({closed})") from None
        if isinstance(message, str):  # openpi's servers send their traceback as text, then close with 1011
            raise RemotePolicyError(f"{self.uri}: the policy server failed:\n{message}")
        try:
            return unpackb(message)
        except Exception as error:
            raise RemotePolicyError(f"{self.uri}: unreadable reply ({error})") from None

    def infer(self, observation: dict) -> dict:
        """The server's action map for `observation` (a map of arrays, numbers and strings)."""
        from websockets.exceptions import ConnectionClosed

        for attempt in range(2):
            if self.connection is None:
                self.connect()
            try:
                self.connection.send(packb(observation))
            except (ConnectionClosed, OSError) as error:
                self.close()
                if attempt:
                    raise RemotePolicyError(f"{self.uri}: connection lost ({error})") from None
                continue  # the server went away between calls: re-open once
            try:
                reply = self._receive()
            except RemotePolicyError:
                self.close()  # the server closes after an error: the next call reconnects
                raise
            if not isinstance(reply, dict):
                raise RemotePolicyError(f"{self.uri}: expected an action map, got {type(reply).__name__}")
            return reply
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.stack is not None:
            with contextlib.suppress(Exception):  # closing a broken connection
                self.stack.close()
        self.connection, self.stack = None, None
