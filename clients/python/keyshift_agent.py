"""A client for the keyshift agent's local read API, standard library only.

    from keyshift_agent import AgentClient
    agent = AgentClient("/run/keyshift/agent.sock")
    key = agent.read("CHANGENOW_API_KEY").value            # at each call: the agent swaps it
    many = agent.read_many(["DB_USER", "DB_PASSWORD"])      # one version of both
    change = agent.wait_for_change(many.generation, timeout=30)

Values are never logged or put in exception messages by this module.
"""

from __future__ import annotations

import http.client
import json
import socket
import urllib.parse
from dataclasses import dataclass, field
from typing import Dict, List, Optional

__all__ = ["AgentClient", "AgentError", "Entry", "Snapshot", "Change"]


class AgentError(Exception):
    """The agent refused a request or could not be reached. `code` is the agent's error code
    (`unknown_entry`, `KS_ERR_STALE`, `bad_request`...) or `unreachable`."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Entry:
    name: str
    value: Optional[str] = field(repr=False)  # kept out of repr: a log line must not show it
    version: str
    generation: int


@dataclass(frozen=True)
class Snapshot:
    generation: int
    entries: Dict[str, Entry] = field(repr=False)

    def __getitem__(self, name: str) -> Optional[str]:
        return self.entries[name].value


@dataclass(frozen=True)
class Change:
    generation: int
    changed: List[str]


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


class AgentClient:
    """Reads entries from a keyshift agent over its Unix socket (or loopback with a token).

    One connection is kept open and reused (HTTP/1.1 keep-alive); it is re-opened once if
    the agent closed it. Not thread-safe: give each thread its own client.
    """

    def __init__(self, socket_path: Optional[str] = None, *, url: Optional[str] = None,
                 token: Optional[str] = None, timeout: float = 5.0) -> None:
        if (socket_path is None) == (url is None):
            raise ValueError("give either socket_path or url")
        self._socket_path = socket_path
        self._url = urllib.parse.urlsplit(url) if url else None
        self._token = token
        self._timeout = timeout
        self._conn: Optional[http.client.HTTPConnection] = None

    def _connection(self, timeout: float) -> http.client.HTTPConnection:
        if self._socket_path is not None:
            return _UnixHTTPConnection(self._socket_path, timeout)
        assert self._url is not None
        return http.client.HTTPConnection(self._url.hostname or "127.0.0.1", self._url.port, timeout=timeout)

    def _get(self, path: str, timeout: Optional[float] = None) -> dict:
        headers = {"Accept": "application/json"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        for attempt in (0, 1):
            fresh = timeout is not None
            conn = self._connection(timeout) if fresh else self._conn or self._connection(self._timeout)
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                body = response.read()
            except (ConnectionError, http.client.RemoteDisconnected, http.client.BadStatusLine, BrokenPipeError) as error:
                conn.close()
                if not fresh:
                    self._conn = None
                if attempt == 0 and not fresh:
                    continue  # a kept-alive connection the agent closed: retry once on a new one
                raise AgentError(0, "unreachable", f"the agent did not answer ({type(error).__name__})") from None
            except OSError as error:
                conn.close()
                if not fresh:
                    self._conn = None
                raise AgentError(0, "unreachable", f"cannot reach the agent ({type(error).__name__})") from None
            if fresh:
                conn.close()
            else:
                self._conn = conn
            try:
                payload = json.loads(body)
            except ValueError:
                raise AgentError(response.status, "bad_response", "the agent's answer is not JSON") from None
            if response.status != 200:
                err = payload.get("error", {}) if isinstance(payload, dict) else {}
                raise AgentError(response.status, str(err.get("code", "error")), str(err.get("message", "")))
            return payload
        raise AgentError(0, "unreachable", "the agent did not answer")

    def read(self, name: str) -> Entry:
        """One entry: its value and version."""
        data = self._get("/v1/entries/" + urllib.parse.quote(name, safe=""))
        return Entry(data["name"], data["value"], data["version"], data["generation"])

    def read_many(self, names: Optional[List[str]] = None) -> Snapshot:
        """Several entries at one generation of the agent's view (all of them when names is None)."""
        query = "" if names is None else "?names=" + ",".join(urllib.parse.quote(n, safe="") for n in names)
        data = self._get("/v1/entries" + query)
        generation = data["generation"]
        entries = {n: Entry(n, e["value"], e["version"], generation) for n, e in data["entries"].items()}
        return Snapshot(generation, entries)

    def wait_for_change(self, since: int, timeout: float = 30.0) -> Change:
        """Blocks until an entry changes after generation `since` (a long poll), or `timeout`
        seconds pass: then `changed` is empty."""
        timeout_ms = max(0, int(timeout * 1000))
        data = self._get(f"/v1/changes?since={int(since)}&timeoutMs={timeout_ms}", timeout=timeout + self._timeout)
        return Change(data["generation"], list(data["changed"]))

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> "AgentClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
