"""Small forms for commands. They collect input only; rules live in the domain."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from esaudit.application.queries import Product
from esaudit.domain.money import format_money

CURRENCIES = ("EUR", "USD", "GBP", "CHF", "SEK")
CARRIERS = ("DHL", "UPS", "PostNL", "DPD", "GLS", "FedEx")


def money_box(name: str, max_cents: int, value_cents: int) -> QDoubleSpinBox:
    box = QDoubleSpinBox(objectName=name)
    box.setDecimals(2)
    box.setRange(0.01, max(max_cents, 1) / 100)
    box.setValue(max(value_cents, 1) / 100)
    box.setSingleStep(1.0)
    return box


def cents(box: QDoubleSpinBox) -> int:
    return round(box.value() * 100)


def product_combo(products: list[Product], name: str) -> QComboBox:
    combo = QComboBox(objectName=name)
    for p in products:
        combo.addItem(f"{p.sku}  —  {p.name}  ({format_money(p.price_cents)})", p.sku)
    combo.setToolTip("A product from the catalogue; its current price is used")
    return combo


class FormDialog(QDialog):
    """A titled form with OK/Cancel; ``values()`` reads the fields by key."""

    def __init__(self, title: str, intro: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setObjectName("formDialog")
        self.setMinimumWidth(420)
        self.form = QFormLayout()
        self.fields: dict[str, QWidget] = {}
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        if intro:
            label = QLabel(intro)
            label.setWordWrap(True)
            layout.addWidget(label)
        layout.addLayout(self.form)
        layout.addWidget(buttons)

    def add(self, key: str, label: str, widget: QWidget, tip: str = "") -> QWidget:
        if tip:
            widget.setToolTip(tip)
        self.form.addRow(label, widget)
        self.fields[key] = widget
        return widget

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, w in self.fields.items():
            if isinstance(w, QDoubleSpinBox):
                out[key] = cents(w)
            elif isinstance(w, QSpinBox):
                out[key] = w.value()
            elif isinstance(w, QComboBox):
                out[key] = w.currentData() if w.currentData() is not None else w.currentText()
            elif isinstance(w, QLineEdit):
                out[key] = w.text().strip()
        return out


class NewOrderDialog(QDialog):
    """Customer, currency and lines picked from the catalogue."""

    def __init__(self, products: list[Product], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New order")
        self.setObjectName("newOrderDialog")
        self.setMinimumWidth(560)
        self.customer = QLineEdit(objectName="newOrderCustomer")
        self.customer.setPlaceholderText("Customer name")
        self.customer.setToolTip("Who the order is for (required)")
        self.currency = QComboBox(objectName="newOrderCurrency")
        self.currency.addItems(CURRENCIES)
        self.currency.setToolTip("Currency of the order")
        self.product = product_combo(products, "newOrderProduct")
        self.qty = QSpinBox(objectName="newOrderQty")
        self.qty.setRange(1, 9999)
        self.qty.setToolTip("Quantity to add")
        add = QPushButton("Add line", objectName="newOrderAddLine")
        add.setToolTip("Add the chosen product and quantity to the order")
        add.clicked.connect(self.add_line)
        self.lines = QTableWidget(0, 2, objectName="newOrderLines")
        self.lines.setHorizontalHeaderLabels(["Product", "Qty"])
        self.lines.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.lines.verticalHeader().hide()
        self.lines.setToolTip("Lines of the new order (remove with Delete)")
        remove = QPushButton("Remove line", objectName="newOrderRemoveLine")
        remove.clicked.connect(lambda: self.lines.removeRow(self.lines.currentRow()))
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Create order")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.customer.textChanged.connect(self._validate)

        form = QFormLayout()
        form.addRow("Customer", self.customer)
        form.addRow("Currency", self.currency)
        pick = QHBoxLayout()
        pick.addWidget(self.product, 1)
        pick.addWidget(self.qty)
        pick.addWidget(add)
        form.addRow("Product", pick)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.lines)
        layout.addWidget(remove)
        if not products:
            note = QLabel("The catalogue is empty: the order starts without lines.")
            note.setProperty("muted", True)
            layout.addWidget(note)
            add.setEnabled(False)
        layout.addWidget(self.buttons)
        self._validate()

    def _validate(self) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(
            bool(self.customer.text().strip()))

    def add_line(self) -> None:
        sku = self.product.currentData()
        if sku is None:
            return
        row = self.lines.rowCount()
        self.lines.insertRow(row)
        item = QTableWidgetItem(sku)
        self.lines.setItem(row, 0, item)
        self.lines.setItem(row, 1, QTableWidgetItem(str(self.qty.value())))

    def chosen_lines(self) -> list[tuple[str, int]]:
        out = []
        for row in range(self.lines.rowCount()):
            sku = self.lines.item(row, 0).text()
            try:
                qty = int(self.lines.item(row, 1).text())
            except ValueError:
                continue
            out.append((sku, qty))
        return out
