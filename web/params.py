"""Numbers and texts taken from a URL or a body, bounded where they are parsed, so that a value
no database column can hold (`2**31` on PostgreSQL, `2**63` on SQLite) is a 4xx naming the
field, never a 500 from the driver.

The API declares its ids as bounded integers (`ApiId`): out of range is a 422 naming
`path.request_id`. Pages take theirs as text through a dependency (`RequestPageId`,
`MessagePageId`) that answers a bad or out-of-range id with the 404 page (HTML, in the user's
language and layout), as an unknown id would be, rather than with the API's JSON 422.

The text limits are those of the web forms, so the API accepts nothing a form could not send.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Path, Query, status

# ids and versions are INTEGER columns: 64 bits on SQLite but 32 on PostgreSQL, so the
# largest id either stores is 2**31 - 1 (a larger one is a 422, never a driver error)
MAX_ID = 2**31 - 1
MAX_ID_DIGITS = len(str(MAX_ID))
MAX_OFFSET = 1_000_000  # past this a list is not being read, it is being scanned
MAX_LIMIT = 1000

# the web forms' limits (templates and web/pages/requests.py), shared with the API
TITLE_MAX = 300
COMMENT_MAX = 2000
NAME_MAX = 80  # a programme, a state, a trigger, a workflow
EMB_CODE_MAX = 40
EMB_NAME_MAX = 300
EMAIL_MAX = 254
CODE_MAX = 8  # a country or language code, with room for stray spaces the engine strips
DATA_FIELDS_MAX = 200  # top-level fields in one `data` object (the body limit bounds the rest)

ApiId = Annotated[int, Path(ge=1, le=MAX_ID, description="A positive id (at most 2**31 - 1).")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


def _parse_id(raw: str) -> int | None:
    """The id written in `raw`, or None: only ASCII digits (`²` is a digit to `str.isdigit`)
    and within `1..MAX_ID`."""
    if not raw or len(raw) > MAX_ID_DIGITS or not raw.isascii() or not raw.isdigit():
        return None
    value = int(raw)
    return value if 1 <= value <= MAX_ID else None


def _page_id(raw: str, what: str) -> int:
    value = _parse_id(raw)
    if value is None:  # not echoed back: the page says what was not found, not what was sent
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"There is no such {what}.")
    return value


def _request_page_id(request_id: Annotated[str, Path()]) -> int:
    return _page_id(request_id, "request")


def _message_page_id(message_id: Annotated[str, Path()]) -> int:
    return _page_id(message_id, "message")


def _attachment_page_id(attachment_id: Annotated[str, Path()]) -> int:
    return _page_id(attachment_id, "attachment")


# page routes: `request_id: RequestPageId` (a bad id is the 404 page, never JSON)
RequestPageId = Annotated[int, Depends(_request_page_id)]
MessagePageId = Annotated[int, Depends(_message_page_id)]
AttachmentPageId = Annotated[int, Depends(_attachment_page_id)]
