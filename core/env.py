"""Typed access to the environment: the only way settings read configuration.

Backed by django-environ, which also parses DATABASE_URL and CACHE-style URLs.
"""

from __future__ import annotations

import os

import environ

env = environ.Env()


def _unset(name: str) -> bool:
    # An empty value (NAME= in a .env file) means "use the default", as in .env.example.
    return os.environ.get(name, "") == ""


def envstr(name: str, default: str = "") -> str:
    return env.str(name, default=default)


def envbool(name: str, default: bool = False) -> bool:
    return default if _unset(name) else env.bool(name, default=default)


def envint(name: str, default: int = 0) -> int:
    return default if _unset(name) else env.int(name, default=default)


def envlist(name: str, default: list[str] | None = None) -> list[str]:
    return env.list(name, default=default or [])
