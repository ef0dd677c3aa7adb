"""Validated query and path parameters shared by the API routes and the pages.

Every value that reaches SQL does so as a bound parameter; these patterns exist
so that a malformed value is refused with a clear 422 instead of matching
nothing, and so that no value can name a file or a column.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Annotated

from fastapi import Path, Query

from netvigil.model.verdict import Outcome, Technique

CC_PATTERN = r"^[A-Z]{2}$"
ASN_PATTERN = r"^AS[0-9]{1,10}$"
DOMAIN_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$"
TEST_PATTERN = r"^[a-z0-9_]{1,64}$"
CATEGORY_PATTERN = r"^[A-Z0-9_]{1,16}$"
# A uid is chosen by whoever produced the measurement: anything printable but a slash.
UID_PATTERN = r"^[^\x00-\x1f\x7f/\\]{1,256}$"
ENTITY_PATTERN = r"^[A-Z]{2}(/[^\x00-\x1f\x7f/]{1,128}){0,3}$"
INCIDENT_ID_PATTERN = r"^[0-9a-f]{16}$"
MAX_PAGE = 1_000

Country = Annotated[str | None, Query(pattern=CC_PATTERN, description="ISO 3166-1 alpha-2 code, e.g. IR")]
Asn = Annotated[str | None, Query(pattern=ASN_PATTERN, description="e.g. AS44244")]
Domain = Annotated[str | None, Query(pattern=DOMAIN_PATTERN, description="host name of the input URL")]
TestName = Annotated[str | None, Query(pattern=TEST_PATTERN, description="e.g. web_connectivity")]
Category = Annotated[str | None, Query(pattern=CATEGORY_PATTERN, description="Citizen Lab category code")]
Since = Annotated[datetime | None, Query(description="measurements at or after this UTC time or date")]
Until = Annotated[datetime | None, Query(description="measurements before this UTC time or date")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]
Uid = Annotated[str, Path(pattern=UID_PATTERN)]
IncidentId = Annotated[str, Path(pattern=INCIDENT_ID_PATTERN)]

TechniqueParam = Annotated[Technique | None, Query(description="summary verdict technique")]
OutcomeParam = Annotated[Outcome | None, Query(description="summary verdict outcome")]


class Format(StrEnum):
    JSON = "JSON"
    CSV = "CSV"


def day_bounds(since: date | datetime | None, until: date | datetime | None) -> tuple[date | None, date | None]:
    """Aggregations work on whole days: ``since`` rounds down, ``until`` is exclusive and rounds up."""
    start = since.date() if isinstance(since, datetime) else since
    end = until
    if isinstance(until, datetime):
        end = until.date() + (timedelta(days=1) if until.time() != datetime.min.time() else timedelta(0))
    return start, end
