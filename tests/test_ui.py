"""The web UI in a real headless Chromium (Debian's chromium + chromedriver, driven by Selenium)
against a real uvicorn server over the WordNet graph: explorer, tagging and verification screens,
layout at 1280x800 and on a narrow window, labels and focus order. Screenshots go to
``test-artifacts/ui/`` (BAMBOO_TEST_ARTIFACTS to move them)."""

from __future__ import annotations

import importlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import neo4j
import pytest

from bamboo.graph.store.graph_store import GraphStore
from bamboo.sdk.tasks import TaskStore
from tests.conftest import API_KEY, ServerInfo, serve_app, service_settings
from tests.test_tasks import CAT, DOG, photo_files

# Under CI a missing selenium is a failure, not a skipped module.
webdriver = (
    importlib.import_module("selenium.webdriver")
    if os.environ.get("CI")
    else pytest.importorskip("selenium.webdriver")
)
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

GOLDEN = "wn:n02099601"
CHROMIUM, DRIVER = (
    shutil.which("chromium") or "/usr/bin/chromium",
    shutil.which("chromedriver") or "/usr/bin/chromedriver",
)
ARTIFACTS = (
    Path(os.environ.get("BAMBOO_TEST_ARTIFACTS", Path(__file__).resolve().parents[1] / "test-artifacts"))
    / "ui"
)

pytestmark = pytest.mark.skipif(
    not (Path(CHROMIUM).exists() and Path(DRIVER).exists()) and not os.environ.get("CI"),
    reason="chromium and chromium-driver are not installed (Debian: apt install chromium chromium-driver)",
)


@pytest.fixture(scope="module")
def ui(
    server: ServerInfo, driver: neo4j.Driver, rw_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, TaskStore]]:
    from bamboo.api import create_app

    # a Chinese label, as a Wikidata sync writes them (labels_<lang>), for the multilingual search
    driver.execute_query(
        "MATCH (c:Concept {id: $id}) SET c.labels_zh = $labels",
        id=GOLDEN,
        labels=["金毛寻回犬"],
        database_=rw_database,
    )
    # and, as every write through the store does, a new graph version (a service started at the
    # old one would otherwise restart from its saved view, without the label)
    GraphStore(driver, rw_database).set_meta("graph.version", "ui-test-zh-label")

    folder = tmp_path_factory.mktemp("ui-tasks")
    store = TaskStore(folder / "tasks.sqlite")
    images = photo_files(folder)
    store.add(
        2,
        images[:2],
        [CAT, DOG],
        names={CAT: "cat", DOG: "dog"},
        descriptions={CAT: "feline mammal usually having thick soft fur", DOG: "a member of the genus Canis"},
    )
    settings = service_settings(server, rw_database, api_key=API_KEY, tasks_db=store.path)
    with serve_app(create_app(settings)) as url:
        yield url, store


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,800",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=DRIVER))
    driver.set_window_size(1280, 800)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()


def wait(driver: Any, condition: Any, timeout: float = 60) -> Any:
    return WebDriverWait(driver, timeout).until(condition)


def text_in(css: str, text: str) -> Any:
    return ec.text_to_be_present_in_element((By.CSS_SELECTOR, css), text)


def shot(driver: Any, name: str) -> None:
    assert driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))


def sign_in(driver: Any, annotator: str) -> None:
    box = driver.find_element(By.ID, "annotator")
    box.clear()
    box.send_keys(annotator, Keys.TAB)  # "change" fires on leaving the field
    key = driver.find_element(By.ID, "apikey")
    key.clear()
    key.send_keys(API_KEY, Keys.TAB)


