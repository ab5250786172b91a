"""One JSON object per log line, each naming the instance that wrote it.

With many replicas writing to one log pipeline, a line must say where it came
from and be parseable whatever it holds (a traceback included). gunicorn.conf.py
makes `JsonLogger` gunicorn's logger: gunicorn's own lines (booting, worker
timeouts and crashes) and every other logger's (background job failures, model
loading) go to stdout as JSON, like the request lines.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sys
import time
from typing import Any

from gunicorn.glogging import Logger as GunicornLogger

INSTANCE_ENV = "MODERATION_INSTANCE_ID"
OUR_LOGGERS = ("api", "moderation", "models")


def instance_id() -> str:
    """This instance's name in logs: $MODERATION_INSTANCE_ID, else host name and process id.

    gunicorn.conf.py sets it in the master, so its workers share the master's; in a
    pod the host name is the pod's name.
    """
    # Not written back to the environment: a process this one starts is an instance of
    # its own unless it is given the name.
    return os.environ.get(INSTANCE_ENV) or f"{socket.gethostname()}-{os.getpid()}"


class JsonFormatter(logging.Formatter):
    """A record as one line of JSON: ts, level, logger, message, instance, pid (and exc)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "instance": instance_id(),
            "pid": record.process,
        }
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exc"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False)


def json_handler(stream: Any = None) -> logging.Handler:
    """A handler writing JSON lines to `stream` (stdout by default)."""
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(JsonFormatter())
    return handler


class JsonLogger(GunicornLogger):
    """gunicorn's logger with JSON lines, for gunicorn's own messages and every other logger."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for handler in self.error_log.handlers:
            handler.setFormatter(JsonFormatter())
        root = logging.getLogger()
        for handler in list(root.handlers):
            if getattr(handler, "_moderation_json", False):
                root.removeHandler(handler)  # a reload sets up again
        handler = json_handler()
        handler._moderation_json = True  # type: ignore[attr-defined]
        root.addHandler(handler)
        for ours in OUR_LOGGERS:  # our own INFO lines; other libraries' from WARNING up
            logging.getLogger(ours).setLevel(self.loglevel)
        logging.captureWarnings(True)  # warnings.warn() as JSON lines too, not bare stderr
