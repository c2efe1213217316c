"""Lathe's Python client: log metrics, params, tags and artifacts into a Lathe run.

Standard library only. A stage that ``lathe repro`` runs gets LATHE_API, LATHE_TOKEN and
LATHE_RUN_ID, and PYTHONPATH holding this file's folder, so a training script needs no setup::

    import lathe_client as lathe

    lathe.log_param("lr", 0.01)
    for epoch in range(100):
        lathe.log_metrics({"loss": loss, "accuracy": acc}, step=epoch)
    lathe.log_artifact("models/model.onnx")

Metrics are buffered and sent through the native batch API (``POST /api/v1/runs/<id>/batch``)
in batches of up to 1,000 points: when the buffer is full, when its oldest point is older than
``flush_seconds`` (at the next call), on ``flush()`` and when the interpreter exits. Params and
tags are sent at once (after the buffered metrics), so a refused value raises where it was logged.
Errors raise ``LatheError`` with the daemon's code and message.

Without LATHE_API and LATHE_RUN_ID (the script run on its own), the module-level functions warn
once on stderr and log nothing; ``Client()`` raises instead.
"""

import atexit
import json
import math
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

__all__ = [
    "Client",
    "LatheError",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "set_tag",
    "set_tags",
    "log_artifact",
    "flush",
    "default_client",
]

MAX_METRICS = 1000
MAX_PARAMS_OR_TAGS = 100


class LatheError(Exception):
    """A refused request (``code`` is the daemon's, e.g. LATHE_CONFLICT) or an unreachable daemon."""

    def __init__(self, code, message, status=None):
        super().__init__(message)
        self.code = code
        self.status = status


def _number(value):
    """A metric value as JSON: a float, or MLflow's strings for NaN and infinities."""
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


