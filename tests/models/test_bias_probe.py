"""`python -m models.bias`: the probe's figures are the model's own scores, grouped."""

from __future__ import annotations

import json
import shutil
from statistics import mean

import pytest

from models import load_scorer
from models.bias import IDENTITIES, NAME_GROUPS, NAME_TEMPLATES, TEMPLATES, main


def test_probe_reports_each_identity_term_and_name_group(tiny_path, tmp_path) -> None:
    model = tmp_path / "model"
    shutil.copytree(tiny_path, model)
    scorer = load_scorer(model, fast=False)
    # Thresholds that hold exactly the name sentences scoring above the median.
    name_scores = {
        n: [s["toxicity"] for s in scorer.score([t.format(n) for t in NAME_TEMPLATES])]
        for names in NAME_GROUPS.values()
        for n in names
    }
    cut = sorted(x for xs in name_scores.values() for x in xs)[len(NAME_GROUPS) * 18]
    thresholds = dict.fromkeys(scorer.categories, 1.01)
    thresholds["toxicity"] = cut
    (model / "thresholds.json").write_text(json.dumps({"thresholds": thresholds}))

    out = tmp_path / "bias.json"
    main(["--model", str(model), "--json", str(out)])
    report = json.loads(out.read_text())

    assert [r["term"] for r in report["identities"]] == IDENTITIES
    gay = next(r for r in report["identities"] if r["term"] == "gay")
    texts = [t.format("gay").capitalize() for t in TEMPLATES]
    assert gay["mean_toxicity"] == pytest.approx(
        mean(s["toxicity"] for s in scorer.score(texts)), abs=1e-4
    )
    assert [r["group"] for r in report["names"]] == list(NAME_GROUPS)
    held = 0
    for row, names in zip(report["names"], NAME_GROUPS.values(), strict=True):
        women = [x for n in names[:3] for x in name_scores[n]]
        men = [x for n in names[3:] for x in name_scores[n]]
        assert row["women_mean_toxicity"] == pytest.approx(mean(women), abs=1e-4)
        assert row["men_mean_toxicity"] == pytest.approx(mean(men), abs=1e-4)
        assert row["mean_toxicity"] == pytest.approx(mean(women + men), abs=1e-4)
        assert row["max_toxicity"] == pytest.approx(max(women + men), abs=1e-4)
        share = sum(x >= cut for x in women + men) / len(women + men)
        assert row["held_share"] == pytest.approx(share, abs=1e-3)
        held += sum(x >= cut for x in women + men)
    assert held == len(name_scores) * len(NAME_TEMPLATES) // 2  # the threshold reached the file


