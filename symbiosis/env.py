"""Typed access to the environment: the only way settings read configuration.

Backed by django-environ, which also parses DATABASE_URL and CACHE-style URLs.
"""

from __future__ import annotations

import environ

env = environ.Env()


def envstr(name: str, default: str = "") -> str:
    return env.str(name, default=default)


def envbool(name: str, default: bool = False) -> bool:
    return env.bool(name, default=default)


def envint(name: str, default: int = 0) -> int:
    return env.int(name, default=default)


def envlist(name: str, default: list[str] | None = None) -> list[str]:
    return env.list(name, default=default or [])
