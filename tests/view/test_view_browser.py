"""`harness view` in a real browser: headless Chromium (Debian's package) driven by Selenium
through chromium-driver, against the viewer served by uvicorn on 127.0.0.1.

One walk through the main flows: list -> run -> samples (a cross-system filter, a text search)
-> one example side by side -> compare -> a flipped example -> trends; with markup in the
model output, the dataset input, the contexts, a score reason and the suite name, none of which
may run or become elements, and no console error (a CSP violation would log one).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

CHROMIUM, DRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM.exists() and DRIVER.exists()),
    reason="needs /usr/bin/chromium and /usr/bin/chromedriver (apt-get install -y chromium chromium-driver)",
)
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (the dev extra has it)")
pytest.importorskip("uvicorn")

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402

from harness.run import RunView  # noqa: E402
from harness.store.database import RunStore  # noqa: E402
from harness.store.write import add_run  # noqa: E402
from harness.view.app import create_app  # noqa: E402
from harness.view.synthetic import Spec, write_run  # noqa: E402

SUITE = 'support <i id="suite-markup">bot</i>'


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    import uvicorn

    root = tmp_path_factory.mktemp("browser")
    runs = {
        "base": write_run(root / "base", Spec(run_id="base1111", suite=SUITE, n_examples=30, seed=1, commit="c1" * 20,
                                              started_at="2026-04-01T09:00:00+00:00", payload=True)),
        "new": write_run(root / "new", Spec(run_id="new22222", suite=SUITE, n_examples=30, seed=2, commit="c2" * 20,
                                            started_at="2026-04-02T09:00:00+00:00", payload=True, accuracy={"rag": 0.9})),
    }
    with RunStore.open(str(root / "store.db")) as store:
        for path in runs.values():
            add_run(store, path)
    store = RunStore.open(str(root / "store.db"), readonly=True)
    config = uvicorn.Config(create_app(store), host="127.0.0.1", port=0, log_level="warning", access_log=False)
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not running.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    port = running.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}", runs
    running.should_exit = True
    thread.join(timeout=10)
    store.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-dev-shm-usage", "--window-size=1400,1000",
                f"--user-data-dir={tmp_path_factory.mktemp('profile')}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        driver = webdriver.Chrome(service=Service(str(DRIVER)), options=options)
    except Exception as error:  # noqa: BLE001 - a browser that cannot start here is a skip, with the reason
        pytest.skip(f"headless Chromium did not start: {str(error).splitlines()[0]}")
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def go(driver, element) -> None:
    """Click a link or a submit button and wait for the next page: without the wait, a lookup
    can still find the old page's elements, which go stale under it."""
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    old = driver.find_element(By.TAG_NAME, "html")
    element.click()
    WebDriverWait(driver, 30).until(expected_conditions.staleness_of(old))
    WebDriverWait(driver, 30).until(lambda d: d.execute_script("return document.readyState") == "complete")


def untouched(driver) -> None:
    """No injected markup ran or became an element, and the console is clean."""
    assert "pwned" not in driver.title
    assert driver.execute_script("return document.body.id") != "pwned"
    assert driver.find_elements(By.CSS_SELECTOR, "img[src='x'], #suite-markup") == []
    problems = [entry for entry in driver.get_log("browser") if entry["level"] in ("SEVERE", "WARNING")]
    assert problems == [], problems


