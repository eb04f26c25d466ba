"""Streaming parsers for uploaded judgments and gold items (JSONL or CSV), and the bulk insert.

A file is read once, in blocks, through a SHA-256 hasher: never whole in memory. Each row is
validated as it is read; every bad row is collected (row number, field, reason; the first
``MAX_REPORTED_ERRORS`` listed, all counted), and one bad row anywhere means nothing is stored.
Valid rows go straight to the database while no error has been seen: PostgreSQL ``COPY`` (psycopg)
inside the caller's transaction, so a late bad row rolls the copy back; other databases get
``bulk_create`` in chunks.

Row numbers are what a person sees in an editor: the line number for JSONL (blank lines count,
and are skipped), and for CSV the record number counting the header as row 1 (a spreadsheet's
row number).

Item ids: the platform holds no manifest of a lab's items, so an item id is free-form text (1 to
200 characters, no NUL; a JSON number is taken as its decimal text). Gold items are matched on the
exact id, so nothing is refused as an "unknown item". Annotators are refused unless they are an
expert (user public id) with an active assignment on the contract.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection

from apps.accounts.models import User
from apps.core.errors import ValidationFailed

from .models import Judgment

FORMATS = ("jsonl", "csv")
MAX_REPORTED_ERRORS = 1000
MAX_ITEM_ID = 200
MAX_COMMENT = 5000
MAX_SECONDS = 2_147_483_647
# A JSONL row longer than this is refused unread: a 5,000-character comment written as \uXXXX
# escapes takes 30 kB.
MAX_LINE_BYTES = 64 * 1024
READ_BLOCK = 1024 * 1024
BULK_CHUNK = 5000

JUDGMENT_FIELDS = ("item_id", "annotator", "label", "displayed_order", "started_at", "seconds_spent", "comment")
# "value" is accepted in place of "label" (a rating's value is its label: 4 -> "4").
JUDGMENT_KEYS = frozenset((*JUDGMENT_FIELDS, "value"))
GOLD_FIELDS = ("item_id", "answer")
COPY_COLUMNS = (
    "batch_id",
    "item_id",
    "annotator_id",
    "label",
    "displayed_order",
    "started_at",
    "seconds_spent",
    "comment",
)
_ORDERS = {"AB": 0, "BA": 1, "0": 0, "1": 1, 0: 0, 1: 1}


# --- Errors -----------------------------------------------------------------------------------------


@dataclass
class RowErrors:
    """Bad rows: the first ``MAX_REPORTED_ERRORS`` in file order, and how many there were in all."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    count: int = 0

    def add(self, row: int, field_name: str | None, reason: str) -> dict[str, Any] | None:
        """Count a bad row; return its listed entry (None once the list is full)."""
        self.count += 1
        if len(self.rows) < MAX_REPORTED_ERRORS:
            entry = {"row": row, "field": field_name, "reason": reason}
            self.rows.append(entry)
            return entry
        return None

    def __bool__(self) -> bool:
        return self.count > 0

    def raise_if_any(self, what: str) -> None:
        if not self.count:
            return
        more = f" (the first {len(self.rows)} are listed)" if self.count > len(self.rows) else ""
        noun = "row is" if self.count == 1 else "rows are"
        raise ValidationFailed(
            f"{self.count} {noun} invalid{more}; nothing was stored. Correct them and upload the {what} again.",
            details={"rows": self.rows, "error_count": self.count},
        )


# --- Reading -----------------------------------------------------------------------------------------


class HashingReader(io.RawIOBase):
    """A raw byte stream over ``source`` that hashes (SHA-256) and counts everything read."""

    def __init__(self, source: Any):
        if isinstance(source, bytes | bytearray | memoryview):
            source = io.BytesIO(bytes(source))
        if not callable(getattr(source, "read", None)):
            raise ValidationFailed("Upload a file.", details={"upload": ["A file (bytes) is required."]})
        self._source = source
        self.sha256 = hashlib.sha256()
        self.size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._source.read(len(buffer))
        if not data:
            return 0
        if isinstance(data, str):
            raise ValidationFailed("Upload the file as bytes.", details={"upload": ["Open the file in binary mode."]})
        n = len(data)
        buffer[:n] = data
        self.sha256.update(data)
        self.size += n
        return n


def buffered(reader: HashingReader) -> io.BufferedReader:
    return io.BufferedReader(reader, buffer_size=READ_BLOCK)


def sha256_of(upload: Any) -> str:
    """Hash an upload without parsing it (an idempotent replay compares hashes only)."""
    reader = HashingReader(upload)
    stream = buffered(reader)
    while stream.read(READ_BLOCK):
        pass
    return reader.sha256.hexdigest()


