"""Machine-learning models: `load_scorer()` gives the toxicity scorer the service runs.

Importing this package does not import torch; `load_scorer` does when it loads the
torch model. The int8 fast path runs in ONNX Runtime when it is installed (no
torch in the serving process at all) and in torch otherwise.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from models.labels import CATEGORIES

if TYPE_CHECKING:
    from models.windows import WindowScorer

__all__ = ["CATEGORIES", "DEFAULT_MODEL_PATH", "ENGINES", "load_scorer"]

DEFAULT_MODEL_PATH = Path(__file__).resolve().parent / "minilm-toxicity"
# Which runtime serves the int8 fast path: ONNX Runtime where installed, else torch.
# (The service's settings, MODERATION_FAST_PATH and MODERATION_FAST_ENGINE, are read in
# api/config.py and passed in: this package reads no setting of its own.)
ENGINES = ("auto", "onnxruntime", "torch")


def calibrated_thresholds(path: str | Path) -> dict[str, float]:
    """A checkpoint's default hold threshold per category (its `thresholds.json`, written
    by `models.calibrate`), or {} where it ships none."""
    file = Path(path) / "thresholds.json"
    return dict(json.loads(file.read_text())["thresholds"]) if file.exists() else {}


def fast_engine(engine: str = "auto") -> str:
    """The runtime the int8 fast path will use: 'onnxruntime' or 'torch'."""
    from models import onnx

    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    if engine == "auto":
        return "onnxruntime" if onnx.available() else "torch"
    return engine


def prepare(path: str | Path | None = None, *, fast: bool = True, engine: str = "auto") -> str:
    """Get a server's master ready to fork workers; return the runtime that will serve.

    Makes the ONNX export if the fast path will use ONNX Runtime (in a child process),
    then imports what is safe to import before a fork (torch and transformers' code,
    or the tokenizers library; no model, tensors or thread pools), so the forked
    workers share those pages instead of each importing its own copy.
    Returns 'onnxruntime' or 'torch'.
    """
    path = Path(path or DEFAULT_MODEL_PATH)
    if fast and fast_engine(engine) == "onnxruntime":
        from models import onnx

        if onnx.ensure_export(path) is not None:
            # Not onnxruntime itself: importing it starts a native thread that a forked
            # child does not have, and the child then aborts at exit (std::system_error)
            # trying to join it. Its library pages are shared through the page cache
            # anyway; each worker imports it when it loads the model.
            import tokenizers  # noqa: F401

            return "onnxruntime"
    from transformers.models.bert import modeling_bert  # noqa: F401  the shipped architecture

    import models.scorer  # noqa: F401  torch and transformers

    return "torch"


def load_scorer(
    path: str | Path | None = None,
    *,
    fast: bool = False,
    threads: int | None = None,
    verify: bool = True,
    batch_size: int | None = None,
    engine: str = "auto",
    long_pass_threads: int | None = None,
) -> WindowScorer:
    """Load a scorer from a checkpoint folder (default: the shipped one).

    `fast` selects the int8 model (the service passes MODERATION_FAST_PATH, default on); with `verify` (the default) it serves only if
    it agrees with fp32 on PARITY_TEXTS, else the fp32 model is returned.
    `engine` picks the fast path's runtime (`ENGINES`; auto: ONNX Runtime when
    installed). An ONNX export that
    cannot be made falls back to the torch fast path, with a warning.
    `batch_size` caps the windows per forward pass, and so peak activation memory.
    `long_pass_threads` (ONNX Runtime only) runs passes of 256 padded tokens or more
    on that many threads, the rest on `threads`.
    """
    path = Path(path or DEFAULT_MODEL_PATH)
    scorer = _transformer(path, fast, threads, verify, batch_size, engine, long_pass_threads)
    return _with_text_parts(scorer, path)


def _with_text_parts(scorer: WindowScorer, path: Path) -> WindowScorer:
    """The checkpoint's n-gram head and first-name list, if it has them, on its scorer.

    They join after the int8 parity check: that check compares transformers, and
    both are the same code on every engine.
    """
    from models import names, ngrams

    scorer.text_head = ngrams.find(path)
    scorer.first_names = names.find(path)
    return scorer


def _transformer(
    path: Path,
    fast: bool,
    threads: int | None,
    verify: bool,
    batch_size: int | None,
    engine: str,
    long_pass_threads: int | None,
) -> WindowScorer:
    options: dict[str, Any] = {"batch_size": batch_size} if batch_size else {}
    if fast and fast_engine(engine) == "onnxruntime":
        wide = {"long_pass_threads": long_pass_threads} if long_pass_threads else {}
        scorer = _onnx_fast(path, threads or 1, verify, {**options, **wide})
        if scorer is not None:
            return scorer
    import torch

    from models.scorer import TransformersScorer

    if threads is not None:
        torch.set_num_threads(threads)  # process-wide: one inference thread per worker
    if not fast:
        return TransformersScorer.from_pretrained(path, **options)
    if not verify:
        return TransformersScorer.from_pretrained(path, fast=True, **options)
    return _verified_fast(path, options)


# Comments of our own, benign and toxic, short and long, in English and in the five other
# languages we serve: the int8 model must agree with the fp32 one on them before it is
# allowed to serve.
PARITY_TEXTS = (
    "Thanks for the update on the bridge repairs.",
    "I disagree with the council's decision, but the article explains it well.",
    "You are a pathetic idiot and nobody wants you here.",
    "Shut up, you worthless piece of garbage.",
    "I will find where you live and make you pay for this.",
    "People like you from that country are all criminals.",
    "What the hell is wrong with this damn schedule?",
    "Lovely photos of the harbour at dawn.",
    "This is the dumbest thing I have read all year, and the writer should be ashamed.",
    "Could someone explain how the new parking fees are calculated? " * 6,
    # The languages the multilingual model serves (models/multilingual-toxicity).
    "Danke für den Bericht über die neue Radbrücke am Hafen.",
    "Du bist ein erbärmlicher Idiot, verschwinde endlich.",
    "Gracias por explicar tan bien los cambios en el horario del tren.",
    "Cállate, imbécil, nadie quiere leer tus tonterías.",
    "Merci pour cet article clair sur la rénovation de la gare.",
    "Ferme-la, espèce d'abruti, personne ne t'a rien demandé.",
    "Bellissime le foto del mercato in piazza questa mattina.",
    "Sei un idiota patetico e nessuno ti vuole qui.",
    "Obrigado pela reportagem sobre a nova biblioteca do bairro.",
    "Cala a boca, seu lixo, ninguém aguenta você.",
)
PARITY_LIMIT = 0.02  # mean absolute difference of probabilities


def _onnx_fast(
    path: Path, threads: int, verify: bool, options: dict[str, Any]
) -> WindowScorer | None:
    """The ONNX Runtime int8 scorer, or None when it cannot serve (then torch does).

    With `verify`, an export that differs from fp32 by more than PARITY_LIMIT on
    PARITY_TEXTS (scored here, against fp32 scores recorded at export) is refused.
    """
    import logging

    from models import onnx

    logger = logging.getLogger(__name__)
    folder = onnx.ensure_export(path)
    if folder is None:
        logger.warning("no ONNX export of %s: the fast path runs in torch", path)
        return None
    scorer = onnx.OnnxScorer.from_export(folder, threads=threads, verify=verify, **options)
    if verify and scorer.parity_mae is not None and scorer.parity_mae > PARITY_LIMIT:
        logger.warning(
            "ONNX int8 scorer differs from fp32 by %.4f (limit %.2f): serving torch",
            scorer.parity_mae,
            PARITY_LIMIT,
        )
        return None
    return scorer


def _verified_fast(path: str | Path, options: dict[str, Any]) -> WindowScorer:
    """The int8 scorer if it matches fp32 within PARITY_LIMIT on PARITY_TEXTS, else fp32.

    One model in memory: the fp32 model scores PARITY_TEXTS, is quantized in place
    and scores them again. Only when that fails is fp32 loaded a second time.
    """
    import logging

    from models.scorer import TransformersScorer, mean_abs_diff

    scorer = TransformersScorer.from_pretrained(path, **options)
    reference = scorer.score(PARITY_TEXTS)
    scorer.quantize()
    mae = mean_abs_diff(reference, scorer.score(PARITY_TEXTS))
    if mae > PARITY_LIMIT:
        logging.getLogger(__name__).warning(
            "int8 scorer differs from fp32 by %.4f (limit %.2f): serving fp32", mae, PARITY_LIMIT
        )
        scorer = TransformersScorer.from_pretrained(path, **options)
    scorer.parity_mae = mae
    return scorer


ADAPTED_EXPORT = "onnx"  # the int8 export's folder inside an adapted checkpoint's folder


def export_adapted(path: str | Path) -> dict[str, Any]:
    """Export an adapted checkpoint to int8 ONNX beside it (PATH/onnx), with the parity record."""
    from models import onnx

    path = Path(path)
    return onnx.export(path, path / ADAPTED_EXPORT)


def load_adapted(
    path: str | Path,
    *,
    name: str,
    version: str,
    fast: bool = True,
    engine: str = "auto",
    threads: int | None = None,
    batch_size: int | None = None,
) -> WindowScorer:
    """Load a site's adapted checkpoint the way `load_scorer` loads the base model.

    The int8 ONNX export made at training (PATH/onnx) serves when ONNX Runtime is
    installed and it agrees with fp32 within PARITY_LIMIT on PARITY_TEXTS; otherwise
    the torch scorer (int8 if it passes the same check, else fp32). `name` and
    `version` are what responses report.
    """
    import logging

    from models import onnx

    path = Path(path)
    options: dict[str, Any] = {"batch_size": batch_size} if batch_size else {}
    scorer: WindowScorer | None = None
    folder = path / ADAPTED_EXPORT
    if fast and fast_engine(engine) == "onnxruntime" and onnx.read_meta(folder) is not None:
        candidate = onnx.OnnxScorer.from_export(folder, threads=threads or 1, **options)
        if candidate.parity_mae is not None and candidate.parity_mae <= PARITY_LIMIT:
            scorer = candidate
        else:
            logging.getLogger(__name__).warning(
                "ONNX int8 export of %s differs from fp32 by %s: serving torch",
                path,
                candidate.parity_mae,
            )
    if scorer is None:
        scorer = _transformer(path, fast, threads, True, batch_size, "torch", None)
    scorer.name, scorer.version = name, version
    return _with_text_parts(scorer, path)
