"""The timeline picture of a report: one lane per stream type, a mark per event, a time axis
suited to the span (``axis``) with the whole span written under it, a legend."""

from __future__ import annotations

import os
from collections.abc import Sequence

from .axis import span_caption, time_ticks

PALETTE = ("#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3",
           "#8C8C8C", "#CCB974", "#64B5CD", "#2F4B7C", "#A05195", "#F95D6A", "#00A6A6")


def ensure_gui() -> None:
    """Painting text needs a QGuiApplication; headless commands get an offscreen one."""
    from PySide6.QtGui import QGuiApplication
    if QGuiApplication.instance() is None:
        if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        QGuiApplication(["esaudit"])


def colour_for(kinds: Sequence[str]) -> dict[str, str]:
    return {k: PALETTE[i % len(PALETTE)] for i, k in enumerate(sorted(set(kinds)))}


def render_timeline(times: Sequence[float], lanes: Sequence[str], kinds: Sequence[str], *,
                    width: int = 2000, height: int = 560) -> bytes:
    """PNG bytes, drawn at twice the displayed size so it stays sharp once embedded."""
    ensure_gui()
    from PySide6.QtCore import QPointF, QRectF, Qt
    from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter, QPen

    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    p = QPainter(image)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    font = QFont("DejaVu Sans")
    font.setPixelSize(22)
    p.setFont(font)
    lane_names = sorted(set(lanes))
    colours = colour_for(kinds)
    left, right, top = 260, 40, 30
    legend_rows = (len(colours) + 3) // 4
    bottom = 96 + 34 * legend_rows
    plot = QRectF(left, top, width - left - right, height - top - bottom)
    p.setPen(QPen(QColor("#999"), 2))
    p.drawRect(plot)
    if not times:
        p.setPen(QColor("#666"))
        p.drawText(plot, Qt.AlignmentFlag.AlignCenter, "no events in the selection")
        p.end()
        return _png(image)
    t0, t1 = min(times), max(times)
    span = (t1 - t0) or 1.0
    lane_h = plot.height() / max(len(lane_names), 1)
    lane_y = {name: plot.top() + lane_h * (i + 0.5) for i, name in enumerate(lane_names)}
    p.setPen(QColor("#333"))
    for name, y in lane_y.items():
        p.drawText(QRectF(10, y - 15, left - 20, 30),
                   Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, name)
    ticks, labels = time_ticks(t0, t1)
    metrics = QFontMetrics(font)
    for t, label in zip(ticks, labels, strict=True):
        x = plot.left() + (plot.width() * (t - t0) / span if t1 > t0 else plot.width() / 2)
        p.setPen(QPen(QColor("#ddd"), 1))
        p.drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom()))
        p.setPen(QColor("#333"))
        w = metrics.horizontalAdvance(label) + 8
        # centred under its tick, moved inside the picture where the edge would cut it
        lx = min(max(x - w / 2, 4.0), width - 4.0 - w)
        p.drawText(QRectF(lx, plot.bottom() + 6, w, 30), Qt.AlignmentFlag.AlignCenter, label)
    p.setPen(QColor("#666"))
    p.drawText(QRectF(plot.left(), plot.bottom() + 36, plot.width(), 30),
               Qt.AlignmentFlag.AlignCenter, span_caption(t0, t1))
    jitter = lane_h * 0.3
    offset = {k: jitter * (((i % 7) - 3) / 3) for i, k in enumerate(sorted(colours))}
    # One mark per pixel, lane and kind: a million events draw as fast as a thousand.
    scale = plot.width() / span if t1 > t0 else 0.0
    middle = 0 if t1 > t0 else int(plot.width() / 2)
    marks = {(middle + int((t - t0) * scale), lane, kind)
             for t, lane, kind in zip(times, lanes, kinds, strict=True)}
    p.setPen(Qt.PenStyle.NoPen)
    for x, lane, kind in sorted(marks, key=lambda m: m[2]):
        p.setBrush(QColor(colours[kind]))
        p.drawEllipse(QPointF(plot.left() + x, lane_y[lane] + offset[kind]), 5, 5)
    y0 = plot.bottom() + 76
    col_w = (width - left) / 4
    for i, (kind, colour) in enumerate(sorted(colours.items())):
        x = left + col_w * (i % 4)
        y = y0 + 34 * (i // 4)
        p.setBrush(QColor(colour))
        p.drawEllipse(QPointF(x + 8, y + 14), 8, 8)
        p.setPen(QColor("#333"))
        p.drawText(QRectF(x + 24, y, col_w - 30, 28), Qt.AlignmentFlag.AlignVCenter, kind)
        p.setPen(Qt.PenStyle.NoPen)
    p.end()
    return _png(image)


def _png(image: object) -> bytes:
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice

    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buf, "PNG")  # type: ignore[attr-defined]
    buf.close()
    return bytes(data.data())
