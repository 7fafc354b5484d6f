"""The annotator's side of the loop in a real browser: pre-annotations shown, a label added by hand, pulled back out.

Drives Debian's chromium (``scripts/system-deps.sh`` installs it; Playwright's own browser download is not used)
against the session's Label Studio. Screenshots go to ``$TREFFPUNKT_TEST_ARTIFACTS/browser/`` (default
``test-artifacts/browser/`` in the repository); when a step fails, the page's screenshot and HTML are saved there too.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from treffpunkt.annotation.ingest import corpus
from treffpunkt.annotation.labelstudio.project import iter_tasks
from treffpunkt.annotation.labelstudio.pull import pull
from treffpunkt.annotation.labelstudio.push import push

REPO = Path(__file__).resolve().parents[3]
SEED = "000_a2d15fba213d09cb.txt"  # the Gerassimow/Pavel phone call
PHRASE = "Petr Pavel"  # labelled by hand in the browser; the model below does not predict it
MODEL_VERSION = "ruler-001"
PREDICTED = {("Gerassimow", "PER"), ("Moskau", "GPE"), ("Verteidigungsministerium", "ORG")}
# Generous: CI runs this on 2 cores next to Label Studio, and the first page load compiles the frontend bundle.
TIMEOUT_MS = 120_000


# Client rectangle of the first occurrence of a phrase inside Label Studio's text view (scrolled into view first).
PHRASE_RECT_JS = """(phrase) => {
  const root = document.querySelector('.lsf-htx-richtext');
  if (!root) return null;
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const at = node.data.indexOf(phrase);
    if (at < 0) continue;
    node.parentElement.scrollIntoView({block: 'center'});
    const range = document.createRange();
    range.setStart(node, at);
    range.setEnd(node, at + phrase.length);
    const rects = range.getClientRects();
    const first = rects[0], last = rects[rects.length - 1];
    return {x0: first.left, y0: first.top + first.height / 2, x1: last.right, y1: last.top + last.height / 2};
  }
  return null;
}"""


def artifacts_dir() -> Path:
    """Where screenshots go: $TREFFPUNKT_TEST_ARTIFACTS/browser (CI uploads the folder), else test-artifacts/browser."""
    root = Path(os.environ.get("TREFFPUNKT_TEST_ARTIFACTS") or REPO / "test-artifacts")
    folder = root / "browser"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextmanager
def saved_on_failure(page, step: str) -> Iterator[None]:
    """Keep the page's screenshot and HTML when a step fails, so a CI failure can be read afterwards."""
    try:
        yield
    except BaseException:
        folder = artifacts_dir()
        try:
            page.screenshot(path=str(folder / f"failed-{step}.png"), full_page=True)
            (folder / f"failed-{step}.html").write_text(page.content(), encoding="utf-8")
        except Exception as err:  # the browser may be gone; the original error matters more
            print(f"could not save the failed page for step {step!r}: {err}")
        raise


def ruler_model(models_dir: Path) -> Path:
    """A model version (a spaCy pipeline directory) whose predictions are known in advance: an entity ruler."""
    import spacy

    nlp = spacy.blank("de")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([{"label": label, "pattern": text} for text, label in sorted(PREDICTED)])
    path = models_dir / MODEL_VERSION
    nlp.to_disk(path)
    return path


