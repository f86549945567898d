"""The confirmation modal: the plan, in full, before anything changes.

Cancel has the focus, so a stray Enter cancels.  A high-risk plan enables Execute only
once the target's name is typed exactly.  Adjustable parameters (replica count,
thresholds) re-plan on every keystroke, so what is confirmed is what is shown.  Once
any button is pressed the modal closes at once: a second keypress cannot fire twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from actions.base import Action, Param, Plan, Risk
from cockpit.textsafe import clean
from widgets.screens import KeysAfterMount

Choice = Literal["execute", "dry-run", "cancel"]

RISK_STYLE = {Risk.LOW: "bold green", Risk.MEDIUM: "bold yellow", Risk.HIGH: "bold white on red"}


@dataclass(frozen=True)
class Confirmation:
    choice: Choice
    action: Action


def plan_text(plan: Plan) -> Text:
    text = Text()
    text.append(clean(plan.title), style="bold")
    text.append("   risk: ")
    text.append(f" {plan.risk.label} ", style=RISK_STYLE[plan.risk])
    text.append("\n\n")
    for warning in plan.warnings:
        text.append("⚠ " + clean(warning) + "\n", style="bold yellow")
    if plan.warnings:
        text.append("\n")
    text.append("What will change\n", style="underline")
    for change in plan.changes:
        text.append("  • " + clean(change) + "\n")
    text.append("\nBlast radius\n", style="underline")
    text.append("  " + clean(plan.blast_radius) + "\n")
    text.append("\nEquivalent command\n", style="underline")
    for line in plan.command.splitlines():
        text.append("  $ " + clean(line) + "\n", style="bold cyan")
    if plan.details:
        text.append("\nDetails\n", style="underline")
        for line in plan.details[:200]:
            text.append("  " + clean(line) + "\n")
        if len(plan.details) > 200:
            text.append(f"  … and {len(plan.details) - 200} more\n", style="dim")
    return text


def choice_of(button: Button) -> Choice:
    """What a modal's button decides: Execute, Dry run, or (any other) Cancel."""
    return {"execute": "execute", "dry-run": "dry-run"}.get(button.id or "", "cancel")  # type: ignore[return-value]


class Decides:
    """The one decision of a confirmation modal (this one, the notify one): Escape
    cancels; the first decision disables every button and dismisses with it."""

    action: Action
    _decided = False

    def action_cancel(self) -> None:
        self._decide("cancel")

    def _decide(self, choice: Choice) -> None:
        if self._decided:
            return
        self._decided = True
        for button in self.query(Button):  # type: ignore[attr-defined]
            button.disabled = True
        self.dismiss(Confirmation(choice, self.action))  # type: ignore[attr-defined]


class ConfirmScreen(Decides, KeysAfterMount, ModalScreen[Confirmation]):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical {
        width: 100; max-width: 96%; height: auto; max-height: 92%;
        border: thick $warning; background: $surface; padding: 0 1;
    }
    ConfirmScreen.risk-high > Vertical { border: thick $error; }
    ConfirmScreen #confirm-plan { height: auto; max-height: 24; }
    ConfirmScreen .param-row { height: 3; }
    ConfirmScreen .param-row Label { width: 24; padding: 1 1 0 0; }
    ConfirmScreen .param-row Input { width: 1fr; }
    ConfirmScreen #confirm-error { color: $error; height: auto; }
    ConfirmScreen #confirm-phrase-label { padding: 1 0 0 0; }
    ConfirmScreen #confirm-buttons { height: 3; align: right middle; margin-top: 1; }
    ConfirmScreen Button { margin: 0 0 0 2; }
    ConfirmScreen #confirm-mode { color: $text-muted; height: 1; }
    """

    def __init__(
        self,
        action: Action,
        *,
        session_dry_run: bool = False,
        mode_note: str = "",
        replan: Callable[[Action, dict[str, str]], Action] | None = None,
    ) -> None:
        super().__init__()
        self.action = action
        self.plan = action.plan()
        self.session_dry_run = session_dry_run
        self.mode_note = mode_note
        self.replan = replan or (lambda act, values: act.with_params(values))
        self._param_error = ""
        if self.plan.risk is Risk.HIGH:
            self.add_class("risk-high")

    def compose(self) -> ComposeResult:
        with Vertical():
            with VerticalScroll(id="confirm-plan"):
                yield Static(plan_text(self.plan), id="confirm-plan-text", markup=False)
            for param in self.action.params():
                yield from self._param_row(param)
            yield Static("", id="confirm-error", markup=False)
            # Always there, shown only when the plan asks for it: a parameter change
            # (scale to 0) can turn a plan high-risk after the modal opened.
            yield Label("", id="confirm-phrase-label")
            yield Input(id="confirm-phrase")
            yield Static(Text(self.mode_note), id="confirm-mode", markup=False)
            with Horizontal(id="confirm-buttons"):
                yield Button("Cancel", id="cancel", variant="primary")
                if self.plan.dry_run_supported and not self.session_dry_run:
                    yield Button("Dry run", id="dry-run")
                label = "Execute (dry run)" if self.session_dry_run else "Execute"
                yield Button(label, id="execute", variant="error", disabled=True)

    def _param_row(self, param: Param) -> ComposeResult:
        with Horizontal(classes="param-row"):
            yield Label(Text(param.label + (f" ({param.help})" if param.help else "")))
            placeholder = " | ".join(param.choices) if param.choices else ""
            yield Input(value=param.value, id=f"param-{param.name}", placeholder=placeholder)

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()
        self._show_phrase()
        self._refresh_execute()

    def _show_phrase(self) -> None:
        phrase = self.plan.confirm_phrase
        label = self.query_one("#confirm-phrase-label", Label)
        field = self.query_one("#confirm-phrase", Input)
        label.display = field.display = bool(phrase)
        if phrase:
            label.update(Text.assemble("Type ", (phrase, "bold"), " to confirm:"))
            field.placeholder = phrase

    # -- live re-planning ---------------------------------------------------------------

    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        if event.input.id and event.input.id.startswith("param-"):
            values = {
                widget.id.removeprefix("param-"): widget.value
                for widget in self.query(Input)
                if widget.id and widget.id.startswith("param-")
            }
            try:
                self.action = self.replan(self.action, values)
                self.plan = self.action.plan()
                self._param_error = ""
                self.query_one("#confirm-plan-text", Static).update(plan_text(self.plan))
                self.set_class(self.plan.risk is Risk.HIGH, "risk-high")
                self._show_phrase()
            except ValueError as exc:
                self._param_error = str(exc)
            self.query_one("#confirm-error", Static).update(Text(self._param_error))
        self._refresh_execute()

    def _phrase_ok(self) -> bool:
        phrase = self.plan.confirm_phrase
        if not phrase:
            return True
        return self.query_one("#confirm-phrase", Input).value.strip() == phrase

    def _refresh_execute(self) -> None:
        blocked = bool(self._param_error) or not self._phrase_ok()
        self.query_one("#execute", Button).disabled = blocked
        for button in self.query("#dry-run"):
            button.disabled = bool(self._param_error)  # type: ignore[attr-defined]

    @on(Input.Submitted, "#confirm-phrase")
    def _phrase_submitted(self) -> None:
        # Enter in the phrase field moves to the buttons; it never executes by itself.
        self.query_one("#cancel", Button).focus()

    # -- decisions ----------------------------------------------------------------------

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        choice = choice_of(event.button)
        if choice == "execute" and (self._param_error or not self._phrase_ok()):
            return
        self._decide(choice)
