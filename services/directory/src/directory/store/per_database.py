"""Something this process remembers about each database it reads (the taxonomy last read,
near words of a typo, which words the listings use), kept by the session's engine and gone
with it. A session bound to something other than an engine remembers nothing."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Generic, TypeVar

from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")


class PerDatabase(Generic[T]):
    def __init__(self) -> None:
        self._by_engine: weakref.WeakKeyDictionary[Engine, T] = weakref.WeakKeyDictionary()

    def get(self, session: AsyncSession) -> T | None:
        bind = session.get_bind()
        return self._by_engine.get(bind) if isinstance(bind, Engine) else None

    def set(self, session: AsyncSession, value: T) -> None:
        bind = session.get_bind()
        if isinstance(bind, Engine):
            self._by_engine[bind] = value

    def setdefault(self, session: AsyncSession, make: Callable[[], T]) -> T:
        """The value remembered, else a new one from ``make`` (remembered if it can be)."""
        value = self.get(session)
        if value is None:
            value = make()
            self.set(session, value)
        return value
