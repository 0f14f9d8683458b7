"""`bao report`: writes the report and prints where index.html is; refuses a non-empty --out."""

from __future__ import annotations

import argparse

import pytest

from bao.cli import report
from bao.pipelines.evaluate import EvalConfig, evaluate
from bao.policies.scripted import make_agent
from tests.conftest import needs_data

pytestmark = needs_data


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bao")
    report.add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["report", *argv])


def test_report_prints_the_path_of_index_html_last(tmp_path, capsys):
    evaluate(EvalConfig(env="function", n=2), make_agent("oracle", "function"), tmp_path / "runs" / "oracle")
    out = tmp_path / "report"
    assert report.run(_args(str(tmp_path / "runs"), "--out", str(out))) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert "1 evaluation, 0 training runs, 0 sweeps" in lines[0]
    assert lines[-1] == str(out / "index.html") and (out / "index.html").is_file()
    with pytest.raises(ValueError, match="--overwrite"):
        report.run(_args(str(tmp_path / "runs"), "--out", str(out)))
    assert report.run(_args(str(tmp_path / "runs"), "--out", str(out), "--overwrite")) == 0
