"""A local fake of Slack: the Web API over real HTTP, and Socket Mode over a real WebSocket.

slack_sdk's WebClient is pointed at `FakeSlack.base_url` and talks real HTTP to
127.0.0.1 (port 0); nothing in the client is mocked. The fake keeps each channel's messages
(text, blocks, metadata, threads) so `chat.update`, `conversations.history` and
`conversations.replies` answer like Slack does, records every call, checks tokens and
channels, and answers with errors, 429s with Retry-After, delays or a dropped response when
a test asks. `apps.connections.open` hands out a ws://127.0.0.1 URL served by a `websockets`
server that plays Slack's side of Socket Mode: hello, envelopes, and the client's acks.
Response shapes follow Slack's documented examples (../shared/fixtures/slack/).
"""

from __future__ import annotations

import copy
import itertools
import json
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import Engine, select
from websockets.sync.server import ServerConnection, serve

from core.clock import FixedClock
from core.records import Engagement
from monitor.alerts import Dispatcher
from monitor.config import AppConfig, parse_config
from monitor.slack import SlackSink
from storage.models import Alert, Mention
from storage.repository import NewMention, Repository
from tests.factories import make_post

BOT_TOKEN = "xoxb-test-bot-token"
APP_TOKEN = "xapp-test-app-token"
CHANNELS = ("C0SUPPORT", "C0OPS", "C0ESCALATE", "C0SECURITY")


@dataclass(frozen=True)
class Call:
    """One Web API request as the fake received it (args merged from query and body)."""

    method: str
    args: dict[str, Any]
    token: str | None


@dataclass
class Scripted:
    """What to do instead of a plain answer, once per matching call.

    `status`/`body`/`headers` replace the answer (the call has no effect); with `then_apply`
    the call takes effect first and then the scripted answer (or `delay`, or a dropped
    connection when `drop`) is given, which is how a lost response looks to a client.
    """

    status: int = 200
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False
    then_apply: bool = False


def _flag(value: Any) -> bool:
    return value in (True, 1, "1", "true", "True")


