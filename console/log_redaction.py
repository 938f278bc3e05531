"""Access logs without secrets: the query string of every logged request line is cut.

Query strings carry what must not sit in log files: Engine.IO session ids (``sid=``,
enough to hijack a polling connection), agents' search text (phones, emails, names) and
export filters.  The path stays, so the log still says what was asked and how it went.
gunicorn's access log is configured in the README ("Security") to log the path only.
"""
from __future__ import annotations

import logging
import re

# "GET /path?query HTTP/1.1" -> "GET /path?… HTTP/1.1"
QUERY = re.compile(r'(\s/[^\s?"]*)\?[^\s"]*')


def redact(text: str) -> str:
    return QUERY.sub(r"\1?…", text)


class QueryRedactingFilter(logging.Filter):
    """Rewrites records in place: formatted message with query strings cut."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "?" in message:
            record.msg, record.args = redact(message), ()
        return True


REDACTED_LOGGERS = ("werkzeug", "gunicorn.access", "engineio.server", "socketio.server")


def init_log_redaction() -> None:
    for name in REDACTED_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, QueryRedactingFilter) for f in logger.filters):
            logger.addFilter(QueryRedactingFilter())