def test_list_run_samples_example_compare_trend(server, browser):
    base_url, runs = server
    driver = browser
    driver.get(base_url + "/")
    assert "Runs" in driver.title
    links = driver.find_elements(By.CSS_SELECTOR, "a.run-link")
    assert [link.text for link in links] == ["new22222", "base1111"]
    assert SUITE in driver.find_element(By.ID, "runs").text  # the suite name, as text
    untouched(driver)

    go(driver, links[0])  # -> the run
    assert driver.find_element(By.TAG_NAME, "h1").text.startswith(SUITE)
    results = driver.find_element(By.ID, "results")
    assert "contains_answer ↑" in results.text and len(results.find_elements(By.CSS_SELECTOR, "tbody tr")) == 3
    assert results.find_elements(By.CSS_SELECTOR, "td.best")
    untouched(driver)

    go(driver, driver.find_element(By.LINK_TEXT, "Samples"))  # -> samples, filtered across systems
    rows = {}
    for row in RunView.open(runs["new"]).rows():
        score = row["scores"]["contains_answer"]
        rows.setdefault(row["example"]["id"], {})[row["system"]] = score["value"] if score["status"] == "ok" else None
    expected = [e for e, s in rows.items() if s["rag"] == 0 and s["oracle"] == 1]
    where = driver.find_element(By.NAME, "where")
    where.clear()
    where.send_keys("rag.contains_answer = 0 and oracle.contains_answer = 1")
    go(driver, driver.find_element(By.CSS_SELECTOR, "#filters button[type=submit]"))
    assert driver.find_element(By.ID, "count").text.startswith(f"{len(expected)} of 30 examples match")
    assert [a.text for a in driver.find_elements(By.CSS_SELECTOR, "a.example-link")] == expected
    untouched(driver)

    where = driver.find_element(By.NAME, "where")  # -> text search for the example carrying the payload
    where.clear()
    search = driver.find_element(By.NAME, "q")
    search.send_keys("pwned")
    go(driver, driver.find_element(By.CSS_SELECTOR, "#filters button[type=submit]"))
    assert [a.text for a in driver.find_elements(By.CSS_SELECTOR, "a.example-link")] == ["q00000"]
    go(driver, driver.find_element(By.CSS_SELECTOR, "a.example-link"))  # -> side by side
    columns = driver.find_elements(By.CSS_SELECTOR, "section.column")
    assert [c.get_attribute("data-system") for c in columns] == ["prompt", "rag", "oracle"]
    assert '<script>document.title="pwned"</script>' in driver.find_element(By.ID, "input").text
    outputs = driver.find_elements(By.CSS_SELECTOR, "pre.output")
    assert all('<script>document.title="pwned"</script>' in o.text for o in outputs)
    assert driver.find_elements(By.CSS_SELECTOR, ".context.relevant .relevant-badge") or rows["q00000"]["oracle"] == 0
    untouched(driver)

    go(driver, driver.find_element(By.LINK_TEXT, "Compare"))  # -> compare the two runs
    Select(driver.find_element(By.NAME, "base")).select_by_value("base1111")
    Select(driver.find_element(By.NAME, "new")).select_by_value("new22222")
    go(driver, driver.find_element(By.CSS_SELECTOR, "#pick button[type=submit]"))
    deltas = driver.find_element(By.ID, "deltas")
    assert "contains_answer ↑" in deltas.text and "error_rate ↓" in deltas.text
    flips = driver.find_elements(By.CSS_SELECTOR, "a.flip-link")
    assert flips
    flipped = flips[0].text
    go(driver, flips[0])  # -> the flipped example, both runs side by side
    assert driver.find_element(By.TAG_NAME, "h1").text.startswith(f"Example {flipped}")
    assert len(driver.find_elements(By.CSS_SELECTOR, "section.column")) == 6
    untouched(driver)

    go(driver, driver.find_element(By.LINK_TEXT, "Trends"))  # -> a metric across the suite's runs
    Select(driver.find_element(By.NAME, "metric")).select_by_value("token_f1")
    Select(driver.find_element(By.NAME, "by")).select_by_value("commit")
    go(driver, driver.find_element(By.CSS_SELECTOR, "#trend-form button[type=submit]"))
    chart = driver.find_element(By.ID, "trend-chart")
    assert len(chart.find_elements(By.TAG_NAME, "circle")) == 6
    assert "c1c1c1c1" in chart.text and "c2c2c2c2" in chart.text
    assert [r.text.split()[0] for r in driver.find_elements(By.CSS_SELECTOR, "#trend-table tbody tr")] == ["new22222", "base1111"]
    untouched(driver)


def test_the_decision_section_renders_under_the_csp(server, browser):
    """The run page's Decision section is styled from /decision.css (the CSP allows no inline
    style), and its example ids open the side-by-side view."""
    base_url, _ = server
    browser.get(base_url + "/runs/base1111")
    box = browser.find_element(By.CSS_SELECTOR, "#decision .recommendation")
    assert box.text.startswith("Recommendation.")
    assert box.value_of_css_property("background-color") == "rgba(232, 245, 233, 1)"
    swatch = browser.find_element(By.CSS_SELECTOR, "#decision .swatch")
    assert swatch.value_of_css_property("display") == "inline-block"
    link = browser.find_element(By.CSS_SELECTOR, "#decision .ids a")
    example_id = link.get_attribute("textContent")
    browser.get(link.get_attribute("href"))
    assert "/example?id=" in browser.current_url and example_id in browser.page_source
    untouched(browser)


def decoded(driver, image) -> int:
    """The image's decoded width, once loaded (the viewer's charts load lazily: scrolled to)."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.execute_script("arguments[0].scrollIntoView()", image)
    WebDriverWait(driver, 30).until(lambda d: d.execute_script("return arguments[0].complete", image))
    return int(driver.execute_script("return arguments[0].naturalWidth", image))


def test_charts_load_in_the_viewer_and_in_report_html(server, browser):
    """The SVG charts decode as images under both CSPs: the viewer's (served from the run's
    charts/) and report.html's (data URIs)."""
    from harness.report import write_reports

    base_url, runs = server
    write_reports(runs["base"])
    browser.get(base_url + "/runs/base1111")
    images = browser.find_elements(By.CSS_SELECTOR, ".charts img")
    assert len(images) >= 3 and all(decoded(browser, i) > 100 for i in images)
    untouched(browser)
    browser.get((runs["base"] / "report.html").resolve().as_uri())
    images = browser.find_elements(By.CSS_SELECTOR, "img")
    assert len(images) >= 4 and all(decoded(browser, i) > 100 for i in images)
    untouched(browser)
