"""A local HTTP server that answers with scripted or recorded responses and counts requests.

Real client libraries (tweepy, praw, slack_sdk, ...) talk real HTTP to it, so a test proves
what the library really sends and parses, without mocking a single client method. Routes are
matched by method, path and an optional predicate on the query string; each route holds a
queue of replies (the last one repeats when `repeat=True`), and every request is recorded so
tests and benchmarks can count what the code under test cost.
"""

from __future__ import annotations

import gzip
import json
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml

Query = dict[str, list[str]]

# Hop-by-hop or length headers that a recording carries but this server computes itself.
_DROPPED_HEADERS = {"content-length", "transfer-encoding", "connection", "set-cookie"}


@dataclass(frozen=True)
class Recorded:
    """One request as the server received it."""

    method: str
    path: str
    query: Query
    headers: Mapping[str, str]
    body: bytes

    def param(self, name: str) -> str | None:
        """The first value of query parameter `name`, or None."""
        values = self.query.get(name)
        return values[0] if values else None

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Reply:
    """A response to serve. A dict/list body is sent as JSON; bytes and str are sent as is.

    `stall=True` never answers (until the server stops), for client timeout tests.
    """

    status: int = 200
    body: bytes | str | dict[str, Any] | list[Any] = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    stall: bool = False

    def encoded(self) -> tuple[bytes, dict[str, str]]:
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _DROPPED_HEADERS}
        if isinstance(self.body, dict | list):
            headers.setdefault("Content-Type", "application/json; charset=utf-8")
            return json.dumps(self.body).encode(), headers
        if isinstance(self.body, str):
            return self.body.encode(), headers
        return self.body, headers


Responder = Reply | Callable[[Recorded], Reply]


@dataclass
class _Route:
    method: str
    path: str | re.Pattern[str]
    when: Callable[[Query], bool] | None
    replies: list[Responder]
    repeat: bool

    def matches(self, request: Recorded) -> bool:
        path_ok = (
            self.path == request.path
            if isinstance(self.path, str)
            else self.path.fullmatch(request.path) is not None
        )
        return (
            self.method == request.method
            and path_ok
            and bool(self.replies)
            and (self.when is None or self.when(request.query))
        )

    def take(self) -> Responder:
        if self.repeat and len(self.replies) == 1:
            return self.replies[0]
        return self.replies.pop(0)


class RecordedAPI:
    """Serve scripted replies on 127.0.0.1 (a free port); use as a context manager.

    Unmatched requests get a 404 with a JSON body naming the request, so a test that forgot a
    route fails loudly instead of hanging.
    """

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._routes: list[_Route] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        # A short poll interval makes shutdown quick; the server idles on select() meanwhile.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> RecordedAPI:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()

    def add(
        self,
        method: str,
        path: str | re.Pattern[str],
        *replies: Responder,
        when: Callable[[Query], bool] | None = None,
        repeat: bool = False,
        first: bool = False,
    ) -> None:
        """Queue `replies` for `method path` (a compiled pattern matches whole paths).

        Routes are tried in the order added; `first=True` puts this one ahead of all others
        (to override a default). A callable reply builds the response from the request.
        """
        route = _Route(method.upper(), path, when, list(replies), repeat)
        with self._lock:
            self._routes.insert(0, route) if first else self._routes.append(route)

    def count(self, method: str | None = None, path: str | None = None) -> int:
        """How many requests arrived, optionally only those with this method and/or path."""
        return sum(
            1
            for r in self.requests
            if (method is None or r.method == method.upper()) and (path is None or r.path == path)
        )

    def _reply_for(self, request: Recorded) -> Reply:
        with self._lock:
            self.requests.append(request)
            route = next((r for r in self._routes if r.matches(request)), None)
            responder = route.take() if route else None
        if responder is None:
            return Reply(404, {"error": f"no scripted reply for {request.method} {request.path}"})
        return responder(request) if callable(responder) else responder

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes; without this, Nagle's algorithm and the
            # client's delayed ACK add about 40 ms to every response.
            disable_nagle_algorithm = True

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                request = Recorded(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query, keep_blank_values=True),
                    headers=dict(self.headers.items()),
                    body=self.rfile.read(length) if length else b"",
                )
                reply = api._reply_for(request)
                if reply.stall:
                    api._stopping.wait(timeout=30)
                    self.close_connection = True
                    return
                body, headers = reply.encoded()
                self.send_response(reply.status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                if self.close_connection:  # the client asked to close: say so, or it may reuse it
                    self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: tests assert on `api.requests` instead of reading a log."""

        return Handler


@dataclass(frozen=True)
class Interaction:
    """One recorded request/response pair from a cassette."""

    method: str
    url: str
    reply: Reply

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    @property
    def query(self) -> Query:
        return parse_qs(urlsplit(self.url).query)


def load_cassette(path: Path) -> list[Interaction]:
    """Read a vcrpy cassette (YAML, tweepy) or a betamax-style JSON cassette (praw).

    Both hold `interactions` of request{method, uri} and response{status{code}, headers,
    body{string}}; header values are lists. Gzip bodies stay gzip with their
    Content-Encoding header, so the client decodes them exactly as it did when recording.
    """
    text = path.read_text(encoding="utf-8")
    raw = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    interactions = []
    for item in raw["interactions"]:
        request, response = item["request"], item["response"]
        headers = {
            name: values[0] if isinstance(values, list) else values
            for name, values in (response.get("headers") or {}).items()
        }
        body = response["body"]["string"]
        interactions.append(
            Interaction(
                method=request["method"].upper(),
                url=request["uri"],
                reply=Reply(int(response["status"]["code"]), body, headers),
            )
        )
    return interactions


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """Response bodies saved one per line (twarc), minus twarc's own `__twarc` key.

    A line that is not valid JSON (a truncated recording) is yielded as {"__raw__": line}.
    """
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            body = json.loads(line)
        except json.JSONDecodeError:
            yield {"__raw__": line}
            continue
        body.pop("__twarc", None)
        yield body


def gunzip_json(body: bytes | str) -> Any:
    """Decode a recorded body that may be gzip-compressed JSON."""
    data = body.encode() if isinstance(body, str) else body
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return json.loads(data)
