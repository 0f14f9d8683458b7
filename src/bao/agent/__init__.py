"""Agent layer: the wire format (parsing and rendering of tool calls) and prompt rendering."""
