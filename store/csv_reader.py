"""CSV histories: a header row naming the event columns; payload and metadata are JSON text."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from .bulk import ImportRow
from .history_reader import _KNOWN, REQUIRED, HistoryReader, _row


class CsvReader(HistoryReader):
    def __iter__(self) -> Iterator[ImportRow]:
        try:
            raw = self.path.open("rb")
        except OSError as e:
            raise self._fail(0, f"cannot read the file: {e.strerror}") from None
        with raw, io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh, strict=True)
            try:
                header = next(reader, None)
                if header is None:
                    return
                unknown = [c for c in header if c not in _KNOWN]
                if unknown:
                    raise self._fail(1, f"unknown column {unknown[0]!r} "
                                        f"(expected {', '.join(REQUIRED)})")
                missing = [c for c in REQUIRED if c not in header]
                if missing:
                    raise self._fail(1, f"missing column {missing[0]!r}")
                if len(set(header)) != len(header):
                    raise self._fail(1, "a column appears twice in the header")
                for values in reader:
                    line = reader.line_num
                    self._done = raw.tell()
                    if not values:
                        continue
                    if len(values) != len(header):
                        raise self._fail(line, f"{len(values)} fields, the header has "
                                               f"{len(header)}")
                    try:
                        yield _row(self.source, line, dict(zip(header, values, strict=True)),
                                   json_text=True)
                    except (ValueError, RecursionError) as e:
                        raise self._fail(line, str(e)) from None
            except UnicodeDecodeError:
                raise self._fail(reader.line_num + 1, "not UTF-8 text") from None
            except csv.Error as e:
                raise self._fail(reader.line_num, f"malformed CSV: {e}") from None