def test_probe_reports_groups_families_and_summary_from_the_probe_half(
    tiny_path, tmp_path, capsys
) -> None:
    from models.authored import FAMILIES, GROUPS, examples
    from models.bias import BENIGN_FAMILIES, HATEFUL_FAMILIES

    model = tmp_path / "model"
    shutil.copytree(tiny_path, model)
    scorer = load_scorer(model, fast=False)
    probe = examples("probe")
    scores = scorer.score([e.text for e in probe])
    # A toxicity threshold at the median of the probe half's scores: about half held.
    cut = sorted(s["toxicity"] for s in scores)[len(scores) // 2]
    thresholds = dict.fromkeys(scorer.categories, 1.01)
    thresholds["toxicity"] = cut
    (model / "thresholds.json").write_text(json.dumps({"thresholds": thresholds}))
    held = [s["toxicity"] >= cut for s in scores]

    out = tmp_path / "bias.json"
    main(["--model", str(model), "--json", str(out)])
    report = json.loads(out.read_text())

    assert [g["group"] for g in report["groups"]] == [g.key for g in GROUPS]
    for row in report["groups"]:
        benign = [
            (s, h)
            for e, s, h in zip(probe, scores, held, strict=True)
            if e.group == row["group"] and e.family in BENIGN_FAMILIES
        ]
        hateful = [
            h
            for e, h in zip(probe, held, strict=True)
            if e.group == row["group"] and e.family in HATEFUL_FAMILIES
        ]
        assert row["benign"] == len(benign) > 0
        assert row["benign_mean_toxicity"] == pytest.approx(
            mean(s["toxicity"] for s, _ in benign), abs=1e-4
        )
        assert row["benign_mean_identity_attack"] == pytest.approx(
            mean(s["identity_attack"] for s, _ in benign), abs=1e-4
        )
        assert row["benign_held_share"] == pytest.approx(mean(h for _, h in benign), abs=1e-3)
        assert row["hateful_held_share"] == pytest.approx(mean(hateful), abs=1e-3)
    assert [f["family"] for f in report["families"]] == [f.name for f in FAMILIES]
    for row, family in zip(report["families"], FAMILIES, strict=True):
        right = [
            h == family.hold for e, h in zip(probe, held, strict=True) if e.family == family.name
        ]
        assert row["decided_right"] == pytest.approx(mean(right), abs=1e-3)
        assert row["right_decision"] == ("hold" if family.hold else "approve")
    everything = [h == e.hold for e, h in zip(probe, held, strict=True)]
    assert report["summary"]["hard_cases_decided_right"] == pytest.approx(
        mean(everything), abs=1e-4
    )
    assert 0 < report["summary"]["hateful_held_share"] < 1  # the threshold reached the file
    from models.bias import unlabelled_held_out

    expected = unlabelled_held_out(scorer.score, lambda s: s["toxicity"] >= cut)
    assert report["unlabelled_held_out"] == pytest.approx(expected, abs=2e-3)
    from models.bias import ranking

    for probe_name, aucs in ranking(scorer.score, thresholds).items():
        assert report["ranking"][probe_name] == pytest.approx(aucs, abs=2e-3)
    printed = capsys.readouterr().out
    assert "| hard-case family (probe half) |" in printed and "summary:" in printed


def test_with_fast_the_probe_scores_as_the_service_does(tiny_path, tmp_path) -> None:
    model = tmp_path / "model"
    shutil.copytree(tiny_path, model)
    out = tmp_path / "bias.json"
    main(["--model", str(model), "--json", str(out), "--fast"])
    report = json.loads(out.read_text())

    served = load_scorer(model, fast=True)
    assert report["precision"] == served.precision == "int8"
    gay = next(r for r in report["identities"] if r["term"] == "gay")
    texts = [t.format("gay").capitalize() for t in TEMPLATES]
    assert gay["mean_toxicity"] == pytest.approx(
        mean(s["toxicity"] for s in served.score(texts)), abs=1e-4
    )
    main(["--model", str(model), "--json", str(out)])
    assert json.loads(out.read_text())["precision"] == "fp32"


def test_names_from_a_list_reports_every_listed_name(tiny_path, tmp_path, capsys) -> None:
    from models import names

    model = tmp_path / "model"
    shutil.copytree(tiny_path, model)
    listed = ["tyrone", "nazia", "wei", "emily"]
    scorer = load_scorer(model, fast=False)
    shown = ["Tyrone", "Nazia", "Wei", "Emily"]
    remarks = {
        n: [s["toxicity"] for s in scorer.score([t.format(n) for t in NAME_TEMPLATES])]
        for n in shown
    }
    highest = {n: max(scores) for n, scores in remarks.items()}
    every = [x for scores in remarks.values() for x in scores]
    # Hold exactly the remarks at or above the second-highest name's highest remark: the
    # threshold sits halfway to the next score below, so that a batch scored another way
    # (float rounding in the last digits) cannot move a remark across it.
    second = sorted(highest.values())[-2]
    cut = (second + max(x for x in every if x < second - 1e-6)) / 2
    thresholds = dict.fromkeys(scorer.categories, 1.01)
    thresholds["toxicity"] = cut
    (model / "thresholds.json").write_text(json.dumps({"thresholds": thresholds}))
    list_file = tmp_path / names.NAMES_FILE
    names.FirstNames(frozenset(listed)).save(list_file)

    out = tmp_path / "bias.json"
    main(["--model", str(model), "--json", str(out), "--names-from", str(list_file)])
    report = json.loads(out.read_text())["listed_names"]
    assert report["names"] == 4 and report["remarks"] == 4 * len(NAME_TEMPLATES)
    assert report["remarks_held"] == sum(x >= cut for x in every)
    assert report["names_with_a_remark_above_half"] == sum(v > 0.5 for v in highest.values())
    top = max(highest, key=highest.__getitem__)
    assert report["highest"][0] == {"name": top, "toxicity": round(highest[top], 4)}
    assert f"with every name of {list_file} (4)" in capsys.readouterr().out

    # The same list inside the checkpoint: every listed name reads as one, so all score alike.
    shutil.copy(list_file, model / names.NAMES_FILE)
    main(["--model", str(model), "--json", str(out), "--names-from", str(list_file)])
    alike = json.loads(out.read_text())["listed_names"]["highest"]
    assert len({h["toxicity"] for h in alike}) == 1


def test_the_held_out_unlabelled_shapes_are_reported_by_the_writers_intent() -> None:
    from models.authored import GROUPS, fill
    from models.bias import unlabelled_held_out
    from models.unlabelled import templates

    hostile = {fill(t, g) for t in templates("probe", "hostile") for g in GROUPS}
    training = {fill(t, g) for t in templates("train") for g in GROUPS}
    seen: list[str] = []

    def score(texts: list[str]) -> list[dict[str, float]]:
        seen.extend(texts)
        return [{"toxicity": 1.0 if t in hostile else 0.0} for t in texts]

    def held(scores: dict[str, float]) -> bool:
        return scores["toxicity"] >= 0.5

    report = unlabelled_held_out(score, held)
    assert report["hostile"] == 6 * len(templates("probe", "hostile"))
    assert report["benign"] == 6 * len(templates("probe", "benign"))
    assert report["hostile_held_share"] == 1.0 and report["benign_held_share"] == 0.0
    assert not set(seen) & training  # only shapes no model was trained on
    assert unlabelled_held_out(score, held) == report  # the same groups every run


def test_trade_off_lowers_every_threshold_and_scores_each_sentence_once() -> None:
    from models.authored import examples
    from models.bias import BENIGN_FAMILIES, HATEFUL_FAMILIES, trade_off, unlabelled_texts

    hateful = {e.text for e in examples("probe") if e.family in HATEFUL_FAMILIES}
    benign = {e.text for e in examples("probe") if e.family in BENIGN_FAMILIES}
    hostile = set(unlabelled_texts()["hostile"])
    # Hateful 0.6, benign 0.3, the second probe's hostile 0.5 and benign 0.1, all on
    # identity_attack; toxicity scores 0.5 everywhere under a threshold nothing reaches.
    level = {
        **dict.fromkeys(benign, 0.3),
        **dict.fromkeys(hostile, 0.5),
        **dict.fromkeys(hateful, 0.6),
    }
    seen: list[str] = []

    def score(texts: list[str]) -> list[dict[str, float]]:
        seen.extend(texts)
        return [{"toxicity": 0.5, "identity_attack": level.get(t, 0.1)} for t in texts]

    rows = trade_off(score, {"toxicity": 5.0, "identity_attack": 0.8}, (1.0, 0.7, 0.6, 0.3))
    assert [r["factor"] for r in rows] == [1.0, 0.7, 0.6, 0.3]
    held = [
        (
            r["benign_held_share"],
            r["hateful_held_share"],
            r["second_benign_held_share"],
            r["second_hostile_held_share"],
        )
        for r in rows
    ]
    # 0.8 holds nothing; 0.56 the hateful; 0.48 the hostile too; 0.24 the benign as well.
    assert held == [(0, 0, 0, 0), (0, 1, 0, 0), (0, 1, 0, 1), (1, 1, 0, 1)]
    assert (
        len(seen)
        == len(set(seen))
        == len(hateful | benign) + sum(map(len, unlabelled_texts().values()))
    )


def test_ranking_is_the_roc_auc_of_hostile_above_benign_on_both_probes() -> None:
    from models.authored import examples
    from models.bias import BENIGN_FAMILIES, HATEFUL_FAMILIES, ranking, unlabelled_texts

    hateful = {e.text for e in examples("probe") if e.family in HATEFUL_FAMILIES}
    benign = {e.text for e in examples("probe") if e.family in BENIGN_FAMILIES}
    second = unlabelled_texts()
    hostile = set(second["hostile"])
    # identity_attack puts every hateful and hostile sentence above every benign one;
    # toxicity is the same for all; insult ranks the benign ones higher on both probes.
    # The decision (score over threshold) follows identity_attack: 0.9 / 0.5 beats 0.9 / 2.
    seen: list[str] = []

    def score(texts: list[str]) -> list[dict[str, float]]:
        seen.extend(texts)
        return [
            {
                "toxicity": 0.4,
                "identity_attack": 0.8 if t in hateful | hostile else 0.2,
                "insult": 0.9 if t in benign or t in second["benign"] else 0.1,
            }
            for t in texts
        ]

    aucs = ranking(score, {"toxicity": 0.8, "identity_attack": 0.5, "insult": 2.0})
    assert set(aucs) == {"first_probe", "second_probe"}
    for probe in aucs.values():
        assert probe == {"toxicity": 0.5, "identity_attack": 1.0, "insult": 0.0, "decision": 1.0}
    assert set(seen) == hateful | benign | hostile | set(second["benign"])
    # With insult's threshold low, the benign sentences' insult dominates the decision.
    low = ranking(score, {"toxicity": 0.8, "identity_attack": 0.5, "insult": 0.5})
    assert low["first_probe"]["decision"] == 0.0 and low["second_probe"]["decision"] == 0.0


def test_trade_off_at_factor_one_is_the_reports_own_figures(tiny_path, tmp_path) -> None:
    model = tmp_path / "model"
    shutil.copytree(tiny_path, model)
    scorer = load_scorer(model, fast=False)
    # A threshold at the median toxicity of the second probe, so the shares are not 0 or 1.
    from models.bias import unlabelled_texts

    texts = [t for ts in unlabelled_texts().values() for t in ts]
    cut = sorted(s["toxicity"] for s in scorer.score(texts))[len(texts) // 2]
    thresholds = dict.fromkeys(scorer.categories, 1.01)
    thresholds["toxicity"] = cut
    (model / "thresholds.json").write_text(json.dumps({"thresholds": thresholds}))

    out = tmp_path / "bias.json"
    main(["--model", str(model), "--json", str(out), "--trade-off"])
    report = json.loads(out.read_text())

    rows = report["trade_off"]
    assert [r["factor"] for r in rows] == [1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1]
    first = rows[0]
    assert first["benign_held_share"] == report["summary"]["benign_held_share"]
    assert first["hateful_held_share"] == report["summary"]["hateful_held_share"]
    second = report["unlabelled_held_out"]
    assert first["second_hostile_held_share"] == second["hostile_held_share"]
    assert first["second_benign_held_share"] == second["benign_held_share"]
    assert 0 < second["hostile_held_share"] + second["benign_held_share"] < 2
    # Lower thresholds hold at least as much of everything, and at a tenth strictly more.
    keys = ("benign_held_share", "second_benign_held_share", "second_hostile_held_share")
    for key in keys:
        shares = [r[key] for r in rows]
        assert shares == sorted(shares)
    assert sum(rows[-1][k] for k in keys[1:]) > sum(first[k] for k in keys[1:])


def test_scored_once_asks_only_for_texts_not_scored_before() -> None:
    from models.bias import scored_once

    asked: list[list[str]] = []

    def score(texts: list[str]) -> list[dict[str, float]]:
        asked.append(list(texts))
        return [{"toxicity": len(t) / 10} for t in texts]

    once = scored_once(score)
    assert once(["a", "bb", "a"]) == [{"toxicity": 0.1}, {"toxicity": 0.2}, {"toxicity": 0.1}]
    assert once(["ccc", "bb"]) == [{"toxicity": 0.3}, {"toxicity": 0.2}]
    assert once(["bb"]) == [{"toxicity": 0.2}]
    assert asked == [["a", "bb"], ["ccc"]]
