"""Shared plumbing for every app: API helpers, paging, COPY, rate limits, list pages. Imports no app."""
