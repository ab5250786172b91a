"""Gunicorn settings for the naive baseline: the same server settings as ours, none of our hooks.

(Without `-c`, gunicorn would load the repository's gunicorn.conf.py, whose hooks expect our app.)
"""

worker_class = "gthread"
threads = 4
accesslog = None
errorlog = "-"
keepalive = 0  # as ours: every request may go to any worker
