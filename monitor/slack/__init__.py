"""Slack alerts a support team can act on: Block Kit messages, threads, buttons, noise control.

`SlackSink` delivers outbox alerts (monitor/alerts.py); `start_socket_mode` handles the
buttons. See the README's Slack section for creating the app and its tokens.
"""

from monitor.slack.actions import SocketModeHandle, start_socket_mode
from monitor.slack.sink import SlackSink

__all__ = ["SlackSink", "SocketModeHandle", "start_socket_mode"]
