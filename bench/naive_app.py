"""The baseline a site would write itself: a Flask view around transformers.pipeline, torch fp32.

NAIVE_MODEL=models/minilm-toxicity gunicorn -w 2 -k gthread --threads 4 'bench.naive_app:create_app()'
"""

from __future__ import annotations

import os

from flask import Flask, jsonify, request


def create_app() -> Flask:
    from transformers import pipeline

    app = Flask(__name__)
    classify = pipeline(
        "text-classification", model=os.environ["NAIVE_MODEL"], top_k=None, truncation=True
    )

    @app.post("/v1/comments")
    def comments():  # type: ignore[no-untyped-def]
        text = request.get_json()["text"]
        return jsonify({"scores": classify(text)}), 201

    @app.get("/readyz")
    def readyz():  # type: ignore[no-untyped-def]
        return {"status": "ready"}

    return app
