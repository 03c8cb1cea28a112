"""The Application that writes invoices; its transcodings are what decode their events."""

from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder, Transcoding

from .domain import Line


class LineAsDict(Transcoding):
    type = Line
    name = "invoice_line"

    def encode(self, obj: Line) -> dict[str, Any]:
        return {"description": obj.description, "quantity": obj.quantity,
                "unit_price": obj.unit_price}

    def decode(self, data: dict[str, Any]) -> Line:
        return Line(**data)


class Invoicing(Application[Any]):
    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(LineAsDict())

