"""The endpoints, a module per resource: sessions, tasks, a task's workspace, its review
comments, approvals, events, health and metrics. A route parses the request, calls one
domain function and presents the answer; it reads rows through persistence/ but writes only
through the domain, whose exceptions app.py turns into 404, 409 and 410 in one place.
"""
