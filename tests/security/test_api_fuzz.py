"""Fuzzed API: schemathesis generates requests from /api/schema/ for every operation, as two companies'
members, a facilitator, a regional authority and an anonymous caller, and checks that the app never
answers 500, never answers with a status code the schema does not document, and never breaks the
documented response schema or content type.

Reproducible: Hypothesis is derandomized (a fixed seed per test). Every request is counted per persona
and the module's last test asserts the total (FUZZ_MIN_REQUESTS, 3,000 by default) and a floor for
each persona, so no persona can silently drop out of the run.
"""

from __future__ import annotations

import os
from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.security.fuzzing import APP, CHECKS

# Signed-in personas with rows of their own get the deep budget. The anonymous caller and the authority
# (no company) mostly meet 403/404 and empty lists, cheap answers with fewer paths through the code.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "26"))
EXAMPLES_LIGHT = int(os.environ.get("FUZZ_EXAMPLES_LIGHT", "12"))
MIN_REQUESTS = int(os.environ.get("FUZZ_MIN_REQUESTS", "3000"))
PERSONAS = ("member_a", "member_b", "facilitator", "authority", "anon")
BUDGET = {"member_a": EXAMPLES, "member_b": EXAMPLES, "facilitator": EXAMPLES,
          "authority": EXAMPLES_LIGHT, "anon": EXAMPLES_LIGHT}
# Each persona must send at least this share of its budget over all operations (some operations have
# too few distinct inputs to fill it).
MIN_SHARE = 0.8
COUNT: Counter = Counter()
STATUSES: Counter = Counter()  # (persona, status code)

# Loaded at collection: one test per operation and persona (schema generation needs no database).
SCHEMA = schemathesis.openapi.from_wsgi("/api/schema/", APP)
LABELS = sorted(op.ok().label for op in SCHEMA.get_all_operations())


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("label", LABELS)
def test_the_api_keeps_its_schema_under_fuzzing(label, persona, fuzz_world, db):
    tokens, ids = fuzz_world
    operation = SCHEMA.find_operation_by_label(label)
    headers = {"Authorization": f"Token {tokens[persona]}"} if tokens[persona] else {}
    collection = label.split("/api/v1/")[-1].split("/")[0]
    known = ids.get(collection, [])
    # The schema says who may call an operation: `{}` among its security requirements means "no
    # credentials needed". Everything else must refuse an anonymous caller.
    open_to_anyone = {} in (operation.definition.raw.get("security") or [])

    @given(case=operation.as_strategy(), data=st.data())
    @settings(max_examples=BUDGET[persona], derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate, Phase.shrink])
    def run(case, data):
        # Half of the cases aim at an object that exists (own or another company's), not a random id.
        if known and "id" in (case.path_parameters or {}) and data.draw(st.booleans()):
            case.path_parameters["id"] = data.draw(st.sampled_from(known))
        COUNT[persona] += 1
        response = case.call_and_validate(headers=headers, checks=CHECKS)
        STATUSES[persona, response.status_code] += 1
        if persona == "anon" and not open_to_anyone:
            assert response.status_code in (401, 403, 404), (
                f"{case.method} {case.formatted_path}: {response.status_code} for an anonymous caller"
            )

    run()


def test_the_fuzzer_sent_enough_requests(capsys):
    if not COUNT:
        pytest.skip("the fuzz tests did not run in this session")
    total = sum(COUNT.values())
    with capsys.disabled():
        print(f"\nschemathesis sent {total} requests: " + ", ".join(f"{p} {COUNT[p]}" for p in PERSONAS))
        for p in PERSONAS:
            print(f"  {p}: " + ", ".join(f"{code} x{n}" for (q, code), n in sorted(STATUSES.items()) if q == p))
    assert total >= MIN_REQUESTS, f"only {total} generated requests (need {MIN_REQUESTS})"
    short = {p: COUNT[p] for p in PERSONAS if COUNT[p] < MIN_SHARE * BUDGET[p] * len(LABELS)}
    assert not short, f"personas that sent too few requests: {short}"
