"""`build_report`: tables, figures and viewer data from real run directories, nothing that points outside the
report, markup from trajectories escaped, the output directory guarded."""

from __future__ import annotations

import html
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from bao.report.build import build_report
from bao.report.tables import METRIC_COLUMNS
from tests.report.conftest import INJECTED, REFERENCE, TRAIN_W, read_js_data

MARKUP = '<img src=x onerror="alert(1)">'


class Tables(HTMLParser):
    """The rows of every `table.results` of a page, as lists of cell texts, and every src/href."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.links: list[str] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.links += [value or "" for name, value in attrs if name in ("src", "href")]
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data + " ")


def parse(report: Path) -> Tables:
    tables = Tables()
    tables.feed((report / "index.html").read_text(encoding="utf-8"))
    return tables


def result_rows(report: Path) -> list[dict[str, str]]:
    """Each results row as {column: text}, keyed by the header row before it."""
    out, header = [], None
    for row in parse(report).rows:
        if row and row[0] == "method" and "score" in row:
            header = row
        elif header and len(row) == len(header) and row[0] != "method":
            out.append(dict(zip(header, row)))
    return out


def test_results_table_has_a_row_per_evaluation_labelled_by_its_run(report):
    rows = result_rows(report)
    assert len(rows) == 5
    trained = [r for r in rows if "function-bao" in r["source"]]
    w = f"{TRAIN_W:g}"
    assert [(r["method"], r["w"], r["step"]) for r in trained] == [("bao", w, "0"), ("bao", w, "6")]
    standalone = {r["method"]: r for r in rows if "function-bao" not in r["source"]}
    assert set(standalone) == {"heuristic", "random", REFERENCE} and standalone["heuristic"]["w"] == "n/a"
    assert all(set(METRIC_COLUMNS) <= set(r) and r["episodes"] in ("6", "8") for r in rows)


def test_metrics_show_mean_and_interval_and_n_a_where_undefined(report):
    rows = {r["source"].rsplit("/", 1)[-1]: r for r in result_rows(report)}
    assert re.fullmatch(r"0\.750 \[0\.\d{3}, 0\.\d{3}\]", rows["function-heuristic"]["success"])
    assert rows["eval-step-0"]["redundant_rate"] == "n/a"  # answer-now asks nothing: no questions, no rate


def test_learning_curves_and_sweep_plots_are_saved_as_png_and_svg_and_shown(report):
    names = sorted(p.relative_to(report / "figures").as_posix() for p in (report / "figures").rglob("*.*"))
    for pattern in (r"curves-0-.*", r"sweep-0-.*/pareto_score_U", r"sweep-0-.*/pass_at_u"):
        for suffix in (".png", ".svg"):
            assert any(re.fullmatch(pattern + re.escape(suffix), n) for n in names), (pattern, suffix, names)
    images = [link for link in parse(report).links if link.endswith(".png")]
    assert len(images) == 4 and all((report / image).is_file() for image in images)


def test_report_references_nothing_outside_itself(report):
    for link in parse(report).links:
        assert not re.match(r"[a-z]+:", link) or link.startswith("data:"), link
        assert link.startswith(("#", "data:")) or (report / link).is_file(), link
    for path in [report / "index.html", report / "viewer.js", report / "style.css", *(report / "data").iterdir()]:
        text = path.read_text(encoding="utf-8")
        assert "http://" not in text and "https://" not in text, path
    for svg in (report / "figures").rglob("*.svg"):
        assert not re.search(r'(src|href)="https?:', svg.read_text(encoding="utf-8")), svg


def test_markup_in_a_trajectory_is_escaped_in_transit_and_intact_in_the_data(report):
    for path in [report / "index.html", *(report / "data").iterdir()]:
        assert "<script>alert" not in path.read_text(encoding="utf-8"), path
    index = read_js_data(report / "data" / "index.js")
    heuristic = next(e for e in index["evaluations"] if e["source"].endswith("function-heuristic"))
    episodes = read_js_data(report / heuristic["file"])["episodes"]
    assert episodes[0]["turns"][0]["reasoning"] == INJECTED


def test_markup_in_a_policy_name_is_escaped_in_the_tables(runs, tmp_path):
    shutil.copytree(runs / "eval" / "function-random", tmp_path / "runs" / "odd")
    metrics = json.loads((tmp_path / "runs" / "odd" / "metrics.json").read_text())
    (tmp_path / "runs" / "odd" / "metrics.json").write_text(json.dumps({**metrics, "policy": MARKUP}))
    build_report([tmp_path / "runs"], tmp_path / "r")
    page = (tmp_path / "r" / "index.html").read_text(encoding="utf-8")
    assert MARKUP not in page and html.escape(MARKUP) in page
    assert result_rows(tmp_path / "r")[0]["method"] == MARKUP
    assert "<img" not in (tmp_path / "r" / "data" / "index.js").read_text(encoding="utf-8")


def test_turns_of_a_training_runs_evaluation_carry_its_reward_settings(report):
    index = read_js_data(report / "data" / "index.js")
    by_source = {e["source"].rsplit("/", 1)[-1]: e for e in index["evaluations"]}
    trained, plain = by_source["eval-step-6"], by_source["function-heuristic"]
    assert f"w={TRAIN_W:g}" in trained["reward"] and "lambda_is=0.05" in trained["reward"] and plain["reward"] == ""

    def user_turn_effort(entry):
        episodes = read_js_data(report / entry["file"])["episodes"]
        return {turn["components"]["effort"] for ep in episodes for turn in ep["turns"] if turn["user"]}

    assert user_turn_effort(trained) == {-TRAIN_W}
    assert user_turn_effort(plain) == {0.0}


def test_viewer_data_are_capped_with_the_total_kept(runs, tmp_path):
    built = build_report([runs / "eval" / "function-heuristic"], tmp_path / "r", max_trajectories=3)
    data = read_js_data(tmp_path / "r" / "data" / "eval-0.js")
    assert len(data["episodes"]) == 3 and data["total"] == 8
    assert built.capped == [str(runs / "eval" / "function-heuristic")]


def test_a_non_empty_out_is_refused_unless_overwrite_which_keeps_other_files(runs, tmp_path):
    out = tmp_path / "r"
    build_report([runs / "eval"], out)
    (out / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="not empty: pass --overwrite"):
        build_report([runs / "eval"], out)
    (out / "figures").mkdir(exist_ok=True)
    (out / "figures" / "stale.png").write_text("old")
    build_report([runs / "eval"], out, overwrite=True)
    assert (out / "notes.txt").read_text() == "mine" and not (out / "figures" / "stale.png").exists()
    assert (out / "index.html").is_file()


def test_a_run_dir_with_nothing_recognisable_fails_naming_it(runs, tmp_path):
    empty = tmp_path / "empty"
    (empty / "sub").mkdir(parents=True)
    with pytest.raises(ValueError, match=f"^{re.escape(str(empty))}: no evaluation"):
        build_report([runs / "eval", empty], tmp_path / "r")
    assert not (tmp_path / "r").exists()
