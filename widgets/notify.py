"""The notify modal: the recipients, then the exact message in an editable text area.

What is sent is what is in the text area when Execute is pressed: the action is
re-planned from it on every edit (its `message` parameter), so the plan, the character
count and the journal's hash all describe the edited text.  Like the confirmation
modal, Cancel has the focus and a decision closes the modal at once; Dry run shows what
would be sent without sending.  Recipients come masked from the action (the webhook's
secret part is never in it); the SMTP password is never shown.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static, TextArea

from actions.base import Action
from cockpit.textsafe import clean
from widgets.confirm import Confirmation, Decides, choice_of
from widgets.screens import KeysAfterMount


def recipients_text(action: Action) -> Text:
    plan = action.plan()
    text = Text()
    text.append(clean(plan.title), style="bold")
    text.append("\n")
    for target in plan.targets:
        text.append("  → " + clean(target) + "\n")
    text.append(clean(plan.blast_radius), style="dim")
    return text


class NotifyScreen(Decides, KeysAfterMount, ModalScreen[Confirmation]):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    NotifyScreen { align: center middle; }
    NotifyScreen > Vertical {
        width: 110; max-width: 96%; height: 92%;
        border: thick $warning; background: $surface; padding: 0 1;
    }
    NotifyScreen #notify-recipients { height: auto; max-height: 8; }
    NotifyScreen #notify-label { padding: 1 0 0 0; }
    NotifyScreen #notify-message { height: 1fr; min-height: 6; }
    NotifyScreen #notify-count { color: $text-muted; height: 1; }
    NotifyScreen #notify-error { color: $error; height: auto; }
    NotifyScreen #notify-mode { color: $text-muted; height: 1; }
    NotifyScreen #notify-buttons { height: 3; align: right middle; }
    NotifyScreen Button { margin: 0 0 0 2; }
    """

    def __init__(
        self, action: Action, *, session_dry_run: bool = False, mode_note: str = ""
    ) -> None:
        super().__init__()
        self.action = action
        self.session_dry_run = session_dry_run
        self.mode_note = mode_note
        self._error = ""
        params = {p.name: p for p in action.params()}
        self._initial = params["message"].value if "message" in params else ""

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(recipients_text(self.action), id="notify-recipients", markup=False)
            yield Label(
                Text("Message — sent exactly as written here (edit freely; Tab leaves the text)"),
                id="notify-label",
            )
            yield TextArea(self._initial, id="notify-message", soft_wrap=True)
            yield Static("", id="notify-count", markup=False)
            yield Static("", id="notify-error", markup=False)
            yield Static(Text(self.mode_note), id="notify-mode", markup=False)
            with Horizontal(id="notify-buttons"):
                yield Button("Cancel", id="cancel", variant="primary")
                if not self.session_dry_run:
                    yield Button("Dry run", id="dry-run")
                label = "Send (dry run)" if self.session_dry_run else "Send"
                yield Button(label, id="execute", variant="error")

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()
        self._replan(self._initial)

    @property
    def message(self) -> str:
        return self.query_one("#notify-message", TextArea).text

    @on(TextArea.Changed, "#notify-message")
    def _edited(self, event: TextArea.Changed) -> None:
        self._replan(event.text_area.text)

    def _replan(self, text: str) -> None:
        try:
            self.action = self.action.with_params({"message": text})
            self._error = ""
        except ValueError as exc:
            self._error = str(exc)
        self.query_one("#notify-count", Static).update(Text(f"{len(text):,} characters"))
        self.query_one("#notify-error", Static).update(Text(self._error))
        for button in self.query("#execute, #dry-run"):
            button.disabled = bool(self._error)  # type: ignore[attr-defined]

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        choice = choice_of(event.button)
        if choice != "cancel":
            self._replan(self.message)  # what is sent is what is in the text area now
            if self._error:
                return
        self._decide(choice)
