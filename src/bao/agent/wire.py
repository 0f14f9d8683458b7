"""UserRL's wire format: one tool, `interact_with_env(choice, content)`, and the bracket prefixes behind it.

UserRL's tool layer (`InteractTool.execute`) turns a tool call into the string its gyms read: `choice`
becomes a `[choice]` prefix unless the content already starts with it, `finish` becomes `[finish]`, and any
other choice passes the content through unchanged. bao builds the same string, so a tool call and its plain
text form always mean the same thing.
"""

from __future__ import annotations

TOOL_NAME = "interact_with_env"
CHOICES = ("action", "search", "answer")
PREFIXES = ("[action]", "[search]", "[answer]", "[finish]")

TOOL_SCHEMA: dict = {
    "type": "function",
    "function": {
        "name": TOOL_NAME,
        "description": "Interact with the environment: take an action, search, or give an answer.",
        "parameters": {
            "type": "object",
            "properties": {
                "choice": {
                    "type": "string",
                    "enum": list(CHOICES),
                    "description": "`action` to act or ask, `search` to look something up, `answer` to answer.",
                },
                "content": {"type": "string", "description": "The content of the action, search or answer."},
            },
            "required": ["choice", "content"],
        },
    },
}


def wire_string(choice: str, content: str) -> str:
    """The string a UserRL gym receives for the tool call `interact_with_env(choice, content)`."""
    if choice == "finish":
        return "[finish]"
    if choice in CHOICES:
        prefix = f"[{choice}]"
        return content if content.startswith(prefix) else f"{prefix} {content}"
    return content


def split_prefix(text: str) -> tuple[str, str] | None:
    """Split a gym action string into (choice, rest) the way UserRL's gyms do, or None if it has no prefix.

    The string is stripped, then matched case-sensitively with `startswith`; no space is needed after the
    prefix (`[answer]225`), and the rest is kept unstripped after the 8-character prefix.
    """
    text = text.strip()
    for prefix in PREFIXES:
        if text.startswith(prefix):
            return prefix[1:-1], text[len(prefix):]
    return None
