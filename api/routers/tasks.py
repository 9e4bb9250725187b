"""``/tasks``: the verification task store (paper Fig. 3b), "Is this a <concept>?" for pool images the
active-learning loop sent for annotation; decided at 3 of 5 Yes/No votes, or in an adaptive store (#22)
once the posterior risk is below the store's threshold, which every task and decision reports with its
P(yes) (``bamboo.graph.tasks.db``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field

from bamboo.api.deps import get_settings, keyed_post
from bamboo.api.settings import ServiceSettings
from bamboo.errors import FileRefused
from bamboo.graph.tasks.db import TaskStore, VerificationTask
from bamboo.graph.tasks.images import read_image

router = APIRouter(prefix="/tasks", tags=["tasks"])


async def get_task_store(request: Request) -> TaskStore:
    """The app's verification task store; 503 when the service runs without one."""
    store: TaskStore | None = getattr(request.app.state, "tasks", None)
    if store is None:
        raise HTTPException(503, "no verification task store: start the service with BAMBOO_TASKS_DB")
    return store


Tasks = Annotated[TaskStore, Depends(get_task_store)]
TaskId = Annotated[int, Path(ge=1, le=2**62, description="Task id")]  # SQLite integers are 64-bit
Round = Annotated[int | None, Query(ge=0, le=2**31)]


class TaskOut(BaseModel):
    """A verification task: its query concept, image and the votes so far."""

    id: int
    round: int
    query: str = Field(examples=["wn:n02084071"])
    query_name: str = Field(examples=["dog"])
    description: str
    image_url: str = Field(description="the image, served through /tasks/{id}/image")
    yes: int
    no: int
    decision: bool | None
    p_yes: float | None = Field(
        description="adaptive stores: posterior P(Yes), the machine prior times the answers' likelihoods; "
        "null in a 3-of-5 store"
    )
    risk: float | None = Field(description="adaptive stores: min(P(yes), P(no)); null in a 3-of-5 store")
    max_risk: float | None = Field(description="adaptive stores: decided once risk is below this")


class AnswerIn(BaseModel):
    """One annotator's Yes/No answer to a task."""

    annotator: str = Field(min_length=1, max_length=100, pattern=r"^[\w.@+-]+$", examples=["ann-1"])
    value: bool = Field(description="Yes: the image shows the query concept, usable for training")


class DecisionOut(BaseModel):
    """A task's votes and its decision so far (null while undecided)."""

    task: int
    yes: int
    no: int
    decision: bool | None
    p_yes: float | None = Field(description="adaptive stores: posterior P(Yes) after the answer")
    risk: float | None = Field(description="adaptive stores: min(P(yes), P(no)) after the answer")


class ProgressOut(BaseModel):
    """Counts of tasks, decided tasks, valid (Yes-decided) tasks and votes."""

    tasks: int
    decided: int
    valid: int
    votes: int


def _out(t: VerificationTask) -> TaskOut:
    # Every field but the image's URL is the task's attribute of the same name.
    same = {name: getattr(t, name) for name in TaskOut.model_fields if name != "image_url"}
    return TaskOut(image_url=f"/tasks/{t.id}/image", **same)


@router.get("/next", response_model=list[TaskOut], summary="Undecided tasks this annotator has not answered")
def next_tasks(
    tasks: Tasks,
    annotator: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 1,
) -> list[TaskOut]:
    """Up to ``limit`` undecided tasks that ``annotator`` has not answered yet."""
    return [_out(t) for t in tasks.next(annotator, limit)]


@router.get("/progress", response_model=ProgressOut, summary="Tasks, decided, valid and votes so far")
def progress(tasks: Tasks, round: Round = None) -> ProgressOut:  # noqa: A002
    """How many tasks there are, how many are decided and valid, and how many votes were cast.

    ``round`` restricts the counts to one active-learning round.
    """
    return ProgressOut(**tasks.progress(round))


@router.get("/references", response_model=list[TaskOut], summary="Images verified as showing a concept")
def references(
    tasks: Tasks, concept: Annotated[str, Query(min_length=1)], limit: Annotated[int, Query(ge=1, le=20)] = 4
) -> list[TaskOut]:
    """Up to ``limit`` tasks whose image was verified as showing ``concept``."""
    return [_out(t) for t in tasks.references(concept, limit)]


@router.get("/{task_id}", response_model=TaskOut, summary="One task")
def get_task(task_id: TaskId, tasks: Tasks) -> TaskOut:
    """One task by id; 404 when there is none."""
    return _out(tasks.task(task_id))


@router.get("/{task_id}/image", summary="The task's image (a local file, or a redirect to its URL)")
def task_image(
    task_id: TaskId, tasks: Tasks, settings: Annotated[ServiceSettings, Depends(get_settings)]
) -> Response:
    """The task's image: the file itself, or a redirect when it is a URL.

    A local image must resolve (links followed) to a regular image file inside the task image
    folders (``BAMBOO_TASK_IMAGE_ROOTS``, else the task store's folder), of at most
    ``BAMBOO_TASK_IMAGE_MAX_BYTES``: 403 otherwise (a link out of them, a folder, a FIFO, a path
    with ``..``). 404 when the task is unknown or its image file is missing.
    """
    image = tasks.task(task_id).image
    if image.startswith(("http://", "https://")):
        return RedirectResponse(image)
    try:
        found = read_image(image, settings.task_image_folders(), max_bytes=settings.task_image_max_bytes)
    except FileNotFoundError:
        raise HTTPException(404, f"task {task_id}: its image file is missing") from None
    except FileRefused as exc:
        raise HTTPException(403, f"task {task_id}: image refused: {exc}") from None
    return Response(found.data, media_type=found.media_type, headers={"X-Content-Type-Options": "nosniff"})


@keyed_post(router, "/{task_id}/votes", "Answer a task Yes/No (a re-answer replaces)", DecisionOut)
def vote(task_id: TaskId, answer: AnswerIn, tasks: Tasks) -> DecisionOut:
    """Record an annotator's Yes/No answer and answer the task's decision so far.

    A second answer by the same annotator replaces the first. Needs the API key (401/403). 404 when
    the task is unknown; 409 when it is already decided.
    """
    d = tasks.vote(task_id, answer.annotator, answer.value)
    return DecisionOut(task=d.task, yes=d.yes, no=d.no, decision=d.decision, p_yes=d.p_yes, risk=d.risk)