def _jsonl_records(stream: io.BufferedReader, errors: RowErrors) -> Iterator[tuple[int, Any]]:
    """(line number, decoded JSON value) per non-blank line; malformed lines go to ``errors``."""
    number = 0
    readline = stream.readline
    decode = json.JSONDecoder().decode  # on text: skips json.loads' per-call encoding sniffing
    while True:
        line = readline(MAX_LINE_BYTES)
        if not line:
            return
        number += 1
        if number == 1 and line.startswith(b"\xef\xbb\xbf"):
            line = line[3:]
        if len(line) >= MAX_LINE_BYTES and not line.endswith(b"\n"):
            errors.add(number, None, f"The line is longer than {MAX_LINE_BYTES} bytes.")
            while (rest := readline(MAX_LINE_BYTES)) and not rest.endswith(b"\n"):
                pass
            continue
        if line.isspace():
            continue
        try:
            yield number, decode(line.decode("utf-8"))
        except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            reason = "Not UTF-8 text." if isinstance(exc, UnicodeDecodeError) else f"Malformed JSON: {exc}."
            errors.add(number, None, reason)


def _csv_records(
    stream: io.BufferedReader,
    errors: RowErrors,
    *,
    fields: tuple[str, ...],
    required: tuple[str, ...],
    aliases: dict[str, str] | None = None,
) -> Iterator[tuple[int, list[str | None]]]:
    """(row number, values in ``fields`` order; None for an absent column) per CSV record after the
    header. ``aliases`` maps another accepted column name to its field."""
    aliases = aliases or {}
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    reader = csv.reader(text)
    number = 1
    try:
        header = next(reader, None)
        if header is None:
            return
        names = [aliases.get(name.strip(), name.strip()) for name in header]
        problems = []
        if missing := [name for name in required if name not in names]:
            problems.append(f"missing column(s): {', '.join(missing)}")
        if unknown := [name for name in names if name not in fields]:
            problems.append(f"unknown column(s): {', '.join(unknown)}")
        if repeated := sorted({name for name in names if names.count(name) > 1}):
            problems.append(f"repeated column(s): {', '.join(repeated)}")
        if problems:
            errors.add(1, "header", f"Expected columns {', '.join(fields)}; {'; '.join(problems)}.")
            return
        index = {name: position for position, name in enumerate(names)}
        positions = [index.get(name) for name in fields]
        width = len(names)
        for values in reader:
            number += 1
            if not values:
                continue
            if len(values) != width:
                errors.add(number, None, f"Expected {width} values, found {len(values)}.")
                continue
            yield number, [values[p] if p is not None else None for p in positions]
    except UnicodeDecodeError:
        errors.add(number + 1, None, "Not UTF-8 text; stopped reading here.")
    except csv.Error as exc:
        errors.add(number + 1, None, f"Malformed CSV ({exc}); stopped reading here.")


def _check_format(fmt: str) -> str:
    fmt = (fmt or "").strip().lower()
    if fmt not in FORMATS:
        raise ValidationFailed("Choose the file format: jsonl or csv.", details={"fmt": ["One of: jsonl, csv."]})
    return fmt


# --- Judgments -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JudgmentRules:
    """What a valid judgment looks like under one contract's terms in force."""

    annotators: dict[str, int]  # expert user public id (canonical text) -> user pk
    labels: tuple[str, ...]
    order_required: bool

    @property
    def label_codes(self) -> dict[str, int]:
        return {label: code for code, label in enumerate(self.labels)}


def is_preference(labels: Iterable[str]) -> bool:
    """A preference comparison: the label set starts with "A", "B" (optionally a tie after them)."""
    return list(labels)[:2] == ["A", "B"]


@dataclass
class JudgmentReport:
    errors: RowErrors = field(default_factory=RowErrors)
    judgment_count: int = 0
    sha256: str = ""
    size_bytes: int = 0
    # Listed errors for well-formed annotator ids that are not active assignees, with the id: the
    # reason (no such expert, or not assigned) is filled in after the read with one query.
    annotator_misses: list[tuple[dict[str, Any], str]] = field(default_factory=list)


def _text(value: Any) -> str | None:
    """A JSON scalar as text (numbers as their decimal text); None for anything else."""
    if type(value) is str:
        return value
    if type(value) is int:
        return str(value)
    return None