class Client:
    """One run's logger. Arguments default to LATHE_API, LATHE_TOKEN and LATHE_RUN_ID."""

    def __init__(self, api=None, token=None, run_id=None, flush_seconds=1.0, timeout=30.0):
        self.api = (api or os.environ.get("LATHE_API") or "").rstrip("/")
        self.token = token if token is not None else os.environ.get("LATHE_TOKEN", "")
        self.run_id = run_id or os.environ.get("LATHE_RUN_ID") or ""
        if not self.api or not self.run_id:
            missing = [n for n, v in (("LATHE_API", self.api), ("LATHE_RUN_ID", self.run_id)) if not v]
            raise LatheError(
                "LATHE_BAD_INPUT",
                "lathe_client: %s not set. Run this script as a stage of `lathe repro` with Lathe's "
                "service running (the editor starts it, or `lathe daemon` in a terminal), or pass api= "
                "and run_id=." % " and ".join(missing),
            )
        self.flush_seconds = flush_seconds
        self.timeout = timeout
        self._metrics = []
        self._oldest = None

    # ---- metrics -------------------------------------------------------------------------

    def log_metric(self, key, value, step=0, timestamp=None):
        """Buffers one point; NaN and infinities are kept as such."""
        self._metrics.append(
            {
                "key": str(key),
                "value": _number(value),
                "step": int(step),
                "timestamp": int(timestamp if timestamp is not None else time.time() * 1000),
            }
        )
        self._oldest = self._oldest or time.monotonic()
        self._maybe_flush()

    def log_metrics(self, metrics, step=0, timestamp=None):
        """Buffers one point per key of ``metrics`` at the same step and time."""
        stamp = int(timestamp if timestamp is not None else time.time() * 1000)
        for key, value in metrics.items():
            self.log_metric(key, value, step=step, timestamp=stamp)

    def flush(self):
        """Sends every buffered point, 1,000 per request."""
        while self._metrics:
            chunk = self._metrics[:MAX_METRICS]
            self._batch({"metrics": chunk})
            del self._metrics[: len(chunk)]
        self._oldest = None

    def _maybe_flush(self):
        full = len(self._metrics) >= MAX_METRICS
        if full or time.monotonic() - self._oldest >= self.flush_seconds:
            self.flush()

    # ---- params and tags -----------------------------------------------------------------

    def log_param(self, key, value):
        """Params are write-once: the same value again is fine, a new one raises LATHE_CONFLICT."""
        self.log_params({key: value})

    def log_params(self, params):
        self.flush()
        items = [(str(k), str(v)) for k, v in params.items()]
        for i in range(0, len(items), MAX_PARAMS_OR_TAGS):
            self._batch({"params": dict(items[i : i + MAX_PARAMS_OR_TAGS])})

    def set_tag(self, key, value):
        """A tag set again takes the new value."""
        self.set_tags({key: value})

    def set_tags(self, tags):
        self.flush()
        items = [(str(k), str(v)) for k, v in tags.items()]
        for i in range(0, len(items), MAX_PARAMS_OR_TAGS):
            self._batch({"tags": dict(items[i : i + MAX_PARAMS_OR_TAGS])})

    # ---- artifacts -----------------------------------------------------------------------

    def log_artifact(self, local_path, artifact_path=None):
        """Uploads a file (or every file under a folder) into the run's artifacts.

        The file is stored as ``artifact_path`` (default: its base name); a folder's files keep
        their paths below ``artifact_path`` (default: the folder's name). Returns the paths.
        """
        if os.path.isdir(local_path):
            base = artifact_path or os.path.basename(os.path.normpath(local_path))
            stored = []
            for folder, _dirs, files in sorted(os.walk(local_path)):
                for name in sorted(files):
                    full = os.path.join(folder, name)
                    rel = os.path.relpath(full, local_path).replace(os.sep, "/")
                    stored += self.log_artifact(full, base + "/" + rel)
            return stored
        target = artifact_path or os.path.basename(local_path)
        with open(local_path, "rb") as f:
            body = f.read()
        quoted = "/".join(urllib.parse.quote(p, safe="") for p in target.split("/"))
        self._request("PUT", "/api/v1/runs/%s/artifacts/%s" % (self.run_id, quoted), body, None)
        return [target]

    # ---- HTTP ----------------------------------------------------------------------------

    def _batch(self, body):
        self._request("POST", "/api/v1/runs/%s/batch" % self.run_id, json.dumps(body).encode(), "application/json")

    def _request(self, method, path, body, content_type):
        headers = {"Authorization": "Bearer " + self.token}
        if content_type:
            headers["Content-Type"] = content_type
        req = urllib.request.Request(self.api + path, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as res:
                return json.loads(res.read() or b"null")
        except urllib.error.HTTPError as err:
            text = err.read().decode("utf-8", "replace")
            try:
                reply = json.loads(text)
                code, message = reply.get("code", "LATHE_INTERNAL"), reply.get("message", text)
            except ValueError:
                code, message = "LATHE_INTERNAL", text
            raise LatheError(code, "%s %s: %s" % (method, path, message), err.code) from None
        except (urllib.error.URLError, OSError) as err:
            reason = getattr(err, "reason", err)
            raise LatheError(
                "LATHE_UNAVAILABLE",
                "Cannot reach Lathe at %s (%s): is its service running?" % (self.api, reason),
            ) from None


# ---- the module-level functions: one client from the environment -----------------------------

_default = None
_disabled = False


def default_client():
    """The client for this process's run, or None (with one warning) when there is none."""
    global _default, _disabled
    if _default is None and not _disabled:
        try:
            _default = Client()
            atexit.register(_default.flush)
        except LatheError as err:
            _disabled = True
            sys.stderr.write("%s Nothing is logged.\n" % err)
    return _default


def _call(name):
    def call(*args, **kwargs):
        client = default_client()
        return getattr(client, name)(*args, **kwargs) if client else None

    call.__name__ = name
    call.__doc__ = getattr(Client, name).__doc__
    return call


log_metric = _call("log_metric")
log_metrics = _call("log_metrics")
log_param = _call("log_param")
log_params = _call("log_params")
set_tag = _call("set_tag")
set_tags = _call("set_tags")
log_artifact = _call("log_artifact")
flush = _call("flush")
