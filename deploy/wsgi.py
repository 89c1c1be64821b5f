"""The web process's WSGI entry point for gunicorn (see gunicorn.conf.py beside this file).

gunicorn's eventlet worker monkey-patches the standard library before it imports this module, so
the app is built in eventlet mode here; the app itself stays async-mode agnostic (tests and
`make run` use threading or serve.py). One app per gunicorn worker, one worker per gunicorn: see
deploy/README.md for why, and how to run several.
"""
from mediaserver import create_app

app = create_app({"SOCKETIO_ASYNC_MODE": "eventlet"})

from mediaserver import gc_tuning  # noqa: E402

gc_tuning.tune()  # after the app is built: its objects are frozen out of collection
