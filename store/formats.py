"""The history formats ``import`` reads, named apart from their readers so the command line's
grammar knows them without loading any reader."""

FORMATS = ("jsonl", "csv", "eventsourcing", "emmett")
