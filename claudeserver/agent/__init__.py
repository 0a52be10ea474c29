"""The agent adapter: the only package that imports claude-agent-sdk.

Import its modules directly: the package itself stays empty so that code needing only
`locate` (the API's /health) does not pay for importing the SDK.
"""