def test_search_open_concept_and_go_to_parent(ui: tuple[str, TaskStore], browser: Any) -> None:
    url, _ = ui
    browser.get(f"{url}/ui/")
    box = wait(browser, ec.element_to_be_clickable((By.ID, "q")))
    box.send_keys("golden retriever", Keys.ENTER)
    link = wait(
        browser,
        ec.element_to_be_clickable((By.CSS_SELECTOR, '#results a[href="/ui/concept/wn%3An02099601"]')),
    )
    shot(browser, "1-search")
    link.click()
    wait(browser, text_in("h1", "golden retriever"))
    crumbs = browser.find_element(By.CSS_SELECTOR, "nav.crumbs").text
    assert crumbs.startswith("entity") and "retriever" in crumbs  # breadcrumbs of ancestors
    datasets = browser.find_element(By.CSS_SELECTOR, "section[aria-labelledby=h-datasets] table").text
    assert "toy-cls" in datasets and "class 0" in datasets  # the dataset class with its index
    assert "hypernym" in browser.find_element(By.CSS_SELECTOR, "section[aria-labelledby=h-parents]").text
    shot(browser, "2-concept")
    parent = browser.find_element(By.CSS_SELECTOR, "section[aria-labelledby=h-parents] a")
    assert parent.text == "retriever"
    parent_url = parent.get_attribute("href")
    parent.click()
    wait(browser, text_in("h1", "retriever"))
    assert browser.current_url == parent_url  # the address is the concept's deep link
    children = browser.find_element(By.ID, "children").text
    assert "golden retriever" in children and "descendants" in children
    browser.find_element(By.CSS_SELECTOR, ".tree summary").click()  # the tree view loads children on open
    wait(browser, text_in(".tree ul", "golden retriever"))
    shot(browser, "3-parent")
    browser.back()
    wait(browser, text_in("h1", "golden retriever"))
    browser.get(f"{url}/ui/concept/wn:n02084071")  # a deep link
    wait(browser, text_in("h1", "dog"))
    browser.get(f"{url}/ui/")  # multilingual: a Chinese prefix, Chinese labels only
    Select(wait(browser, ec.element_to_be_clickable((By.ID, "lang")))).select_by_value("zh")
    browser.find_element(By.ID, "q").send_keys("金毛", Keys.ENTER)
    wait(browser, text_in("#results", "matched “金毛寻回犬” (zh"))
    shot(browser, "3b-search-zh")
    browser.find_element(
        By.CSS_SELECTOR, f'#results a[href="/ui/concept/{GOLDEN.replace(":", "%3A")}"]'
    ).click()
    wait(browser, text_in("section[aria-labelledby=h-labels]", "金毛寻回犬"))
    browser.get(f"{url}/ui/concept/wn:n99999999")
    wait(browser, text_in("h1", "Not found"))


def test_third_tag_vote_decides(ui: tuple[str, TaskStore], browser: Any) -> None:
    url, _ = ui
    concept = next(
        c
        for c in (
            "wn:n02110958",
            "wn:n02113023",
            "wn:n02112018",
            "wn:n02111889",
        )  # pug, corgi, pomeranian, samoyed
        if httpx.get(f"{url}/concepts/{c}/tags").json()["visual"]["yes"] == 0
        and httpx.get(f"{url}/concepts/{c}/tags").json()["visual"]["no"] == 0
    )
    browser.get(f"{url}/ui/tag?concept={concept}")
    wait(browser, text_in("#question", "visual concept"))
    # a concept without reference images shows none, not the word "null" (replaceChildren's text of null)
    assert "null" not in browser.find_element(By.ID, "card").text.split()
    for n, who in enumerate(("ui-ann-1", "ui-ann-2", "ui-ann-3"), 1):
        sign_in(browser, who)  # a new annotator reloads the screen with their own view
        wait(browser, text_in("#progress", f"{n - 1} yes"))
        browser.find_element(By.TAG_NAME, "body").send_keys("y")  # the keyboard shortcut
        expected = "decided: visual" if n == 3 else "undecided"
        wait(browser, text_in("#last-decision", f"{n} yes, 0 no — {expected}"))
        shot(browser, f"4-tag-vote-{n}")
    assert httpx.get(f"{url}/concepts/{concept}/tags").json()["visual"]["decision"] is True
    browser.get(f"{url}/ui/concept/{concept}")
    wait(browser, text_in("#tags", "visual: yes (3 yes, 0 no"))
    browser.get(f"{url}/ui/tag")  # the queue: one concept at a time
    wait(browser, text_in("#question", "visual concept"))
    assert "concepts waiting" in browser.find_element(By.ID, "progress").text


