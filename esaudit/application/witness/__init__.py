"""esaudit as an outside witness of any event store: signed Merkle seals, verification
against a seal, inclusion proofs.

Two kinds of module live here, and the line between them is an import-linter contract:

- pure ones, which a third party holding only a seal and a proof needs, import nothing but
  the standard library and ``cryptography``: ``merkle`` (the RFC 9162 tree), ``keys``
  (Ed25519), ``seal_file`` (the seal's format, its canonical bytes and signature) and
  ``proof_check`` (checking an inclusion proof);
- the ones that read a source through the read protocol: ``leaves`` (each event's canonical
  bytes, the document to recompute a leaf), ``sealing``, ``against`` (verify against a seal)
  and ``proving``.

This package imports none of them, so loading a pure module never loads the database layer.
"""
