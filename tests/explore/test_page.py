"""The explorer page without a browser: self-contained, complete, written by the command and the report."""

import json
import re

import numpy as np
import pytest

from mlemap.cli.main import main
from mlemap.explore import FILENAME, page_html, write_page
from mlemap.explore.data import all_data


def test_the_page_is_self_contained():
    html = page_html()
    assert not re.search(r"(?i)\b(src|href)\s*=\s*['\"](https?:)?//", html), "no external resources"
    assert "http://" not in html and "https://" not in html
    assert not re.search(r"(?i)<link\b|<script[^>]+src=|@import|url\(", html)
    assert html.count("<script") == 2  # the data and the script, both inline


def test_the_embedded_data_are_the_data_module_exactly():
    html = page_html()
    payload = re.search(r'<script type="application/json" id="explore-data">(.*?)</script>', html, re.S).group(1)
    embedded = json.loads(payload.replace("<\\/", "</"))
    assert embedded == all_data()
    assert np.array(embedded["optim"]["x"]).shape == (1000, 2)


@pytest.mark.parametrize("element", [
    "prior_a", "prior_b", "heads", "tosses", "coin-mle", "coin-map", "coin-mean", "coin-ci-low", "coin-ci-high",
    "normal_n", "normal_xbar", "normal_sigma", "normal_mu0", "normal_tau", "normal-map", "normal-post-sd",
    "post_lambda", "post-map-1", "post-map-2", "path_alpha", "lasso-zeros", "ridge-coef-0", "lasso-coef-7",
    "opt_lr", "opt_method", "opt_batch", "opt_steps", "opt-final-1", "opt-distance",
])
def test_every_control_and_readout_is_on_the_page(element):
    assert re.search(rf"id=['\"]{re.escape(element)}['\"]", page_html())


def test_mlemap_explore_writes_the_page(tmp_path, capsys):
    code = main(["explore", "--out", str(tmp_path / "out")])
    assert code == 0
    path = tmp_path / "out" / FILENAME
    assert path.read_text(encoding="utf-8") == page_html()
    assert str(path) in capsys.readouterr().out


def test_mlemap_explore_into_an_unwritable_place_is_one_line_and_exit_2(tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    code = main(["explore", "--out", str(blocker / "sub")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("mlemap: error: ") and "--out" in err


def test_open_asks_the_browser_for_the_file(tmp_path, monkeypatch, capsys):
    opened = []
    import webbrowser

    monkeypatch.setattr(webbrowser, "open", lambda url: opened.append(url) or True)
    assert main(["explore", "--out", str(tmp_path), "--open"]) == 0
    assert opened == [(tmp_path / FILENAME).as_uri()]


def test_the_page_links_back_to_the_report_only_when_asked(tmp_path):
    assert "href='index.html'" in page_html()
    write_page(str(tmp_path), report_link=None)
    assert "index.html" not in (tmp_path / FILENAME).read_text(encoding="utf-8")
