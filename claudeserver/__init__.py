"""claudeserver: a server that finishes coding tasks unattended with the Claude Code agent.

Front ends (api/, mcp_server/, client/, web/, cli.py) call the domain (domain/: what happens
to sessions and tasks), which drives the adapters below it: agent/ (claude-agent-sdk),
persistence/ (the database) and policy/ (the permission engine). vocabulary.py, redact.py
and settings.py hold plain values and import nothing above them. README.md's Architecture
section draws the whole picture.
"""
