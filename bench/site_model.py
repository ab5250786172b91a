"""A site's own model, measured end to end on a news-comment source (not a CI test).

    python -m bench.site_model ../shared/data/insults-kaggle2012-train.csv [--adapt 2600] [--model DIR]

Through the service (create_app, a fresh SQLite file, the shipped model, the real
adapter): ADAPT comments of the source are posted to a site and labelled by a
moderator through the decision endpoint (`--import-labels`: imported as CSV
instead, much faster); `models adapt` trains a version in this process (timed);
it is promoted (thresholds kept); the remaining comments are posted to the site and
to a second site that keeps the base model; prints the ROC-AUC of the returned
`scores.toxicity` on both, with the version's validation metrics, as one JSON line.
The texts never leave the machine or enter the repository.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path
from typing import Any


def _post_all(client: Any, key: str, texts: list[str], tag: str) -> list[dict[str, Any]]:
    """Post texts in batches of 100; the stored comments in order."""
    out: list[dict[str, Any]] = []
    for start in range(0, len(texts), 100):
        chunk = texts[start : start + 100]
        body = {
            "comments": [
                {"text": t, "external_id": f"{tag}-{start + i}"} for i, t in enumerate(chunk)
            ]
        }
        r = client.post("/v1/comments/batch", json=body, headers={"Authorization": f"Bearer {key}"})
        assert r.status_code in (200, 201), r.get_json()
        out.extend(item["comment"] for item in r.get_json()["results"])
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("source", type=Path, help="Kaggle 2012 insults train CSV")
    ap.add_argument("--adapt", type=int, default=2600, help="comments labelled for adaptation")
    ap.add_argument(
        "--test",
        type=int,
        default=2200,
        help="other comments scored afterwards (at most what is left)",
    )
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--import-labels", action="store_true", help="import labels instead of deciding"
    )
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument(
        "--model",
        type=Path,
        default=None,
        help="the base checkpoint the service serves and adapts from (default: the shipped one); "
        "e.g. one trained without this source, so the base has never seen it",
    )
    args = ap.parse_args(argv)

    from sklearn.metrics import roc_auc_score

    from api import create_app
    from api.adapting import InlineTraining
    from api.services import services
    from models.data import load_kaggle
    from moderation.sites import Role

    source = load_kaggle(args.source)
    labels = [int(x) for x in source.labels[:, 0]]
    order = list(range(len(source.texts)))
    random.Random(args.seed).shuffle(order)
    adapt_rows, test_rows = order[: args.adapt], order[args.adapt :][: args.test]

    work = Path(tempfile.mkdtemp(prefix="site-model-"))
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{work / 'bench.db'}",
            "SECRET_KEY": "bench",
            "LOG_REQUESTS": False,
            "BACKGROUND_INTERVAL": 0,
            "RATE_LIMIT_ENABLED": False,
            "SCORING_TIMEOUT": 120.0,
            "JOBS": InlineTraining(),
            "ADAPT_EPOCHS": args.epochs,
            "SITE_MODELS_DIR": str(work / "site-models"),
            "MODEL": str(args.model or ""),
        }
    )
    store = services(app).store
    site, key = store.sites.create("news-site")
    _, other_key = store.sites.create("other-site")
    _, mod = store.users.create("bench-mod", Role.MODERATOR, [site.id])
    client = app.test_client()
    t0 = time.monotonic()
    if args.import_labels:
        import csv
        import io

        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["text", "label"])
        w.writerows((source.texts[i], labels[i]) for i in adapt_rows)
        from moderation.site_models import parse_labels_csv

        services(app).site_models.import_labels(site, parse_labels_csv(buf.getvalue()), "bench")
    else:
        stored = _post_all(client, key, [source.texts[i] for i in adapt_rows], "adapt")
        headers = {"Authorization": f"Bearer {mod}"}
        for c, i in zip(stored, adapt_rows, strict=True):
            body: dict[str, Any] = {"version": c["version"]}
            body.update(
                {"action": "reject", "reason": "abusive"} if labels[i] else {"action": "approve"}
            )
            r = client.post(f"/v1/comments/{c['id']}/decision", json=body, headers=headers)
            assert r.status_code == 200, r.get_json()
    labelled_s = time.monotonic() - t0

    t1 = time.monotonic()
    model = services(app).site_models.request(site, "bench")
    adapt_s = time.monotonic() - t1
    model = services(app).site_models.version(site, model.version)
    assert model.state.value == "ready", model.error
    services(app).site_models.promote(
        store.sites.get(site.id), model.version, "bench", recalibrate=False
    )

    texts = [source.texts[i] for i in test_rows]
    y = [labels[i] for i in test_rows]
    ours = _post_all(client, key, texts, "test")
    base = _post_all(client, other_key, texts, "test")
    result = {
        "adapt_comments": len(adapt_rows),
        "test_comments": len(test_rows),
        "labelled_by": "import" if args.import_labels else "decisions",
        "seconds": {"labelling": round(labelled_s, 1), "adapt_job": round(adapt_s, 1)},
        "roc_auc_site_model": round(roc_auc_score(y, [c["scores"]["toxicity"] for c in ours]), 4),
        "roc_auc_base_model": round(roc_auc_score(y, [c["scores"]["toxicity"] for c in base]), 4),
        "model_names": sorted(
            {c["model"]["name"] for c in ours} | {c["model"]["name"] for c in base}
        ),
        "validation": {
            k: model.metrics.get(k)
            for k in ("roc_auc", "at_thresholds", "fairness", "seconds", "settings")
        },
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