def _storable(text: str) -> bool:
    """Text PostgreSQL can store: no NUL, and valid Unicode (JSON may carry a lone surrogate)."""
    if "\x00" in text:
        return False
    if text.isascii():
        return True
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def judgment_rows(
    upload: Any, *, fmt: str, rules: JudgmentRules, batch_id: int, report: JudgmentReport
) -> Iterator[tuple]:
    """Yield one COPY-ready tuple (``COPY_COLUMNS``) per valid judgment until the first bad row;
    keep reading and validating to the end either way, so that ``report`` names every bad row."""
    fmt = _check_format(fmt)
    reader = HashingReader(upload)
    stream = buffered(reader)
    errors = report.errors
    add = errors.add
    annotators = rules.annotators
    codes = rules.label_codes
    labels_text = ", ".join(rules.labels)
    order_required = rules.order_required
    orders = _ORDERS
    fromisoformat = datetime.fromisoformat
    blake2b = hashlib.blake2b
    # 16-byte digests of (annotator, item): an exact duplicate check in ~90 bytes per row, whatever
    # the length of the item ids (a 128-bit collision is not a practical possibility).
    seen: set[bytes] = set()
    misses = report.annotator_misses
    count = 0
    is_json = fmt == "jsonl"
    if is_json:
        records: Iterator = _jsonl_records(stream, errors)
    else:
        records = _csv_records(
            stream,
            errors,
            fields=JUDGMENT_FIELDS,
            required=("item_id", "annotator", "label"),
            aliases={"value": "label"},
        )

    for number, record in records:
        bad = errors.count
        if is_json:
            if type(record) is not dict:
                add(number, None, "Each line must be a JSON object.")
                continue
            if not record.keys() <= JUDGMENT_KEYS:
                unknown = sorted(str(k) for k in record.keys() - JUDGMENT_KEYS)
                add(number, None, f"Unknown field(s): {', '.join(unknown)}.")
            get = record.get
            item = get("item_id")
            annotator = get("annotator")
            label = get("label")
            if "value" in record:
                if label is not None:
                    add(number, "label", "Give either label or value, not both.")
                label = get("value")
            order = get("displayed_order")
            started = get("started_at")
            seconds = get("seconds_spent")
            comment = get("comment")
        else:
            item, annotator, label, order, started, seconds, comment = record
            order = order or None
            started = started or None
            seconds = seconds or None

        # item_id
        item = _text(item)
        if not item or len(item) > MAX_ITEM_ID or not _storable(item):
            add(number, "item_id", f"Required: 1 to {MAX_ITEM_ID} characters of text.")
            item = None

        # annotator: an expert with an active assignment on the contract
        pk = annotators.get(annotator) if type(annotator) is str else None
        if pk is None:
            if type(annotator) is str and annotator.strip():
                try:
                    canonical = str(uuid.UUID(annotator.strip()))
                except ValueError:
                    add(number, "annotator", f"'{annotator[:60]}' is not an expert id.")
                else:
                    pk = annotators.get(canonical)
                    if pk is None and (entry := add(number, "annotator", "")) is not None:
                        misses.append((entry, canonical))
            else:
                add(number, "annotator", "Required: the expert's public id.")

        # label, as its code in the label set
        text = _text(label)
        code = codes.get(text) if text is not None else None
        if code is None:
            if label is None or label == "":
                add(number, "label", "Required.")
            else:
                add(number, "label", f"'{str(label)[:60]}' is not in the label set ({labels_text}).")

        # displayed_order: which option was shown first
        if order is None:
            if order_required:
                add(number, "displayed_order", 'Required for preference comparisons: "AB" or "BA".')
        else:
            position = orders.get(order) if type(order) in (str, int) else None
            if position is None:
                add(number, "displayed_order", '"AB" or "BA" (or 0 or 1).')
            order = position

        # started_at: ISO 8601 with an offset
        if started is not None:
            try:
                started = fromisoformat(started)
            except (TypeError, ValueError):
                add(number, "started_at", "An ISO 8601 date and time, e.g. 2025-03-01T09:30:00Z.")
                started = None
            else:
                if started.utcoffset() is None:
                    add(number, "started_at", "Give a time zone offset, e.g. 2025-03-01T09:30:00Z.")

        # seconds_spent: a whole number of seconds
        if seconds is not None:
            if type(seconds) is str and seconds.isdigit() and seconds.isascii():
                seconds = int(seconds)
            if type(seconds) is not int or not 0 <= seconds <= MAX_SECONDS:
                add(number, "seconds_spent", "A whole number of seconds, 0 or more.")

        # comment
        if comment is None:
            comment = ""
        elif type(comment) is not str or len(comment) > MAX_COMMENT or not _storable(comment):
            add(number, "comment", f"Text of at most {MAX_COMMENT} characters.")

        # one judgment per (item, annotator) in a batch
        if item is not None and pk is not None:
            key = blake2b(f"{pk}\x1f{item}".encode(), digest_size=16).digest()
            if key in seen:
                add(number, "item_id", f"Item '{item[:60]}' by this annotator appears earlier in the file.")
            else:
                seen.add(key)

        if errors.count == bad:
            count += 1
            if not errors:
                yield (batch_id, item, pk, code, order, started, seconds, comment)

    report.judgment_count = count
    report.sha256 = reader.sha256.hexdigest()
    report.size_bytes = reader.size


