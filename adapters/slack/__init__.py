"""Slack: the bolt adapter (commands, interactivity, events, App Home, Socket Mode) and its delivery.

Every slack_bolt and slack_sdk import lives in this package.
"""
