"""The one terminal every command prints to (its own module so that command modules need not import `main`)."""

from rich.console import Console

console = Console()