def classify_annotator_misses(report: JudgmentReport) -> None:
    """Name each listed bad annotator id: no such expert, or an expert not (actively) assigned here."""
    if not report.annotator_misses:
        return
    wanted = {value for _, value in report.annotator_misses}
    known = {str(pk) for pk in User.objects.filter(public_id__in=wanted).values_list("public_id", flat=True)}
    for entry, value in report.annotator_misses:
        entry["reason"] = (
            f"Expert {value} has no active assignment on this contract."
            if value in known
            else f"No expert has the id {value}."
        )


def store_judgments(rows: Iterator[tuple], report: JudgmentReport) -> None:
    """Insert ``rows`` in the caller's transaction; raise ValidationFailed (the transaction rolls
    back) if the report holds any error once the rows are exhausted."""
    if connection.vendor == "postgresql":
        table = Judgment._meta.db_table
        statement = f"COPY {table} ({', '.join(COPY_COLUMNS)}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
            write_row = copy.write_row
            for row in rows:
                write_row(row)
            # Raised inside the COPY block: psycopg aborts the copy and the error propagates.
            report.errors.raise_if_any("batch")
        return
    chunk: list[Judgment] = []
    for batch_id, item, pk, code, order, started, seconds, comment in rows:
        chunk.append(
            Judgment(
                batch_id=batch_id,
                item_id=item,
                annotator_id=pk,
                label=code,
                displayed_order=order,
                started_at=started,
                seconds_spent=seconds,
                comment=comment,
            )
        )
        if len(chunk) >= BULK_CHUNK:
            Judgment.objects.bulk_create(chunk)
            chunk = []
    report.errors.raise_if_any("batch")
    if chunk:
        Judgment.objects.bulk_create(chunk)


# --- Gold items ------------------------------------------------------------------------------------------


MAX_GOLD_ROWS = 200_000


def gold_records(rows: Any, *, fmt: str | None, allowed: list[str] | None) -> tuple[dict[str, str], RowErrors]:
    """Validate gold rows (a list of mappings, or a JSONL/CSV upload with ``fmt``): item_id -> answer.
    ``allowed`` is the label set answers must belong to (None: any text)."""
    errors = RowErrors()
    answers: dict[str, str] = {}
    if isinstance(rows, list | tuple):
        records: Iterable = ((number, record) for number, record in enumerate(rows, start=1))
        source = "list"
    else:
        stream = buffered(HashingReader(rows))
        if _check_format(fmt or "") == "jsonl":
            records = _jsonl_records(stream, errors)
            source = "jsonl"
        else:
            records = _csv_records(stream, errors, fields=GOLD_FIELDS, required=GOLD_FIELDS)
            source = "csv"
    allowed_set = set(allowed) if allowed is not None else None
    for number, record in records:
        if source == "csv":
            item, answer = record
        elif not isinstance(record, dict):
            errors.add(number, None, "Each row must be an object with item_id and answer.")
            continue
        else:
            unknown = sorted(str(k) for k in record if k not in GOLD_FIELDS)
            if unknown:
                errors.add(number, None, f"Unknown field(s): {', '.join(unknown)}.")
            item, answer = record.get("item_id"), record.get("answer")
        item, answer = _text(item), _text(answer)
        if not item or len(item) > MAX_ITEM_ID or not _storable(item):
            errors.add(number, "item_id", f"Required: 1 to {MAX_ITEM_ID} characters of text.")
            item = None
        if not answer or len(answer) > 200 or not _storable(answer):
            errors.add(number, "answer", "Required: 1 to 200 characters.")
            answer = None
        elif allowed_set is not None and answer not in allowed_set:
            errors.add(number, "answer", f"'{answer[:60]}' is not in the label set ({', '.join(allowed or [])}).")
            answer = None
        if item is not None:
            if item in answers:
                errors.add(number, "item_id", f"Item '{item[:60]}' appears earlier in the upload.")
            elif len(answers) >= MAX_GOLD_ROWS:
                errors.add(number, None, f"At most {MAX_GOLD_ROWS} gold items per upload.")
                break
            elif answer is not None:
                answers[item] = answer
            else:
                answers[item] = ""  # remembered for the duplicate check; the row is already an error
    if not errors and not answers:
        raise ValidationFailed("The upload holds no gold items.", details={"upload": ["No rows."]})
    return answers, errors
