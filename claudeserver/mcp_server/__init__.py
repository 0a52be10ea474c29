"""The MCP server: other agents and editors hand tasks to claudeserver.

Its tools call the server's own REST API (`rest.Rest`), so authentication, validation and
the task lifecycle rules apply exactly once, whichever transport a client uses: streamable
HTTP at `/mcp` (`mounted`) or stdio through `claudeserver mcp` (`stdio`).
"""
