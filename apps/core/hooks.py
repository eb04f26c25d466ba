"""Extension points that let a lower layer announce an event to the layers above it.

The dependency direction is one way (projects never import contracts), yet an award must become a
contract and a new guideline version must re-check assignments. A lower app declares a ``Hook``; a
higher app subscribes a service to it in its ``AppConfig.ready()``. ``fire()`` calls every
subscriber synchronously, inside the caller's transaction, so the event and its consequences commit
or roll back together. Unlike Django signals, each hook is a named object you can grep for, and
every subscriber is a service function.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Hook:
    def __init__(self, name: str, doc: str = ""):
        self.name = name
        self.__doc__ = doc
        self._subscribers: list[Callable[..., Any]] = []

    def subscribe(self, subscriber: Callable[..., Any]) -> Callable[..., Any]:
        if subscriber not in self._subscribers:
            self._subscribers.append(subscriber)
        return subscriber

    def fire(self, **payload: Any) -> None:
        for subscriber in list(self._subscribers):
            subscriber(**payload)

    def __repr__(self) -> str:
        return f"Hook({self.name!r}, {len(self._subscribers)} subscriber(s))"
