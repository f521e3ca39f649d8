"""The adapter between the database and the pure engine: load rows as specs, run the engine, write
matches, and keep the MatchingRun row (the truth about every job) up to date.

- specs.py: the engine's inputs (configuration, rules, priors) and rows converted to engine specs;
- runs.py: full runs, recorded and dispatched (or run here), ranked shard by shard, finalised;
- counterparts.py: the SQL prefilters that find one stream's possible counterparts;
- incremental.py: one new or changed stream matched on its own, and its job.

Callers import from `matching.services`; the names below are the package's interface.
"""

from matching.services.incremental import (
    MATCH_COLUMNS,
    WORKING_STATUSES,
    matching_run_for_stream,
    matching_run_stream_job,
)
from matching.services.runs import (
    STAGE_COLUMNS,
    matching_run_claim,
    matching_run_create,
    matching_run_finalise,
    matching_run_full,
    matching_run_here,
    matching_run_mark_failed,
    matching_run_shard,
    matching_run_shard_begin,
    shard_columns,
    stage_columns,
)
from matching.services.specs import (
    CATEGORY_CACHE_SECONDS,
    SPEC_FIELDS,
    engine_config,
    engine_place,
    engine_priors,
    engine_rules,
    impact_dict,
    load_companies,
    load_specs,
    matchable_streams,
    per_base_unit,
)

__all__ = [
    "CATEGORY_CACHE_SECONDS",
    "MATCH_COLUMNS",
    "SPEC_FIELDS",
    "STAGE_COLUMNS",
    "WORKING_STATUSES",
    "engine_config",
    "engine_place",
    "engine_priors",
    "engine_rules",
    "impact_dict",
    "load_companies",
    "load_specs",
    "matchable_streams",
    "matching_run_claim",
    "matching_run_create",
    "matching_run_finalise",
    "matching_run_for_stream",
    "matching_run_full",
    "matching_run_here",
    "matching_run_mark_failed",
    "matching_run_shard",
    "matching_run_shard_begin",
    "matching_run_stream_job",
    "per_base_unit",
    "shard_columns",
    "stage_columns",
]
