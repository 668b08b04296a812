"""Process logging. In production no email address reaches a log line: our own lines carry ids,
not people, and a filter masks any address that slips in (an exception message quoting one)."""

import logging
import re

from settings import Settings

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")


class MaskEmails(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = EMAIL.sub("<email>", message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = EMAIL.sub(
                "<email>", logging.Formatter().formatException(record.exc_info)
            )
            record.exc_info = None
        return True


def configure_logging(settings: Settings) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if settings.environment == "production":
        for handler in logging.getLogger().handlers:
            if not any(isinstance(f, MaskEmails) for f in handler.filters):
                handler.addFilter(MaskEmails())
