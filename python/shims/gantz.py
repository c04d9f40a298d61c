"""A stand-in for the Gantz client that handlers written for the Gantz CLI import.

`from gantz import MCPClient; MCPClient().execute_tool(name, args)` calls the tool through
orch: a tool declared in gantz.yaml, or `server.tool` of a configured MCP server. An
installed `gantz` package, if there is one, is imported instead of this file.
"""

from orch_bridge import ToolCallError, current_context

__all__ = ["MCPClient", "ToolCallError"]


class MCPClient:
    def __init__(self, config_path=None, **_options):
        self.config_path = config_path

    def execute_tool(self, name, args=None):
        ctx = current_context()
        if ctx is None:
            raise RuntimeError("gantz.MCPClient works inside a handler that orch runs")
        return ctx.call_tool(name, args or {})

    call_tool = execute_tool
