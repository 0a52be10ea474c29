"""The HTTP API: the app factory (app.py), the routes (routes/), request and response bodies
(schemas.py, comment_schemas.py), presenters that turn rows into those bodies, the live
event stream, who may talk to the server (security.py) and the error answers (errors.py).
Nothing is decided here: what the server does with a request lives in domain/.
"""
