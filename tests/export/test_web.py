"""The web page: the user's exported network live in a real browser
(headless Chromium driven by Selenium), run by ONNX Runtime Web."""

import importlib.util
import itertools
import json
import os
import shutil
import threading

import numpy as np
import pytest
from PIL import Image

from kerascnn.export import export_model
from kerascnn.zoo import create_model
from tests.conftest import ROOT, read_idx, shared

WEB = ROOT / "export" / "web"
webdriver = pytest.importorskip("selenium.webdriver")


def _browser_and_driver():
    chromium = next(
        (shutil.which(n) for n in ("chromium", "google-chrome") if shutil.which(n)), None
    )
    driver = shutil.which("chromedriver")
    if chromium is None or driver is None:
        pytest.skip("needs Chromium and chromedriver (Debian: chromium, chromium-driver)")
    if not (WEB / "node_modules" / "onnxruntime-web").is_dir():
        pytest.skip("needs onnxruntime-web: npm ci in export/web (.ci/run does)")
    return chromium, driver


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """lenet5.mnist exported with feature maps, served with the page."""
    chromium, driver_path = _browser_and_driver()
    out = tmp_path_factory.mktemp("web") / "export"
    export_model(
        create_model("lenet5.mnist"), out, formats="onnx", feature_maps=True, progress=False
    )
    spec = importlib.util.spec_from_file_location("kerascnn_web_serve", WEB / "serve.py")
    serve = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(serve)
    server = serve.serve(out, port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--no-first-run",
        "--window-size=1200,1400",
    ):  # fmt: skip
        options.add_argument(flag)
    browser = webdriver.Chrome(options=options, service=webdriver.ChromeService(driver_path))
    yield browser, f"http://127.0.0.1:{server.server_port}/?model=model/model.opset17.onnx", out
    browser.quit()
    server.shutdown()


def _wait_for(browser, script, timeout=60):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, timeout).until(lambda b: b.execute_script(script))


def _open(browser, url):
    browser.get(url)
    assert _wait_for(browser, "return document.body.dataset.ready !== 'no'") is True
    assert browser.execute_script("return document.body.dataset.ready") == "yes", (
        browser.find_element("id", "status").text
    )


def test_drawing_a_seven_shows_seven_and_every_feature_map(page):
    from selenium.webdriver.common.action_chains import ActionChains

    browser, url, _ = page
    _open(browser, url)
    pad = browser.find_element("id", "pad")
    # A "7", as a hand draws it on the 280x280 pad: the bar, then the stem
    # (offsets from the pad's centre), in small moves like a real stroke.
    stroke = [(-75, -85)] + [(-75 + 15 * k, -85) for k in range(1, 11)]
    stroke += [(75 - 9 * k, -85 + 18 * k) for k in range(1, 11)]
    actions = ActionChains(browser, duration=10).move_to_element_with_offset(pad, *stroke[0])
    actions.click_and_hold()
    for (x0, y0), (x1, y1) in itertools.pairwise(stroke):
        actions.move_by_offset(x1 - x0, y1 - y0)
    actions.release().perform()
    _wait_for(browser, "return Number(document.body.dataset.runs || 0) >= 5")
    _wait_for(browser, "return document.body.dataset.mapsDrawn !== undefined")
    state = browser.execute_script("return {...document.body.dataset}")
    assert state["topClass"] == "7", state
    # Every block's convolution, rectified map and pooled map: 2 blocks x 3.
    assert state["mapsDrawn"] == "6/6"
    canvases = browser.find_elements("css selector", "#steps canvas")
    assert [c.get_attribute("data-layer") for c in canvases] == [
        "block1_conv1", "block1_relu1", "block1_pool",
        "block2_conv1", "block2_relu1", "block2_pool",
    ]  # fmt: skip
    assert all(c.get_attribute("data-drawn") == "yes" for c in canvases)
    labels = browser.find_elements("css selector", "#steps .step > strong")
    assert [label.text for label in labels] == ["Block 1", "Block 2"]
    assert "ms" in browser.find_element("id", "timing").text
    screenshot = os.environ.get("KERASCNN_WEB_SCREENSHOT")
    if screenshot:  # for the docs: KERASCNN_WEB_SCREENSHOT=docs/web-page.png
        browser.save_screenshot(screenshot)


def test_a_real_digit_gets_onnx_runtimes_probabilities(page, tmp_path):
    import onnxruntime

    browser, url, out = page
    _open(browser, url)
    digits = read_idx(shared("mnist") / "t10k-images-idx3-ubyte.gz")
    path = tmp_path / "digit.png"
    Image.fromarray(digits[1]).save(path)  # a 2
    browser.find_element("id", "picker").send_keys(str(path))
    _wait_for(browser, "return Number(document.body.dataset.runs || 0) >= 1")
    in_page = np.array(
        json.loads(browser.execute_script("return document.body.dataset.probabilities"))
    )
    session = onnxruntime.InferenceSession(str(out / "model.opset17.onnx"))
    pixels = digits[1].astype("float32")[None, :, :, None]
    (expected,) = session.run(["predictions"], {"image": pixels})
    assert np.abs(in_page - expected[0]).max() <= 1e-4
    assert browser.execute_script("return document.body.dataset.topClass") == "2"
