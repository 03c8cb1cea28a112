"""Order commands as actions, enabled only when the domain says they can succeed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QComboBox, QLineEdit, QMessageBox, QSpinBox, QWidget

from esaudit.application.handlers import new_order_id
from esaudit.application.jobs import CancelCheck, Progress
from esaudit.application.records import ConcurrencyError, NotAsWritten, StoreError
from esaudit.application.replay import QUICK_FOLD
from esaudit.domain import commands as c
from esaudit.domain import order
from esaudit.domain.errors import DomainError
from esaudit.domain.events import ORDER
from esaudit.domain.money import format_money

from .actions import make_action
from .dialogs import CARRIERS, FormDialog, NewOrderDialog, money_box, product_combo
from .session import Session
from .workers import run_in_background

ACTIONS: list[tuple[str, str, str, str]] = [
    # key, label, shortcut, tooltip
    ("add_line", "Add line…", "Ctrl+L", "Add a product line to the draft order"),
    ("remove_line", "Remove line…", "", "Remove a line from the draft order"),
    ("place", "Place", "Ctrl+Shift+P", "Place the draft order (it then awaits payment)"),
    ("pay", "Pay…", "Ctrl+Shift+Y", "Record a payment on the placed order"),
    ("ship", "Ship…", "Ctrl+Shift+S", "Ship the paid order"),
    ("deliver", "Deliver", "Ctrl+Shift+D", "Mark the shipped order delivered"),
    ("cancel", "Cancel order…", "", "Cancel the order (before shipping)"),
    ("refund", "Refund…", "Ctrl+Shift+R", "Issue a refund (a compensation event)"),
]


BUILTIN_ORDER = f"builtin:{ORDER}"


class PartlyWritten(DomainError):
    """A refusal after some of a dialog's commands were written (each command is atomic; a
    dialog that sends several is not), so the user is told what is in the store."""

    def __init__(self, stream_id: str, message: str) -> None:
        super().__init__(message)
        self.stream_id = stream_id


class OrderActions(QObject):
    """Builds each command from a small form and runs it with the version the user saw."""

    commandDone = Signal(str)  # stream id, after a command's events were written
    commandSettled = Signal(bool)  # after every command: written or not

    def __init__(self, session: Session, parent: QWidget) -> None:
        super().__init__(parent)
        self.session = session
        self.window = parent
        self._running = False  # a command is being written on the thread pool
        self._replaying: tuple[str, int] | None = None  # a long replay for the actions
        self.new_order = make_action(parent, "New order…", self.create_order,
                                     QKeySequence.StandardKey.New,
                                     "Create an order with lines from the catalogue",
                                     "actionNewOrder", "new-order")
        self.actions: dict[str, QAction] = {
            key: make_action(parent, label, lambda k=key: self.run(k), shortcut, tip,
                             f"action_{key}", key.replace("_", "-"))
            for key, label, shortcut, tip in ACTIONS}
        session.streamSelected.connect(lambda _id: self.update_enabled())
        session.storeOpened.connect(self.update_enabled)
        session.storeClosed.connect(self.update_enabled)
        session.historyChanged.connect(self.update_enabled)
        self.update_enabled()

    def _state(self) -> dict[str, Any] | None:
        services, info = self.session.services, self.session.stream_info
        if services is None or info is None or info.stream_type != ORDER:
            return None
        if services.models.choose(info.stream_id, info.stream_type).name != BUILTIN_ORDER:
            return None  # an Order another system wrote: the shop's commands are not its own
        # The replayer, not the handler: it shares the states a long replay remembered with
        # the replay panel, which asks for the same stream at the same moment.
        replayer = services.replayer
        try:
            quick = replayer.replay_within(info.stream_id, info.version, QUICK_FOLD)
        except NotAsWritten:  # an event edited behind the store's back: no command is offered
            return None
        if quick is not None:
            return quick.state
        seen = (info.stream_id, info.version)
        if self._replaying != seen:  # a long fold: the actions wait for it off this thread
            self._replaying = seen

            def settled(_result: object) -> None:
                self._replaying = None
                current = self.session.stream_info
                if current is not None and (current.stream_id, current.version) == seen:
                    self.update_enabled()  # quick now: the replay remembered the state

            run_in_background(self.window, "", lambda progress, cancelled: replayer.replay(
                *seen), settled, settled, show_progress=False)
        return None

    def update_enabled(self) -> None:
        writable = self.session.is_open and not self.session.read_only and not self._running
        self.new_order.setEnabled(writable)
        services = self.session.services
        reason = services.read_only_reason if services is not None else ""
        for action in (self.new_order, *self.actions.values()):
            action.setToolTip(f"Not available: {reason}" if reason else action.statusTip())
        info = self.session.stream_info
        if services is not None and not reason and info is not None \
                and info.stream_type == ORDER \
                and services.models.choose(info.stream_id, info.stream_type).name \
                != BUILTIN_ORDER:
            for action in self.actions.values():
                action.setToolTip(f"Not available: {info.stream_id} was not written by "
                                  "esaudit's commands (imported), which append only to "
                                  "orders they created")
        state = self._state() if writable else None
        allowed = order.available_actions(state) if state else frozenset()
        for key, action in self.actions.items():
            action.setEnabled(key in allowed)

    # -- forms -----------------------------------------------------------------------------
    def create_order(self) -> None:
        services = self.session.services
        if services is None:
            return
        dialog = NewOrderDialog(services.queries.products(), self.window)
        if not dialog.exec():
            return
        oid = new_order_id()

        customer, currency = dialog.customer.text(), dialog.currency.currentText()
        lines = dialog.chosen_lines()

        def run() -> None:
            commands = services.writing("new order").commands
            commands.execute(c.CreateOrder(oid, customer, currency), expected_version=0)
            for sku, qty in lines:
                try:
                    commands.execute(c.AddLine(oid, sku, qty))
                except DomainError as e:
                    raise PartlyWritten(oid, f"Order {oid} was created, but the line {sku} "
                                             f"(quantity {qty}) was refused: {e}") from e

        self._execute(run, oid, lambda: self.session.select_stream(oid))

    def _form(self, key: str, state: dict[str, Any]) -> c.OrderCommand | None:
        oid, cur = state["order_id"], state["currency"]
        services = self.session.services
        assert services is not None
        if key in ("place", "deliver"):
            return c.PlaceOrder(oid) if key == "place" else c.DeliverOrder(oid)
        if key == "add_line":
            form = FormDialog("Add line", f"Add a product to order {oid}.", self.window)
            form.add("sku", "Product", product_combo(services.queries.products(), "lineSku"))
            qty = QSpinBox(objectName="lineQty")
            qty.setRange(1, 9999)
            form.add("qty", "Quantity", qty)
            if form.exec():
                v = form.values()
                return c.AddLine(oid, v["sku"], v["qty"])
            return None
        if key == "remove_line":
            form = FormDialog("Remove line", f"Remove a line from order {oid}.", self.window)
            combo = QComboBox(objectName="removeSku")
            combo.addItems(sorted(state["lines"]))
            form.add("sku", "Line", combo)
            return c.RemoveLine(oid, form.values()["sku"]) if form.exec() else None
        if key == "pay":
            owed = order.owed_cents(state)
            form = FormDialog("Record payment",
                              f"{format_money(owed, cur)} is still owed on {oid}.", self.window)
            form.add("amount", f"Amount ({cur})", money_box("payAmount", owed, owed))
            method = QComboBox(objectName="payMethod")
            method.addItems(["card", "bank_transfer", "paypal", "cash"])
            form.add("method", "Method", method)
            if form.exec():
                v = form.values()
                return c.ReceivePayment(oid, v["amount"], v["method"])
            return None
        if key == "ship":
            form = FormDialog("Ship order", f"Ship order {oid}.", self.window)
            carrier = QComboBox(objectName="shipCarrier")
            carrier.setEditable(True)
            carrier.addItems(CARRIERS)
            form.add("carrier", "Carrier", carrier)
            form.add("tracking", "Tracking number", QLineEdit(objectName="shipTracking"))
            if form.exec():
                v = form.values()
                return c.ShipOrder(oid, v["carrier"], v["tracking"])
            return None
        if key == "cancel":
            form = FormDialog("Cancel order", f"Cancel order {oid}? This is recorded as an "
                              "event and cannot be undone.", self.window)
            form.add("reason", "Reason", QLineEdit(objectName="cancelReason"))
            return c.CancelOrder(oid, form.values()["reason"]) if form.exec() else None
        if key == "refund":
            left = order.refundable_cents(state)
            form = FormDialog("Issue refund", f"Up to {format_money(left, cur)} can be "
                              "refunded.", self.window)
            form.add("amount", f"Amount ({cur})", money_box("refundAmount", left, left))
            form.add("reason", "Reason", QLineEdit(objectName="refundReason"))
            if form.exec():
                v = form.values()
                return c.IssueRefund(oid, v["amount"], v["reason"])
            return None
        raise ValueError(key)

    def run(self, key: str) -> None:
        state = self._state()
        info = self.session.stream_info
        services = self.session.services
        if state is None or info is None or services is None:
            return
        seen = info.version  # what the user was looking at when they chose the action
        cmd = self._form(key, state)
        if cmd is None:
            return
        self._execute(lambda: services.writing(type(cmd).__name__).commands.execute(
                          cmd, expected_version=seen),
                      info.stream_id)

    def _execute(self, fn: Callable[[], Any], stream_id: str,
                 on_written: Callable[[], None] | None = None) -> None:
        """Run a command's writes on the thread pool: a store another process holds locked can
        keep a write waiting up to the busy timeout, and the window must not freeze meanwhile.
        One command at a time; the actions are disabled until it settles."""
        services = self.session.services
        if services is None or self._running:
            return
        self._running = True
        self.update_enabled()

        def job(progress: Progress, cancelled: CancelCheck) -> Any:
            try:
                fn()
            except (ConcurrencyError, DomainError, StoreError) as e:
                return e  # an answer for the user, not a crash
            return None

        def done(refusal: Exception | None) -> None:
            self._running = False
            if self.session.services is not services:  # the store was closed meanwhile
                self.update_enabled()
                self.commandSettled.emit(False)
                return
            if refusal is None:
                self.session.historyChanged.emit()
                self.session.refresh_stream()
                if on_written is not None:
                    on_written()
                self.commandDone.emit(stream_id)
            else:
                self._explain(refusal)
            self.update_enabled()
            self.commandSettled.emit(refusal is None)

        def failed(message: str) -> None:
            self._running = False
            self.update_enabled()
            QMessageBox.critical(self.window, "Command failed",
                                 f"{message}\n\nThe command did not complete; nothing it "
                                 "tried to write was kept.")
            self.commandSettled.emit(False)

        run_in_background(self.window, "Writing to the store…", job, done, failed,
                          cancellable=False)

    def _explain(self, refusal: Exception) -> None:
        if isinstance(refusal, ConcurrencyError):
            answer = QMessageBox.warning(
                self.window, "Changed by someone else",
                f"Order {refusal.stream_id} was changed by another writer while you were "
                f"looking at it: it is now at version {refusal.actual}, you saw version "
                f"{refusal.expected}.\n\nNothing was written. Reload to see the latest version?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.Yes)
            if answer == QMessageBox.StandardButton.Yes:
                self.session.historyChanged.emit()
                self.session.refresh_stream()
        elif isinstance(refusal, PartlyWritten):
            self.session.historyChanged.emit()
            self.session.select_stream(refusal.stream_id)
            QMessageBox.warning(self.window, "Partly written", str(refusal))
        elif isinstance(refusal, DomainError):
            QMessageBox.warning(self.window, "Refused", f"{refusal}\n\nNothing was written.")
        else:
            QMessageBox.critical(self.window, "Store error", str(refusal))
