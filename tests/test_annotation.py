"""Online labelling (#22): the learner-in-the-loop labeller against fixed 5 votes on real images, the
simulated people, and the adaptive verification task store under the active-learning loop."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits

from bamboo.sdk.loop import ActiveLoop, PoolImage
from bamboo.sdk.online import (
    OnlineConfig,
    OnlineResult,
    SoftmaxLearner,
    expected_risk_after,
    label_online,
    verification_prior,
)
from bamboo.sdk.tasks import TaskStore, TaskStoreAnnotator
from bamboo.sdk.votes import SimulatedWorkers, majority_vote
from tests.conftest import SHARED_DATA, task_loop


def _similarity(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    means = np.stack([x[y == c].mean(axis=0) for c in range(int(y.max()) + 1)])
    dist = ((means[:, None] - means[None]) ** 2).sum(axis=2)
    return np.exp(-dist / np.median(dist[dist > 0]))


def _fixed_five(crowd: SimulatedWorkers, truth: np.ndarray, k: int) -> np.ndarray:
    n = len(truth)
    rng = np.random.default_rng(1)
    items = np.repeat(np.arange(n), 5)
    workers = np.concatenate([rng.choice(crowd.n_workers, 5, replace=False) for _ in range(n)])
    return majority_vote(items, crowd.answer(items, workers, truth), n, k, quorum=3)


def _online_and_fixed_five(
    crowd: SimulatedWorkers, x: np.ndarray, y: np.ndarray, config: OnlineConfig
) -> tuple[OnlineResult, np.ndarray]:
    """The crowd labelling ``x`` (10 classes) online, and by five votes an image."""
    fixed = _fixed_five(crowd, y, 10)
    return label_online(lambda i, w: crowd.answer(i, w, y), len(y), 20, 10, features=x, config=config), fixed


def test_online_labelling_beats_fixed_five_with_a_fifth_of_the_answers_on_digits() -> None:
    x, y = load_digits(return_X_y=True)
    cap = 400
    crowd = SimulatedWorkers.people(_similarity(x, y), 20, seed=0)
    res, fixed = _online_and_fixed_five(crowd, x, y, OnlineConfig(risk=0.05, max_per_worker=cap))
    assert (res.labels == y).mean() >= (fixed == y).mean() + 0.05
    assert res.answers_per_item <= 1.0  # 5x fewer than fixed 5
    assert res.unanswered > 0.3  # confident images need no human answer...
    alone = res.votes_per_item == 0
    assert (res.labels[alone] == y[alone]).mean() > 0.95  # ...and they are right
    assert res.votes_per_item.max() <= 5 and np.bincount(res.workers, minlength=20).max() <= cap
    pairs = set(zip(res.items.tolist(), res.workers.tolist(), strict=True))
    assert len(pairs) == len(res.items)  # never the same worker twice on an image
    assert np.array_equal(np.bincount(res.items, minlength=len(y)), res.votes_per_item)
    spam = np.diagonal(crowd.confusion, axis1=1, axis2=2).mean(axis=1) < 0.3
    per_worker = np.bincount(res.workers, minlength=20)
    assert per_worker[spam].mean() < per_worker[~spam].mean()  # answers go to informative workers


def test_a_stricter_risk_costs_more_answers_and_is_never_less_accurate() -> None:
    x, y = load_digits(return_X_y=True)
    crowd = SimulatedWorkers.people(_similarity(x, y), 20, seed=2)
    loose, strict = (
        label_online(
            lambda i, w: crowd.answer(i, w, y),
            len(y),
            20,
            10,
            features=x,
            config=OnlineConfig(risk=r, seed=2),
        )
        for r in (0.2, 0.01)
    )
    assert strict.answers_per_item > loose.answers_per_item
    assert (strict.labels == y).mean() >= (loose.labels == y).mean()
    assert (strict.risk < 0.01).mean() > 0.95


def test_people_confuse_similar_classes_and_some_are_spammers() -> None:
    sim = np.array([[1.0, 0.9, 0.01], [0.9, 1.0, 0.01], [0.01, 0.01, 1.0]])
    crowd = SimulatedWorkers.people(sim, 40, spammers=0.1, seed=0)
    assert np.allclose(crowd.confusion.sum(axis=2), 1)
    careful = np.diagonal(crowd.confusion, axis1=1, axis2=2).mean(axis=1) > 0.4
    assert (~careful).sum() == 4
    c = crowd.confusion[careful]
    assert c[:, 0, 1].mean() > 10 * c[:, 0, 2].mean()  # class 0 is mistaken for 1, hardly for 2
    assert c[:, 0, 0].std() > 0.05  # skills differ per worker
    yn = SimulatedWorkers.yes_no(20, yes_sayers=0.2, spammers=0.1, seed=0).confusion
    spam = np.isclose(yn[:, 1, 1], 0.5)
    assert spam.sum() == 2 and ((yn[:, 0, 1] >= 0.4) & ~spam).sum() == 4  # Yes-sayers


def test_learner_fits_soft_targets_and_gain_prefers_good_workers() -> None:
    x = np.linspace(-2, 2, 40)[:, None]
    soft = np.stack([1 / (1 + np.exp(3 * x[:, 0])), 1 / (1 + np.exp(-3 * x[:, 0]))], axis=1)
    p = SoftmaxLearner(l2=1e-4).fit(x, soft).predict_proba(x)
    assert np.abs(p - soft).max() < 0.05  # it reproduces a soft target, not just its argmax
    good, yes_sayer, spammer = [[0.9, 0.1], [0.1, 0.9]], [[0.4, 0.6], [0.02, 0.98]], [[0.5, 0.5], [0.5, 0.5]]
    after = expected_risk_after(np.array([[0.5, 0.5], [0.9, 0.1]]), np.array([good, yes_sayer, spammer]))
    assert after[0].argmin() == 0 and np.isclose(after[0, 2], 0.5)
    assert np.isclose(after[1, 1], 0.1)  # a Yes-sayer cannot rescue a likely No
    prior = verification_prior(np.array([[0.1, 0.9]]), np.array([1]), np.array([False]))
    assert np.allclose(prior, [[0.95, 0.05]])  # the rectifier overrides the model


def test_binary_verification_with_a_prior_needs_few_answers() -> None:
    rng = np.random.default_rng(0)
    n = 600
    truth = (rng.random(n) < 0.6).astype(np.int64)
    logit = np.where(truth == 1, 1.5, -1.5) + rng.normal(0, 1.5, n)  # a decent, imperfect model
    prior = np.stack([1 / (1 + np.exp(logit)), 1 / (1 + np.exp(-logit))], axis=1)
    crowd = SimulatedWorkers.yes_no(20, seed=0)
    fixed = _fixed_five(crowd, truth, 2)
    res = label_online(
        lambda i, w: crowd.answer(i, w, truth), n, 20, 2, prior=prior, config=OnlineConfig(risk=0.05)
    )
    assert (res.labels == truth).mean() >= (fixed == truth).mean()
    assert res.answers_per_item < 2.5  # half of fixed 5 with this weak a prior
    sayers = crowd.confusion[:, 0, 1] >= 0.4
    est_false_yes = res.confusion[:, 0, 1]
    assert est_false_yes[sayers].mean() > est_false_yes[~sayers].mean()  # EM finds the Yes-sayers


def _verification_tasks(seed: int) -> tuple[np.ndarray, ...]:
    """Blobs of 6 classes, 600 "Is this a <query>?" tasks (60 % about their own class), an
    overconfident prior that drops a fifth of the true Yes to 0.05 (an over-eager rectifier), and
    200 labelled images (the loop's labelled set)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 1.4, (6, 8))
    y = rng.integers(0, 6, 800)
    x = centres[y] + rng.normal(0, 1, (800, 8))
    tasks, labelled = np.arange(600), np.arange(600, 800)
    query = np.where(rng.random(600) < 0.6, y[tasks], (y[tasks] + rng.integers(1, 6, 600)) % 6)
    truth = (query == y[tasks]).astype(np.int64)
    logit = np.where(truth == 1, 1.0, -1.0) * 2.5 + rng.normal(0, 2.5, 600)  # overconfident, often wrong
    p_yes = 1 / (1 + np.exp(-logit))
    p_yes = np.where((truth == 1) & (rng.random(600) < 0.2), 0.05, p_yes)
    return x[tasks], query, truth, np.stack([1 - p_yes, p_yes], axis=1), x[labelled], y[labelled]


def test_verification_calibrates_an_overconfident_prior_and_learns_from_the_answers() -> None:
    x, query, truth, prior, lx, ly = _verification_tasks(0)
    crowd = SimulatedWorkers.yes_no(20, seed=0)
    fixed = (_fixed_five(crowd, truth, 2) == truth).mean()
    ask = lambda i, w: crowd.answer(i, w, truth)  # noqa: E731
    cap = 300  # 2x a fair share of fixed 5
    capped = OnlineConfig(risk=0.05, max_per_worker=cap)
    raw = label_online(ask, 600, 20, 2, prior=prior, config=capped)
    calibrated = label_online(ask, 600, 20, 2, prior=prior, queries=query, query_classes=6, config=capped)
    learnt = label_online(
        ask,
        600,
        20,
        2,
        features=x,
        prior=prior,
        queries=query,
        query_classes=6,
        labelled=(lx, ly),
        config=capped,
    )
    acc = {
        name: (r.labels == truth).mean()
        for name, r in (("raw", raw), ("cal", calibrated), ("learnt", learnt))
    }
    assert acc["raw"] < fixed  # trusting the prior as is accepts its mistakes
    assert acc["cal"] > acc["raw"] and acc["learnt"] >= fixed
    assert learnt.answers_per_item < 1.5  # over 3x fewer than fixed 5
    assert learnt.unanswered > 0.3  # many tasks need no answer...
    alone = learnt.votes_per_item == 0
    assert (learnt.labels[alone] == truth[alone]).mean() > 0.95  # ...and those are right
    dropped = (truth == 1) & (prior[:, 1] == 0.05)
    assert learnt.posterior[dropped, 1].mean() > 0.5  # the learner rescues the rectifier's misses


def test_verification_needs_its_query_classes() -> None:
    with pytest.raises(ValueError, match="query_classes"):
        label_online(lambda i, w: i * 0, 10, 3, 2, queries=np.zeros(10, dtype=int))
    with pytest.raises(ValueError, match="n_classes=2"):
        label_online(lambda i, w: i * 0, 10, 3, 3, queries=np.zeros(10, dtype=int), query_classes=2)


@pytest.mark.shared_data("images")
def test_online_labelling_on_real_cifar10_features() -> None:
    import torch

    from bamboo.sdk.models import efficientnet_lite0
    from bamboo.training.probe import extract_features

    torch.set_num_threads(1)
    with np.load(SHARED_DATA / "images" / "cifar10_test_from_jpeg.npz") as f:
        keep = np.concatenate([np.flatnonzero(f["labels"] == c)[:40] for c in range(10)])
        images, y = f["images"][keep], f["labels"][keep].astype(np.int64)
    x = extract_features(efficientnet_lite0(), images, size=160)
    crowd = SimulatedWorkers.people(_similarity(x, y), 20, seed=0)
    res, fixed = _online_and_fixed_five(crowd, x, y, OnlineConfig(risk=0.05, dims=32))
    assert (res.labels == y).mean() >= (fixed == y).mean()
    assert res.answers_per_item < 2.5


def test_adaptive_task_store_decides_by_risk_and_serves_the_informative(tmp_path: Path) -> None:
    store = TaskStore(tmp_path / "tasks.sqlite", risk=0.05)
    assert TaskStore(store.path).adaptive  # the rule lives in the file: the service agrees
    store.add(0, ["a.jpg", "b.jpg", "c.jpg"], ["q", "q", "q"])
    ids = {t.image: t.id for t in store.tasks(0)}
    store.set_priors({ids["a.jpg"]: 0.99, ids["b.jpg"]: 0.5, ids["c.jpg"]: 0.8})
    a, b, c = (store.task(ids[k]) for k in ("a.jpg", "b.jpg", "c.jpg"))
    assert (a.decision, b.decision, c.decision) == (True, None, None)  # decided with no vote
    store.set_skills({"good": (0.95, 0.95, 50), "spam": (0.5, 0.5, 50)})
    assert store.next("spam") == []  # a spammer's answer helps no task
    assert [t.image for t in store.next("good", limit=3)] == ["b.jpg", "c.jpg"]  # the most uncertain first
    d = store.vote(ids["c.jpg"], "good", True)
    assert d.decision is True and d.yes == 1  # one good vote on a 0.8 prior: risk 0.004
    assert store.vote(ids["b.jpg"], "new", True).decision is None  # an unknown annotator: 0.8 skill
    assert store.vote(ids["b.jpg"], "good", True).decision is True
    assert store.progress() == {"tasks": 3, "decided": 3, "valid": 3, "votes": 3}
    plain = TaskStore(tmp_path / "plain.sqlite")
    plain.add(0, ["a.jpg"], ["q"])
    plain.set_priors({1: 0.99})
    assert not plain.adaptive and plain.task(1).decision is None  # 3 of 5 ignores priors


def test_loop_with_adaptive_verification_asks_fewer_votes(tmp_path: Path) -> None:
    store = TaskStore(tmp_path / "tasks.sqlite", risk=0.05)
    keys = [f"img{i}.jpg" for i in range(12)]
    truth = {k: i % 3 != 0 for i, k in enumerate(keys)}  # every third image is not a cat
    p_yes = {k: (0.97 if truth[k] else 0.5) if i < 6 else 0.5 for i, k in enumerate(keys)}

    def predict(checkpoint: str, k: list[str]) -> tuple[np.ndarray, np.ndarray]:
        return np.full((len(k), 2), 0.5), np.arange(len(k), dtype=float)[:, None] * np.ones((1, 2))

    annotator = TaskStoreAnnotator(
        store, {"cat": 0}, prior=lambda r, k, q: np.array([p_yes[x] for x in k]), calibrate_prior=False
    )

    def loop() -> ActiveLoop:
        return task_loop(tmp_path / "al", predict, annotator, cold_start=12)

    loop().add_pool([PoolImage(k, "cat") for k in keys])
    first = loop()
    first.run(1)
    assert first.awaiting is not None and first.awaiting.open_tasks == 8  # 4 confident priors decided
    crowd = ["ann0", "ann1", "ann2", "ann3"]
    votes = 0
    while any(store.next(a) for a in crowd):
        for a in crowd:
            for t in store.next(a):
                store.vote(t.id, a, truth[t.image])
                votes += 1
        annotator.refit_skills()
    assert votes < 3 * 8  # fewer than the 3 agreeing votes the 3-of-5 rule needs at least
    reports = loop().run(1)
    assert reports[0]["annotate"] == {"annotated": 12, "valid": 8}
    assert set(store.skills()) == set(crowd)  # skills persisted with the task store


@pytest.mark.parametrize("model_is_right", [False, True])
def test_loop_calibrates_the_prior_on_earlier_votes(tmp_path: Path, model_is_right: bool) -> None:
    """A round model sure of every task: an uncalibrated prior decides nothing alone; calibrated on
    the first round's votes, it decides the next round's tasks alone only if it was right."""
    rng = np.random.default_rng(0)
    truth: dict[str, bool] = {}
    raw: dict[str, float] = {}
    for i in range(80):
        key, sure_yes = f"img{i}.jpg", i % 2 == 0
        raw[key] = 0.99 if sure_yes else 0.01
        truth[key] = sure_yes if model_is_right else bool(rng.random() < 0.5)
    store = TaskStore(tmp_path / "tasks.sqlite", risk=0.05)
    annotator = TaskStoreAnnotator(store, {"cat": 0}, prior=lambda r, k, q: np.array([raw[x] for x in k]))
    first = [f"img{i}.jpg" for i in range(40)]
    waiting = annotator(0, first, ["cat"] * 40)
    assert not isinstance(waiting, list) and waiting.open_tasks == 40  # no votes yet: none decided alone
    assert store.machine_priors() == {t.id: raw[t.image] for t in store.tasks(0)}  # the raw ones kept
    for t in store.tasks(0):
        for who in ("a", "b", "c", "d", "e"):
            if store.task(t.id).decision is None:  # truthful annotators, while the task is open
                store.vote(t.id, who, truth[t.image])
    annotator.refit_skills()
    second = [f"img{i}.jpg" for i in range(40, 80)]
    waiting = annotator(1, second, ["cat"] * 40)
    if model_is_right:  # the calibrated prior stays confident: no vote needed
        assert isinstance(waiting, list) and waiting == [0 if truth[k] else None for k in second]
    else:  # a coin dressed as certainty: every task still needs votes
        assert not isinstance(waiting, list) and waiting.open_tasks == 40
        assert all(0.2 < p < 0.8 for t, p in store.priors().items() if t in {x.id for x in store.tasks(1)})
