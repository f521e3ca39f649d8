"""The one entry point through which other apps tell matching that a stream changed.

Called after commit by stream services. Until the matching engine lands this only records the
fact in the log; the matching issue replaces the body with the incremental Celery task.
"""

import logging

logger = logging.getLogger(__name__)


def stream_changed(stream_id: int) -> None:
    logger.debug("stream %s changed", stream_id)
