"""CSV answers of the report endpoints: which format a request asks for, and the streamed body.

The body is produced row by row from a generator and handed to the client in chunks, so an
export is never held whole in memory, however long the range.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Depends, HTTPException, Query, Request
from fastapi.responses import StreamingResponse

from cloud.analytics.buckets import NS

# Rows per chunk handed to the server: big enough to keep the per-chunk cost small, small
# enough that a chunk is a few tens of kilobytes.
ROWS_PER_CHUNK = 500
CSV_MEDIA_TYPE = "text/csv"


class ExportFormat(StrEnum):
    JSON = "json"
    CSV = "csv"


_MEDIA = {"application/json": ExportFormat.JSON, CSV_MEDIA_TYPE: ExportFormat.CSV}
_ANY = {"*/*", "application/*", "text/*"}

# Documents the CSV body beside the JSON one in the OpenAPI.
CSV_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {CSV_MEDIA_TYPE: {"schema": {"type": "string"}}},
        "description": "JSON as below, or with format=csv (or Accept: text/csv) a CSV file with a header row",
    },
    406: {"description": "the Accept header allows neither application/json nor text/csv"},
}


def _accepted(header: str) -> ExportFormat | None:
    """The format the Accept header prefers; JSON when it allows anything; None when neither."""
    candidates: list[tuple[tuple[float, bool, int], ExportFormat]] = []
    for position, part in enumerate(header.split(",")):
        media, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        media = media.lower()
        fmt = _MEDIA.get(media) or (ExportFormat.JSON if media in _ANY else None)
        if fmt is not None and quality > 0:
            # Higher quality wins; on a tie, a named type beats a wildcard, then the first listed.
            candidates.append(((quality, media in _MEDIA, -position), fmt))
    return max(candidates)[1] if candidates else None


def export_format(
    request: Request,
    format: Annotated[
        ExportFormat | None,
        Query(
            description="json (default) or csv: one row per bucket and line or zone, site-local times with their "
            "offset, a header row; every row (paging applies to JSON only). Without it, `Accept: text/csv` asks for CSV"
        ),
    ] = None,
) -> ExportFormat:
    if format is not None:
        return format
    header = request.headers.get("accept", "").strip()
    if not header:
        return ExportFormat.JSON
    chosen = _accepted(header)
    if chosen is None:
        raise HTTPException(406, f"cannot answer Accept: {header[:100]}; available: application/json, text/csv")
    return chosen


Format = Annotated[ExportFormat, Depends(export_format)]


def local_time(ns: int | None, tz: ZoneInfo) -> str:
    """Epoch ns as site-local ISO 8601 with its offset; empty for None."""
    if ns is None:
        return ""
    return datetime.fromtimestamp(ns // NS, tz).replace(microsecond=ns % NS // 1000).isoformat()


def csv_chunks(header: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterator[str]:
    """The header row, then the rows, ROWS_PER_CHUNK at a time; rows are pulled only as
    chunks are asked for."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    pending = 1
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
        pending += 1
        if pending >= ROWS_PER_CHUNK:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    if pending:
        yield buffer.getvalue()


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence[object]]) -> StreamingResponse:
    return StreamingResponse(
        csv_chunks(header, rows),
        media_type=f"{CSV_MEDIA_TYPE}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )
