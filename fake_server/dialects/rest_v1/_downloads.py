"""``POST /api/v1/models/download`` and ``GET /api/v1/models/download/status/{job_id}``.

A model already in the catalog is ``already_downloaded``; a model the fake offers
(``fake.add_downloadable``) starts a job, or joins the one running; any other is not found.
A job's progress follows the fake's clock; when it completes, the model is in the catalog.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from ...engine import DownloadJob
from .._base import Call, Out
from .._checks import checked
from ._errors import refuse

DOWNLOAD_SCHEMA = "lmstudio-v1/download.schema.json"

__all__ = ["download", "download_status", "iso_time"]


def iso_time(seconds: float) -> str:
    """A time of the fake's clock as LM Studio writes it: ``2025-10-03T15:33:23.496Z``."""
    moment = datetime.fromtimestamp(seconds, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _job(job: DownloadJob, now: float, *, full: bool) -> dict[str, Any]:
    status = job.status(now)
    document: dict[str, Any] = {
        "job_id": job.id,
        "status": status,
        "total_size_bytes": job.size_bytes,
    }
    if full:
        document["downloaded_bytes"] = job.downloaded(now)
        if status == "downloading":
            document["bytes_per_second"] = round(job.size_bytes / job.seconds, 3)
            document["estimated_completion"] = iso_time(job.ends)
    document["started_at"] = iso_time(job.started)
    if status == "completed":
        document["completed_at"] = iso_time(job.ends)
    return document


async def download(call: Call, body: dict[str, Any]) -> Out:
    state = call.state
    key = body["model"]
    now = state.clock()
    with call.engine.lock:
        state.catalog.expire(now)
        if state.catalog.get(key) is not None:
            document: dict[str, Any] = {"status": "already_downloaded"}
        else:
            job = state.downloads.running(key, now)
            if job is None and key in state.downloads.offered:
                job = state.downloads.start(key, now, state.catalog, state.seed)
            if job is None:
                raise refuse(404, "model_not_found", f'Model "{key}" not found.')
            document = _job(job, now, full=False)
    return checked(document, DOWNLOAD_SCHEMA, state, ("download", tuple(document)), False)


async def download_status(call: Call) -> Out:
    state = call.state
    job_id = call.match_info["job_id"]
    now = state.clock()
    with call.engine.lock:
        state.catalog.expire(now)
        job = state.downloads.jobs.get(job_id)
        if job is None:
            raise refuse(404, "job_not_found", f'Download job "{job_id}" not found.')
        document = _job(job, now, full=True)
    return checked(document, DOWNLOAD_SCHEMA, state, ("status", tuple(document)), False)