def test_answer_a_verification_task(ui: tuple[str, TaskStore], browser: Any) -> None:
    url, store = ui
    browser.get(f"{url}/ui/verify")
    sign_in(browser, "ui-verifier")
    wait(browser, text_in("#question", "Is this a cat?"))
    image = browser.find_element(By.CSS_SELECTOR, "#card img")
    wait(
        browser,
        lambda d: d.execute_script("return arguments[0].complete && arguments[0].naturalWidth", image) > 0,
    )
    assert "feline" in browser.find_element(By.ID, "card").text  # the description
    shot(browser, "5-verify")
    browser.find_element(By.ID, "yes").click()
    wait(browser, text_in("#last-decision", "Task 1 (cat): 1 yes, 0 no — undecided"))
    wait(browser, text_in("#question", "Is this a dog?"))
    browser.find_element(By.TAG_NAME, "body").send_keys("n")
    wait(browser, text_in("#last-decision", "Task 2 (dog): 0 yes, 1 no"))
    wait(browser, text_in("#card", "No tasks need your answer."))
    assert (store.task(1).yes, store.task(2).no) == (1, 1)  # written back to the task store
    assert "0 of 2 tasks decided" in browser.find_element(By.ID, "progress").text
    shot(browser, "6-verify-done")


@pytest.mark.parametrize("width", [1280, 420])
def test_layout_labels_and_focus_order(ui: tuple[str, TaskStore], browser: Any, width: int) -> None:
    url, _ = ui
    browser.set_window_size(width, 800)
    try:
        for path, ready in (
            ("/ui/concept/wn:n02084071", "h1"),
            ("/ui/tag", "#question"),
            ("/ui/verify", "#card"),
        ):
            browser.get(url + path)
            wait(browser, ec.presence_of_element_located((By.CSS_SELECTOR, ready)))
            shot(browser, f"7-{path.strip('/').replace('/', '-').replace(':', '')}-{width}")
            overflow = browser.execute_script(
                "return document.documentElement.scrollWidth - window.innerWidth"
            )
            assert overflow <= 1, f"{path} scrolls sideways at {width} px"
            unlabeled = browser.execute_script(
                "return [...document.querySelectorAll('input, select, textarea')]"
                ".filter(e => !e.labels.length && !e.getAttribute('aria-label')).map(e => e.id)"
            )
            assert unlabeled == [], f"{path}: controls without a label {unlabeled}"
        browser.get(f"{url}/ui/")
        wait(browser, ec.presence_of_element_located((By.ID, "q")))
        first = browser.execute_script(
            "return document.querySelector("
            "'a[href], button, input, select, summary, [tabindex]:not([tabindex=\"-1\"])')"
        )
        assert first.text == "" and first.get_attribute("class") == "skip"  # the skip link comes first
        browser.execute_script("arguments[0].focus()", first)
        order = ["Skip to content"]
        for _ in range(7):
            browser.switch_to.active_element.send_keys(Keys.TAB)
            el = browser.switch_to.active_element
            order.append(el.get_attribute("id") or el.text)
        # header in reading order, then the page: the search box
        assert order == [
            "Skip to content",
            "Bamboo",
            "nav-explore",
            "nav-tag",
            "nav-verify",
            "annotator",
            "apikey",
            "q",
        ]
    finally:
        browser.set_window_size(1280, 800)


def test_adaptive_verification_shows_the_risk_then_p_yes(
    server: ServerInfo, browser: Any, tmp_path: Path
) -> None:
    """An adaptive store (#22): the card shows how far the task is from decided (not which way it
    leans, which would anchor the annotator); P(yes) comes after the answer."""
    from bamboo.api import create_app

    store = TaskStore(tmp_path / "adaptive.sqlite", risk=0.05)
    store.add(1, photo_files(tmp_path)[:1], [CAT], names={CAT: "cat"})
    store.set_priors({1: 0.7})
    store.set_skills({"ui-adaptive": (0.9, 0.9, 40)})
    settings = service_settings(server, server.database, api_key=API_KEY, tasks_db=store.path)
    with serve_app(create_app(settings)) as url:
        browser.get(f"{url}/ui/verify")
        sign_in(browser, "ui-adaptive")
        wait(browser, text_in("#task-meta", "risk 0.300, decided below 0.05"))
        assert "P(yes)" not in browser.find_element(By.ID, "card").text
        browser.find_element(By.ID, "no").click()
        # 0.7 x 0.1 / (0.7 x 0.1 + 0.3 x 0.9): the prior times the annotator's likelihood of No
        wait(
            browser,
            text_in("#last-decision", "Task 1 (cat): 0 yes, 1 no — undecided (P(yes) 0.21, risk 0.206)"),
        )
        wait(browser, text_in("#card", "No tasks need your answer."))
    assert store.task(1).no == 1
