"""``epoch(column)``: a timestamp as float seconds since 1970, computed by the database;
``whole(expression)``: a number rounded down to an integer, on every backend.

The dashboard reads four timestamps of every conversation in its range; turning tens of
thousands of SQLite datetime strings into Python datetimes cost more than everything else
it does (about 60 µs a conversation), so it reads plain numbers instead.
"""
from __future__ import annotations

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import BigInteger, Float


class epoch(FunctionElement):  # noqa: N801 (reads like the SQL function it stands for)
    type = Float()
    inherit_cache = True


@compiles(epoch)
def _standard(element, compiler, **kw) -> str:
    return f"EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)})"


@compiles(epoch, "sqlite")
def _sqlite(element, compiler, **kw) -> str:
    # julianday is a double in days: round to the millisecond so 12:00:00 stays 12:00:00
    column = compiler.process(element.clauses, **kw)
    return f"round((julianday({column}) - 2440587.5) * 86400.0, 3)"


class whole(FunctionElement):  # noqa: N801
    """``floor(x)`` as an integer, for bucketing epoch seconds into hours and days."""

    type = BigInteger()
    inherit_cache = True


@compiles(whole)
def _whole_standard(element, compiler, **kw) -> str:
    return f"CAST(FLOOR({compiler.process(element.clauses, **kw)}) AS BIGINT)"


@compiles(whole, "sqlite")
def _whole_sqlite(element, compiler, **kw) -> str:
    # epoch seconds are positive: truncation is the floor
    return f"CAST({compiler.process(element.clauses, **kw)} AS INTEGER)"
