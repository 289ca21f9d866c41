"""Bounds on the whole numbers a request may carry (リクエストの整数の範囲).

An id, an index or an offset in a path, a query or a body reaches a database
column: an INTEGER (32 bits on PostgreSQL) or a BIGINT (64 bits). A larger
number made the driver raise — a server error — instead of the request being
refused. Each such number is declared with the type of the column it reaches,
so a value out of range is a 422 ``request.invalid`` naming the field, and the
OpenAPI document states the bound.
"""

from __future__ import annotations

from typing import Annotated, Final

from annotated_types import Interval

# The widest values of the two column types, on SQLite and PostgreSQL alike.
INT_MAX: Final = 2**31 - 1
BIGINT_MAX: Final = 2**63 - 1

# A row id held in an INTEGER column (a resident, a household, a bulk request, a review case).
RowId = Annotated[int, Interval(ge=1, le=INT_MAX)]
# A position among such rows: an offset, or the id to continue after.
RowOffset = Annotated[int, Interval(ge=0, le=INT_MAX)]
# A leaf index or log size, held in a BIGINT column.
LogIndex = Annotated[int, Interval(ge=0, le=BIGINT_MAX)]
# Any whole number a BIGINT holds (a time in seconds, a mode checked further in).
BigInt = Annotated[int, Interval(ge=-BIGINT_MAX, le=BIGINT_MAX)]