class FakeSlack:
    """Start with `with FakeSlack() as slack:`; `slack.base_url` goes into the config."""

    def __init__(
        self,
        *,
        channels: tuple[str, ...] = CHANNELS,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.channels = set(channels)
        self.calls: list[Call] = []
        self.messages: dict[str, list[dict[str, Any]]] = {c: [] for c in channels}
        self._now = now
        self._serial = itertools.count(1)
        self._scripts: dict[str, list[Scripted]] = {}
        self.outage: Scripted | None = None  # while set, every call gets this answer
        self._lock = threading.Condition()
        self._stopping = threading.Event()
        self._http: ThreadingHTTPServer | None = None
        self._ws: Any = None
        self._socket: ServerConnection | None = None
        self.socket_connected = threading.Event()
        self.received: queue.Queue[dict[str, Any]] = queue.Queue()

    # -- lifecycle ------------------------------------------------------------------------

    def __enter__(self) -> FakeSlack:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                fake._serve(self)

            def do_GET(self) -> None:
                fake._serve(self)

            def log_message(self, *args: Any) -> None:
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._http.daemon_threads = True
        threading.Thread(
            target=self._http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        self._ws = serve(self._on_socket, "127.0.0.1", 0)
        threading.Thread(target=self._ws.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        if self._socket is not None:
            self._socket.close()
        if self._ws is not None:
            self._ws.shutdown()
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()

    @property
    def base_url(self) -> str:
        assert self._http is not None
        return f"http://127.0.0.1:{self._http.server_address[1]}/api/"

    @property
    def socket_url(self) -> str:
        return f"ws://127.0.0.1:{self._ws.socket.getsockname()[1]}/link/?ticket=test"

    # -- scripting ------------------------------------------------------------------------

    def script(self, method: str, *steps: Scripted) -> None:
        with self._lock:
            self._scripts.setdefault(method, []).extend(steps)

    def fail(self, method: str, error: str, *, times: int = 1, **extra: Any) -> None:
        """Answer `{"ok": false, "error": error}` (HTTP 200, as Slack does)."""
        self.script(method, *[Scripted(body={"ok": False, "error": error, **extra})] * times)

    def rate_limit(self, method: str, *, retry_after: int = 30, times: int = 1) -> None:
        body = {"ok": False, "error": "ratelimited"}
        step = Scripted(status=429, body=body, headers={"Retry-After": str(retry_after)})
        self.script(method, *[step] * times)

    def server_error(self, method: str, *, status: int = 503, times: int = 1) -> None:
        self.script(method, *[Scripted(status=status, body=None)] * times)

    def delay(self, method: str, seconds: float, *, times: int = 1) -> None:
        """Do the call, then answer only after `seconds` (a client timeout, if shorter)."""
        self.script(method, *[Scripted(delay=seconds, then_apply=True)] * times)

    def lose_response(self, method: str, *, times: int = 1) -> None:
        """Do the call, then drop the connection: Slack has it, the client never hears."""
        self.script(method, *[Scripted(drop=True, then_apply=True)] * times)

    # -- inspection -----------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 10) -> list[Call]:
        """Block until `method` was called `count` times (for work done on other threads)."""
        with self._lock:
            self._lock.wait_for(lambda: len(self.calls_to(method)) >= count, timeout)
            return self.calls_to(method)

    def top_level(self, channel: str) -> list[dict[str, Any]]:
        return [m for m in self.messages[channel] if m.get("thread_ts") in (None, m["ts"])]

    def thread(self, channel: str, ts: str) -> list[dict[str, Any]]:
        return [m for m in self.messages[channel] if m.get("thread_ts") == ts and m["ts"] != ts]

    def message(self, channel: str, ts: str) -> dict[str, Any]:
        return next(m for m in self.messages[channel] if m["ts"] == ts)

    # -- Socket Mode ----------------------------------------------------------------------

    def _on_socket(self, connection: ServerConnection) -> None:
        self._socket = connection
        connection.send(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": 1,
                    "connection_info": {"app_id": "A0BRANDMON"},
                    "debug_info": {"host": "fake-slack", "approximate_connection_time": 18060},
                }
            )
        )
        self.socket_connected.set()
        try:
            for raw in connection:
                self.received.put(json.loads(raw))
        except Exception:  # the client went away; a test that cares waits on acks
            return

    def push_interactive(self, payload: dict[str, Any]) -> str:
        """Send an "interactive" envelope (a button press) down the socket; returns its id."""
        assert self.socket_connected.wait(10), "the Socket Mode client never connected"
        assert self._socket is not None
        envelope_id = str(uuid.uuid4())
        self._socket.send(
            json.dumps(
                {
                    "envelope_id": envelope_id,
                    "type": "interactive",
                    "accepts_response_payload": False,
                    "payload": payload,
                }
            )
        )
        return envelope_id

    def wait_ack(self, envelope_id: str, timeout: float = 10) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            message = self.received.get(timeout=max(deadline - time.monotonic(), 0.01))
            if message.get("envelope_id") == envelope_id:
                return message

    # -- the Web API ----------------------------------------------------------------------

    def _serve(self, request: BaseHTTPRequestHandler) -> None:
        url = urlsplit(request.path)
        method = url.path.rsplit("/", 1)[-1]
        args: dict[str, Any] = {k: v[0] for k, v in parse_qs(url.query).items()}
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length) if length else b""
        if raw and "json" in (request.headers.get("Content-Type") or ""):
            args.update(json.loads(raw))
        elif raw:
            args.update({k: v[0] for k, v in parse_qs(raw.decode()).items()})
        auth = request.headers.get("Authorization") or ""
        token = auth.removeprefix("Bearer ") or args.get("token")
        with self._lock:
            self.calls.append(Call(method, args, token))
            steps = self._scripts.get(method) or []
            step = steps.pop(0) if steps else self.outage
            self._lock.notify_all()
        if step is not None and not step.then_apply:
            self._reply(request, step.status, step.body, step.headers)
            return
        status, body = self._apply(method, args, token)
        if step is not None and step.drop:
            request.close_connection = True
            request.connection.close()
            return
        if step is not None and step.delay:
            self._stopping.wait(step.delay)
        self._reply(request, status, body, {})

    @staticmethod
    def _reply(
        request: BaseHTTPRequestHandler,
        status: int,
        body: dict[str, Any] | None,
        headers: dict[str, str],
    ) -> None:
        data = json.dumps(body).encode() if body is not None else b"upstream error"
        try:
            request.send_response(status)
            request.send_header(
                "Content-Type",
                "application/json; charset=utf-8" if body is not None else "text/plain",
            )
            request.send_header("Content-Length", str(len(data)))
            for key, value in headers.items():
                request.send_header(key, value)
            request.end_headers()
            request.wfile.write(data)
        except OSError:  # the client gave up (timeout) before the answer came
            pass

    def _apply(self, method: str, args: dict[str, Any], token: str | None) -> tuple[int, dict]:
        if method == "apps.connections.open":
            if token != APP_TOKEN:
                return 200, {"ok": False, "error": "invalid_auth"}
            return 200, {"ok": True, "url": self.socket_url}
        if token != BOT_TOKEN:
            return 200, {"ok": False, "error": "invalid_auth"}
        if method == "auth.test":
            return 200, {
                "ok": True,
                "team": "Fake",
                "team_id": "T0FAKE",
                "user": "brandmon",
                "user_id": "U0BOT",
                "bot_id": "B0BOT",
                "url": "https://fake.slack/",
            }
        handler = {
            "chat.postMessage": self._post,
            "chat.update": self._update,
            "conversations.history": self._history,
            "conversations.replies": self._replies,
        }.get(method)
        if handler is None:
            return 200, {"ok": False, "error": "unknown_method"}
        channel = args.get("channel")
        if channel not in self.channels:
            return 200, {"ok": False, "error": "channel_not_found"}
        with self._lock:
            return 200, handler(channel, args)

    def _post(self, channel: str, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("text") and not args.get("blocks"):
            return {"ok": False, "error": "no_text"}
        serial = next(self._serial)
        ts = f"{int(self._now())}.{serial:06d}"
        message = {
            "type": "message",
            "subtype": "bot_message",
            "bot_id": "B0BOT",
            "ts": ts,
            "text": args.get("text", ""),
            "blocks": args.get("blocks", []),
        }
        if args.get("thread_ts"):
            message["thread_ts"] = args["thread_ts"]
            parent = self.message(channel, args["thread_ts"])
            parent.setdefault("thread_ts", parent["ts"])
            parent["reply_count"] = parent.get("reply_count", 0) + 1
        if args.get("metadata"):
            metadata = args["metadata"]
            message["metadata"] = json.loads(metadata) if isinstance(metadata, str) else metadata
        self.messages[channel].append(message)
        return {"ok": True, "channel": channel, "ts": ts, "message": self._public(message, True)}

    def _update(self, channel: str, args: dict[str, Any]) -> dict[str, Any]:
        try:
            message = self.message(channel, args.get("ts", ""))
        except StopIteration:
            return {"ok": False, "error": "message_not_found"}
        message["text"] = args.get("text", message["text"])
        message["blocks"] = args.get("blocks", message["blocks"])
        message["edited"] = {"user": "U0BOT", "ts": f"{int(self._now())}.000000"}
        return {"ok": True, "channel": channel, "ts": message["ts"], "text": message["text"]}

    def _page(self, items: list[dict[str, Any]], args: dict[str, Any]) -> dict[str, Any]:
        start = int(args.get("cursor") or 0)
        limit = int(args.get("limit") or 100)
        metadata = _flag(args.get("include_all_metadata"))
        page = [self._public(m, metadata) for m in items[start : start + limit]]
        more = start + limit < len(items)
        return {
            "ok": True,
            "messages": page,
            "has_more": more,
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }

    def _history(self, channel: str, args: dict[str, Any]) -> dict[str, Any]:
        oldest = float(args.get("oldest") or 0)
        newest_first = sorted(self.top_level(channel), key=lambda m: float(m["ts"]), reverse=True)
        return self._page([m for m in newest_first if float(m["ts"]) > oldest], args)

    def _replies(self, channel: str, args: dict[str, Any]) -> dict[str, Any]:
        ts = args.get("ts", "")
        try:
            parent = self.message(channel, ts)
        except StopIteration:
            return {"ok": False, "error": "thread_not_found"}
        return self._page([parent, *self.thread(channel, ts)], args)

    @staticmethod
    def _public(message: dict[str, Any], metadata: bool) -> dict[str, Any]:
        shown = copy.deepcopy(message)
        if not metadata:
            shown.pop("metadata", None)
        return shown


def button_payload(
    channel: str, ts: str, action_id: str, *, user: str = "U0AGENT", value: str = "1"
) -> dict[str, Any]:
    """A `block_actions` payload like the one Slack sends when a button is pressed."""
    return {
        "type": "block_actions",
        "user": {"id": user, "username": "agent.smith", "name": "agent.smith", "team_id": "T0"},
        "api_app_id": "A0BRANDMON",
        "container": {
            "type": "message",
            "message_ts": ts,
            "channel_id": channel,
            "is_ephemeral": False,
        },
        "channel": {"id": channel, "name": "support"},
        "message": {"type": "message", "ts": ts, "bot_id": "B0BOT"},
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "brandmon_actions",
                "value": value,
                "action_ts": f"{ts}1",
            }
        ],
    }


