"""Nothing sensitive in the logs: phones, emails, tokens, signatures and payment-proof URLs
are masked in every log record the process creates, whichever library logs it.

Request lines are the usual leak: ``GET /api/orders/search?q=13812345678`` in the access log
(werkzeug or gunicorn), a token in a query string, a proof URL in an error message, SQL
parameters in a database error's traceback.  A log-record factory sees every record before
any handler does, so the message (and a traceback, formatted once here) is masked at the
source; handlers, formats and log files need no change.  Card-key secrets have no shape a
pattern could find: the console never logs them, and the log test drives the flows that
show them to prove it.  Client IPs stay whole: operators need them to follow an attack.
"""
from __future__ import annotations

import logging
import re
import traceback

from console.pii import mask_text

REDACTED = "[redacted]"
_TOKEN = re.compile(r"\bkd_[A-Za-z0-9_-]{8,}")
_BEARER = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]{8,}")
# query or form parameters whose values are credentials, whatever the path
_SECRET_PARAM = re.compile(
    r"(?i)\b(token|access_token|auth|signature|password|secret|csrf_token|key|sid)"
    r"=[^&\s\"']+")
# payment-proof links: the URL is itself the proof (a receipt image, a transaction page)
_URL = re.compile(r"\bhttps?://[^\s\"'<>]+")
# an email in a query string: ``zhang.wei%40qq.com``
_ENCODED_EMAIL = re.compile(r"([\w.+-])[\w.+-]*%40([\w-]+(?:\.[\w-]+)+)")
# a request line's query string: Engine.IO ``sid``s, agents' search text, export filters;
# "GET /path?query HTTP/1.1" keeps its path only
_QUERY = re.compile(r'(\s/[^\s?"]*)\?[^\s"]*')
_INSTALLED = "_kamidesk_redacting"


def redact(text: str) -> str:
    """``text`` with request query strings cut, contacts, tokens and absolute URLs' paths
    masked."""
    if not text:
        return text
    text = _QUERY.sub(r"\1?…", text)
    text = _TOKEN.sub("kd_" + REDACTED, text)
    text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    text = _SECRET_PARAM.sub(lambda m: f"{m.group(1)}={REDACTED}", text)
    text = _URL.sub(_url_host_only, text)
    text = _ENCODED_EMAIL.sub(lambda m: f"{m.group(1)}***%40{m.group(2)}", text)
    return mask_text(text, ips=False) or text


def _url_host_only(match: re.Match) -> str:
    url = match.group()
    scheme, _, rest = url.partition("://")
    host, slash, _path = rest.partition("/")
    return f"{scheme}://{host}/{REDACTED}" if slash and _path else url


def install() -> None:
    """Mask every record this process creates from now on (idempotent)."""
    current = logging.getLogRecordFactory()
    if getattr(current, _INSTALLED, False):
        return

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = current(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to the handler to report
            return record
        record.msg, record.args = redact(message), None
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info))
                                     .rstrip("\n"))
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return record

    setattr(factory, _INSTALLED, True)
    logging.setLogRecordFactory(factory)


# loggers whose level ``KAMIDESK_LOG_LEVEL`` sets; SQLAlchemy's stay quiet, since at INFO and
# below they print statement parameters and result rows (card-key secrets among them)
OWN_LOGGERS = ("console", "adapters", "werkzeug", "gunicorn.error", "gunicorn.access")


def configure(level: str | None, app_logger: logging.Logger | None = None) -> None:
    """Mask every record, and with ``level`` set log the console's own records at it."""
    install()
    if not level:
        return
    if not logging.getLogger().handlers:
        logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(level.upper())
    if app_logger is not None:
        app_logger.setLevel(level.upper())
    for name in ("sqlalchemy", "sqlalchemy.engine", "sqlalchemy.pool"):
        logging.getLogger(name).setLevel(logging.WARNING)
