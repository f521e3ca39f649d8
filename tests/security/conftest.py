"""The schemathesis modules' fixtures (module-scoped: each module gets its own world, rolled back)."""

from tests.security.fuzzing import fuzz_world, wsgi_in_test_transaction  # noqa: F401
