"""WSGI entry point: `gunicorn wsgi:app`."""

from wallet import create_app

app = create_app()
