"""Microsoft Teams: the Bot Framework adapter (botbuilder-core, Adaptive Cards, proactive delivery).

Every botbuilder import lives in this package, so replacing the SDK (its successor is the Microsoft 365
Agents SDK, which speaks the same Activity protocol) stays a local change.
"""