def iter_texts(node: Any) -> Iterator[str]:
    """Every string inside a Block Kit structure (to check nothing untrusted got through)."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from iter_texts(value)
    elif isinstance(node, list):
        for value in node:
            yield from iter_texts(value)


# -- helpers for the Slack tests ---------------------------------------------------------------


def slack_config(fake: FakeSlack, **slack: Any) -> AppConfig:
    """A config whose Slack sink talks to `fake`; `slack` overrides alerting.slack keys
    (and `alerting`/`timezone` set those top-level keys)."""
    alerting = slack.pop("alerting", {})
    return parse_config(
        {
            "timezone": slack.pop("timezone", "UTC"),
            "brands": [{"name": "Kestrel", "terms": ["kestrel"]}],
            "sources": {"feed": {"type": "replay", "path": "feed.jsonl"}},
            "alerting": {
                "sink": "slack",
                **alerting,
                "slack": {
                    "bot_token": BOT_TOKEN,
                    "app_token": APP_TOKEN,
                    "channel": "C0SUPPORT",
                    "base_url": fake.base_url,
                    "timeout_seconds": 2,
                    **slack,
                },
            },
        }
    )


def seed_complaint(
    repository: Repository,
    at: datetime,
    native_id: str,
    text: str = "@Kestrel on hold for 2 hours again",
    **post: Any,
) -> int:
    """Store a flagged mention with its queued complaint alert; returns the mention id."""
    repository.store_batch(
        source="feed",
        mentions=[
            NewMention(
                post=make_post(native_id, text, **post),
                brand="Kestrel",
                source="feed",
                sentiment=-0.7,
                flagged=True,
                category="wait_time",
                reasons=["matched: 'on hold for 2 hours'"],
                reply="@someone Hi there, sorry about the wait.",
                tracking=True,
                alert_kind="complaint",
            )
        ],
        cursor=None,
        fetched_at=at,
    )
    with repository.sessions() as session:
        return session.scalars(select(Mention.id).where(Mention.native_id == native_id)).one()


def queue_update(
    repository: Repository,
    at: datetime,
    mention_id: int,
    risk: float,
    *,
    escalate: bool = False,
    reposts: int = 40,
) -> None:
    """An "update" alert as monitor/tracking.py queues it for a growing post (the payload is
    rules/viral.py's assessment plus `escalate`), with the counts it stored on the mention."""
    repository.record_engagement(
        mention_id,
        Engagement(likes=90, reposts=reposts, replies=12, quotes=3),
        at=at,
        next_refresh_at=None,
        risk=risk,
    )
    repository.queue_alert(
        dedupe_key=f"update:{mention_id}:{risk}",
        kind="update",
        at=at,
        brand="Kestrel",
        mention_id=mention_id,
        payload={
            "score": risk,
            "velocity_per_hour": float(reposts),
            "current": reposts + 105,
            "reasons": [f"velocity {reposts} reposts/h"],
            "escalate": escalate,
        },
    )


def slack_dispatcher(
    fake: FakeSlack, engine: Engine, clock: FixedClock, **slack: Any
) -> Dispatcher:
    """The outbox dispatcher with a Slack sink talking to `fake`."""
    sink = SlackSink(slack_config(fake, **slack), engine, clock=clock)
    return Dispatcher(Repository(engine), sink, clock=clock)


def all_alerts(repo: Repository) -> list[Alert]:
    with repo.sessions() as session:
        return list(session.scalars(select(Alert).order_by(Alert.id)))