@pytest.mark.browser
@pytest.mark.studio
def test_browser_annotator_sees_preannotations_adds_per_and_pull_converts_it(
    studio, studio_ws, studio_project, seeds_dir, browser
):
    import spacy
    from spacy.tokens import DocBin

    # --- a seed article in the corpus, pushed with the model's pre-annotations
    report = corpus.add(studio_ws, [seeds_dir / SEED], options=corpus.IngestOptions(progress=False))
    assert report.corpus_size == 1
    article = corpus.load_articles(studio_ws)[0]
    assert PHRASE in article.text
    ruler_model(studio_ws.models_dir)
    pushed = push(studio_ws, model=MODEL_VERSION)
    assert (pushed.imported, pushed.model_version) == (1, MODEL_VERSION)
    (task,) = list(iter_tasks(studio.client(), studio_project.id))
    folder = artifacts_dir()

    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        # --- log in as the generated admin
        with saved_on_failure(page, "login"):
            page.goto(f"{studio.url}/user/login", wait_until="domcontentloaded")
            page.locator("input#email").fill(studio.username)
            page.locator("input#password").fill(studio.password)
            with page.expect_navigation(wait_until="domcontentloaded"):
                page.locator("button[type=submit]").click()
            assert "/user/login" not in page.url, "still on the login page: the generated credentials were refused"
            page.screenshot(path=str(folder / "01-after-login.png"))

        # --- the task opens with the model's regions already drawn, and the prediction has its own tab
        with saved_on_failure(page, "preannotations"):
            page.goto(f"{studio.url}/projects/{studio_project.id}/data?task={task.id}", wait_until="domcontentloaded")
            text_view = page.locator(".lsf-htx-richtext")
            text_view.wait_for()
            prediction_tab = page.locator(".lsf-annotation-button__name", has_text=MODEL_VERSION)
            prediction_tab.first.wait_for()
            highlights = text_view.locator(".htx-highlight")
            highlights.first.wait_for()
            shown = {
                (h.inner_text().strip(), (h.get_attribute("data-label") or "").split(":")[-1]) for h in highlights.all()
            }
            assert shown == PREDICTED
            # one highlight per occurrence in the article
            expected = sum(article.text.count(text) for text, _ in PREDICTED)
            assert highlights.count() == expected
            page.screenshot(path=str(folder / "02-task-with-preannotations.png"))

        # --- select PER, drag over the phrase with the mouse, submit
        with saved_on_failure(page, "label"):
            per = page.locator(".lsf-label", has=page.locator(".lsf-label__text", has_text="PER")).first
            per.click()
            rect = page.evaluate(PHRASE_RECT_JS, PHRASE)
            assert rect is not None, f"{PHRASE!r} not found in the task's text view"
            page.mouse.move(rect["x0"] + 1, rect["y0"])
            page.mouse.down()
            page.mouse.move(rect["x1"] - 1, rect["y1"], steps=8)
            page.mouse.up()
            new_region = text_view.locator(".htx-highlight", has_text=PHRASE)
            new_region.first.wait_for()
            assert new_region.first.inner_text().strip() == PHRASE
            assert (new_region.first.get_attribute("data-label") or "").endswith(":PER")

        with saved_on_failure(page, "submit"):
            submit = page.locator('[data-testid="bottombar-submit-button"]')
            with page.expect_response(
                lambda r: r.request.method == "POST" and f"/api/tasks/{task.id}/annotations" in r.url
            ) as created:
                submit.click()
            assert created.value.status == 201, created.value.text()
            page.get_by_text("Annotation saved successfully").first.wait_for()
            page.screenshot(path=str(folder / "03-after-submit.png"))
    finally:
        context.close()

    # --- pull: the raw export and the converted DocBins hold the hand-made PER next to the accepted predictions
    result = pull(studio_ws)
    assert result.tasks == 1
    nlp = spacy.blank("de")
    docs = [
        doc
        for split in ("train", "dev", "test")
        if (result.converted_dir / f"{split}.spacy").exists()
        for doc in DocBin().from_disk(result.converted_dir / f"{split}.spacy").get_docs(nlp.vocab)
    ]
    assert [d.user_data["meta"]["article_id"] for d in docs] == [article.id]
    (doc,) = docs
    ents = {(e.text, e.label_) for e in doc.ents}
    assert (PHRASE, "PER") in ents
    assert ents == PREDICTED | {(PHRASE, "PER")}
    (pavel,) = [e for e in doc.ents if e.text == PHRASE]
    start = article.text.index(PHRASE)
    assert (pavel.start_char, pavel.end_char) == (start, start + len(PHRASE))
