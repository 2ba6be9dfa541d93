import base64
import copy
import re
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from custintel.pipeline import CrossSellResult
from custintel.report import SECTIONS, render_report, write_report

pytestmark = pytest.mark.slow  # each report draws about a dozen plots


class _Page(HTMLParser):
    """Collect headings, action lines, image sources and tags of a report."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.images: list[str] = []
        self.sections: list[str] = []
        self.actions: list[str] = []
        self._in_action = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if tag == "img":
            self.images.append(a["src"])
        if tag == "section":
            self.sections.append(a["id"])
        if tag == "p" and a.get("class") == "action":
            self._in_action = True
            self.actions.append("")

    def handle_endtag(self, tag):
        if tag == "p":
            self._in_action = False

    def handle_data(self, data):
        if self._in_action:
            self.actions[-1] += data


def _parse(path: Path) -> tuple[str, _Page]:
    text = path.read_text(encoding="utf-8")
    page = _Page()
    page.feed(text)
    return text, page


def _assert_self_contained(text: str, page: _Page) -> None:
    assert "http://" not in text and "https://" not in text
    assert "//" not in re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", text).replace(
        "<!DOCTYPE", ""
    )
    for tag in ("script", "link", "iframe", "object", "embed", "audio", "video", "source"):
        assert tag not in page.tags
    assert "@import" not in text and "url(" not in text and "@font-face" not in text
    for src in page.images:
        assert src.startswith("data:image/png;base64,")
        png = base64.b64decode(src.split(",", 1)[1], validate=True)
        assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_full_report_has_every_section_with_its_plots(full_report, ci_full):
    text, page = _parse(full_report)
    assert page.sections == [key for key, _ in SECTIONS if key != "promotions"]
    assert len(page.actions) == 10 and all(len(a) > 30 for a in page.actions)
    # Months, cohorts, regions, Pareto, ABC, whale, segment bars, RFM heatmap, migration,
    # gains, calibration, CLV distribution and the tracking plot.
    assert len(page.images) == 14
    _assert_self_contained(text, page)
    assert "not available" not in text
    assert "could not be computed" not in text
    for title in (
        "Data overview",
        "Data quality",
        "What cleaning did",
        "Cohort retention",
        "Regions",
        "Action lists",
        "Whale curve",
        "Migration",
        "Out-of-time backtest",
        "Model choice on the holdout",
        "Example recommendations",
    ):
        assert f">{title}<" in text
    assert ci_full.data_quality[0].split(";")[0] in text


def test_action_lines_are_computed_from_the_data(full_report, ci_full):
    _, page = _parse(full_report)
    overview, _, _, _, pareto, segments, churn, clv, crosssell, _ = page.actions
    # 400 customers in the fixture; one duplicate warning.
    assert overview.startswith("400 customers placed 2,010 orders")
    assert "check the 1 data-quality warning below" in overview
    # Top 20% = the 80 customers with the most margin, recomputed from the summary.
    margin = ci_full.customers.summary["total_margin"].clip(lower=0).sort_values(ascending=False)
    share = margin.iloc[:80].sum() / margin.sum()
    assert pareto.startswith(
        f"The top 20% of customers bring {round(100 * share)}% of margin: protect them first."
    )
    # Observation end 2024-12-30 minus 180 days; the first two segments are the best.
    moved = ci_full.segments.migration.moved_down
    fell = moved["before"].isin(["Champions", "Loyal"]).sum()
    assert 0 < fell < len(moved)
    assert segments.startswith(
        f"{len(moved)} customers moved to a worse segment since 2024-07-03: win back the "
        f"{fell} who were 'Champions' or 'Loyal' first, and keep '"
    )
    auc = ci_full.churn.backtest.metrics.loc["ChurnClassifier", "roc_auc"]
    assert f"AUC {auc:.2f}" in churn
    total = ci_full.scores["expected_clv"].sum()
    assert clv.startswith(f"Customers are expected to bring {total:,.0f} over the next 180 days")
    rules = ci_full.cross_sell.rules
    best = rules.loc[(rules["support"] * rules["lift"]).idxmax()]
    assert f"also buy {' + '.join(sorted(best['consequents']))}" in crosssell
    assert f"({best['lift']:.1f}× the usual rate)" in crosssell


def test_missing_optional_parts_become_notes(minimal_report, ci_minimal):
    text, page = _parse(minimal_report)
    assert page.sections == [key for key, _ in SECTIONS if key != "promotions"]
    _assert_self_contained(text, page)
    for because in (
        "whale curve is not available because the data has no cost column",
        "migration is not available because the history is shorter",
        "backtest is not available because the history is too short",
        "Cross-sell is not available because the data has no item column",
        "cleaning ledger is not available because this result was built without one",
        "breakdown by region is not available because the data has no region column",
    ):
        assert because in text
    assert "could not be computed" not in text
    # Months, cohorts, Pareto, ABC, segment bars, RFM heatmap, CLV distribution and the
    # tracking plot, drawn here by decile of prediction since the holdout table has no
    # calibration frequency.
    assert len(page.images) == 9
    assert "decile of prediction" in text
    _, quality, _, regions, _, segments, churn, _, crosssell, _ = page.actions
    assert quality.startswith("No cleaning ledger was recorded for this run")
    assert regions.startswith("Map a region or country column")
    assert segments.startswith("Keep '")
    # Without a backtest the churn line says so (its wording is tested in test_headlines).
    assert "backtest" in churn
    assert crosssell.startswith("Map an item column")


def test_text_from_the_data_is_escaped(ci_minimal, ci_full):
    rules = ci_full.cross_sell.rules.copy()
    rules["lift"] = rules["lift"].astype(float)
    rules.loc[rules.index[0], "lift"] = 1e6  # make it the headline rule
    rules.at[rules.index[0], "consequents"] = ("<script>alert(1)</script>",)
    recommender = copy.copy(ci_full.cross_sell.recommender)
    recommender.rules_ = rules
    ci = replace(
        ci_minimal,
        cross_sell=CrossSellResult(recommender, 0.02),
        data_quality=["rows <b>bold</b> & co"],
    )
    text = render_report(ci)
    assert "<script>" not in text and "<b>bold</b>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "rows &lt;b&gt;bold&lt;/b&gt; &amp; co" in text


def test_a_broken_part_becomes_a_note_not_a_crash(ci_minimal, caplog):
    ci = replace(
        ci_minimal,
        # cannot transform: only the heatmap is lost
        segments=replace(ci_minimal.segments, rfm=object()),
        # malformed: no "chosen"
        clv=replace(ci_minimal.clv, selection=pd.DataFrame({"holdout_mae": [np.nan]})),
    )
    text = render_report(ci)
    assert "The RFM heatmap is not available because it could not be computed" in text
    assert text.count("could not be computed") == 1
    assert "report: The RFM heatmap could not be shown" in caplog.text


def test_unfitted_input_is_a_clear_error():
    with pytest.raises(ValueError, match=r"needs a fitted CustomerIntelligence.*call \.fit"):
        render_report(SimpleNamespace(overview_={"n_customers": 1}))


def test_write_report_into_a_directory_and_leaves_pyplot_alone(
    ci_minimal, minimal_report, tmp_path
):
    plt = pytest.importorskip("matplotlib.pyplot")
    before = plt.get_fignums()
    backend = plt.get_backend()
    path = write_report(ci_minimal, tmp_path)
    assert path == tmp_path / "report.html"
    assert plt.get_fignums() == before and plt.get_backend() == backend
    assert path.read_text(encoding="utf-8") == minimal_report.read_text(encoding="utf-8")


def test_report_size_is_reasonable(full_report, minimal_report):
    # Ten PNGs at 90 dpi: a few hundred kB, never megabytes.
    assert 100_000 < full_report.stat().st_size < 1_500_000
    assert minimal_report.stat().st_size < full_report.stat().st_size


def test_report_of_a_real_customer_intelligence(pipeline_report):
    text, page = _parse(pipeline_report)
    assert pipeline_report.name == "report.html"
    assert page.sections == [key for key, _ in SECTIONS]
    _assert_self_contained(text, page)
    # Items, costs, promotions and two years of history: every part is there, nothing failed.
    assert "not available" not in text
    assert "could not be computed" not in text
    assert len(page.images) == 15
    assert page.actions[0].startswith("300 customers placed")
    promotions = page.actions[[key for key, _ in SECTIONS].index("promotions")]
    assert "buy mostly on deals" in promotions and "full-price customers" in promotions
    assert "churn window and CLV horizon 120 days" in text


def test_missing_matplotlib_is_a_clear_error(ci_minimal, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "matplotlib" else real(name, *a),
    )
    with pytest.raises(ImportError, match=r"pip install 'custintel\[plot\]'"):
        render_report(ci_minimal)
