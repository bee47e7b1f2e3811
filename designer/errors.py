"""Error types shared by every stage; the CLI maps them to exit codes."""

from __future__ import annotations


class DesignerError(Exception):
    """Bad input (config, data file, design): the CLI prints the message and exits with 2."""

    exit_code = 2


class ConfigError(DesignerError):
    """Every problem found in one config file, reported together.

    Each message starts with the key path (``bands[1].cutoff_hz: ...``).
    """

    def __init__(self, messages: list[str], source: str | None = None):
        self.messages = list(messages)
        self.source = source
        head = f"{source}: " if source else ""
        if len(self.messages) == 1:
            text = head + self.messages[0]
        else:
            text = (
                head
                + f"{len(self.messages)} problems\n"
                + "\n".join(f"  - {m}" for m in self.messages)
            )
        super().__init__(text)


class QuantizationError(DesignerError):
    """A design that cannot be run in the target arithmetic (unstable, too far off, overflow)."""


class BudgetError(DesignerError):
    """A design that does not fit the board (CPU cycles per sample, RAM, pins)."""
