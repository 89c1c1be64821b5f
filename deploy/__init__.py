"""The deployment's entry points and tools (gunicorn's `wsgi.py`, the nginx site writer): a package so
that import-linter sees `deploy.wsgi` at the top of the layers (pyproject.toml)."""
