"""The load test's report opens in a real browser (headless Chromium) from a file, with nothing
else running: the verdict and the three plots are in the page it builds, and it paints them."""

import re
import shutil
import subprocess

import numpy
import pytest
from matplotlib import image

from loadtests import report
from tests.unit.test_loadtest_report import inner, synthetic_result

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
WINDOW = (1280, 2400)
FAIL_RED = (0xC6, 0x28, 0x28)  # the FAIL verdict's background in the report's style
BROWSER_SECONDS = 60

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary found: install the Debian "
                                "package chromium to open the load test's report in a browser")


@pytest.fixture(scope="module")
def report_file(tmp_path_factory):
    """The synthetic run's report, written to a directory of its own."""
    return report.write(synthetic_result(), tmp_path_factory.mktemp("report"))


def chromium(tmp_path, *arguments: str) -> str:
    """Run headless Chromium once, as root if need be (hence no sandbox); its standard output."""
    command = [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               "--no-first-run", "--disable-extensions", "--disable-background-networking",
               f"--user-data-dir={tmp_path / 'browser-profile'}", *arguments]
    done = subprocess.run(command, capture_output=True, text=True, timeout=BROWSER_SECONDS)
    assert done.returncode == 0, f"chromium failed ({done.returncode}): {done.stderr[-2000:]}"
    return done.stdout


def test_the_browser_builds_the_page_with_the_verdict_and_three_svg_plots(report_file, tmp_path):
    dom = chromium(tmp_path, "--dump-dom", report_file.as_uri())
    assert inner(dom, "span", "verdict") == "FAIL"
    for figure in ("latency", "throughput", "errors"):
        assert re.search(r"<svg[\s>]", inner(dom, "figure", figure)), f"figure {figure} has no svg in the browser"


def test_the_browser_paints_the_report_with_its_red_fail_verdict(report_file, tmp_path):
    screenshot = tmp_path / "report.png"
    chromium(tmp_path, f"--screenshot={screenshot}", f"--window-size={WINDOW[0]},{WINDOW[1]}",
             "--hide-scrollbars", report_file.as_uri())
    pixels = numpy.round(image.imread(screenshot)[:, :, :3] * 255).astype(int)
    assert pixels.shape[:2] == (WINDOW[1], WINDOW[0])
    colours = numpy.unique(pixels.reshape(-1, 3), axis=0)
    assert len(colours) > 50, "the page painted hardly anything"
    assert (pixels == FAIL_RED).all(axis=2).sum() > 1000, "the verdict is not painted in red"
