"""The status bar's word on integrity: what the last verification found, and the read
models' state never called "up to date" over a failed audit."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel

from .session import Session


def set_verdict(label: QLabel, verdict: str | None) -> None:
    """Colour a label by the style sheet's ``verdict`` (``ok``, ``bad``, None: plain)."""
    label.setProperty("verdict", verdict)
    label.style().polish(label)


def read_models_text(lag: int, session: Session) -> str:
    """The read models' state as the status bar says it."""
    mismatches = session.read_model_mismatches
    if mismatches:
        one = mismatches == 1
        return f"✖ read models: {mismatches:,} field{'' if one else 's'} " \
               f"differ{'s' if one else ''} from the history"
    if session.flags:
        return "read models built on a history that failed verification"
    return f"read models {'up to date' if lag == 0 else f'{lag:,} behind'}"


def read_models_failed(session: Session) -> bool:
    return bool(session.read_model_mismatches or session.flags)


class IntegrityLabel(QLabel):
    """"✔ verified" or "✖ N integrity findings" once a verification ran, else nothing."""

    def __init__(self, session: Session) -> None:
        super().__init__("", objectName="integrityLabel")
        self.session = session
        session.integrityChanged.connect(self._on_changed)
        session.storeClosed.connect(self._on_changed)

    def _on_changed(self) -> None:
        flags, verified, partly = self.session.flags, self.session.verified, \
            self.session.not_checked
        n = len(flags)
        if not verified:
            text = tip = ""
        elif n:
            text = f"✖ {n:,} integrity finding{'s' if n != 1 else ''}"
            tip = "\n".join(f"{f.stream_id} v{f.version}: {f.kind}" if f.version is not None
                            else f"{f.stream_id}: {f.kind}" for f in flags.findings[:12])
            tip += "\n…" if n > 12 else ""
        else:
            text = "✔ verified, partly" if partly else "✔ verified"
            tip = "No finding in the last verification"
        tip += "".join(f"\nNot checked: {what}" for what in partly) if verified else ""
        self.setText(text)
        self.setToolTip(tip)
        set_verdict(self, ("bad" if n else "ok") if verified else None)
