"""``/tasks``: the verification task store (paper Fig. 3b), "Is this a <concept>?" for pool images the
active-learning loop sent for annotation; decided at 3 of 5 Yes/No votes (``bamboo.graph.tasks``)."""

from __future__ import annotations

import mimetypes
from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from bamboo.api.deps import require_api_key
from bamboo.graph.tasks import TaskStore, VerificationTask

router = APIRouter(prefix="/tasks", tags=["tasks"])


async def get_task_store(request: Request) -> TaskStore:
    store: TaskStore | None = getattr(request.app.state, "tasks", None)
    if store is None:
        raise HTTPException(503, "no verification task store: start the service with BAMBOO_TASKS_DB")
    return store


Tasks = Annotated[TaskStore, Depends(get_task_store)]
TaskId = Annotated[int, Path(ge=1, le=2**62, description="Task id")]  # SQLite integers are 64-bit
Round = Annotated[int | None, Query(ge=0, le=2**31)]


class TaskOut(BaseModel):
    id: int
    round: int
    query: str = Field(examples=["wn:n02084071"])
    query_name: str = Field(examples=["dog"])
    description: str
    image_url: str = Field(description="the image, served through /tasks/{id}/image")
    yes: int
    no: int
    decision: bool | None


class AnswerIn(BaseModel):
    annotator: str = Field(min_length=1, max_length=100, pattern=r"^[\w.@+-]+$", examples=["ann-1"])
    value: bool = Field(description="Yes: the image shows the query concept, usable for training")


class DecisionOut(BaseModel):
    task: int
    yes: int
    no: int
    decision: bool | None


class ProgressOut(BaseModel):
    tasks: int
    decided: int
    valid: int
    votes: int


def _out(t: VerificationTask) -> TaskOut:
    return TaskOut(
        id=t.id,
        round=t.round,
        query=t.query,
        query_name=t.query_name,
        description=t.description,
        image_url=f"/tasks/{t.id}/image",
        yes=t.yes,
        no=t.no,
        decision=t.decision,
    )


@router.get("/next", response_model=list[TaskOut], summary="Undecided tasks this annotator has not answered")
def next_tasks(
    tasks: Tasks,
    annotator: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 1,
) -> list[TaskOut]:
    return [_out(t) for t in tasks.next(annotator, limit)]


@router.get("/progress", response_model=ProgressOut, summary="Tasks, decided, valid and votes so far")
def progress(tasks: Tasks, round: Round = None) -> ProgressOut:  # noqa: A002
    return ProgressOut(**tasks.progress(round))


@router.get("/references", response_model=list[TaskOut], summary="Images verified as showing a concept")
def references(
    tasks: Tasks, concept: Annotated[str, Query(min_length=1)], limit: Annotated[int, Query(ge=1, le=20)] = 4
) -> list[TaskOut]:
    return [_out(t) for t in tasks.references(concept, limit)]


@router.get("/{task_id}", response_model=TaskOut, summary="One task")
def get_task(task_id: TaskId, tasks: Tasks) -> TaskOut:
    return _out(tasks.task(task_id))


@router.get("/{task_id}/image", summary="The task's image (a local file, or a redirect to its URL)")
def task_image(task_id: TaskId, tasks: Tasks) -> Response:
    image = tasks.task(task_id).image
    if image.startswith(("http://", "https://")):
        return RedirectResponse(image)
    path = FilePath(image)
    kind = mimetypes.guess_type(path.name)[0] or ""
    if not kind.startswith("image/") or not path.is_file():
        raise HTTPException(404, f"task {task_id}: image {image} is not a readable image file")
    return FileResponse(path)


@router.post(
    "/{task_id}/votes",
    response_model=DecisionOut,
    dependencies=[Depends(require_api_key)],
    summary="Answer a task Yes/No (a re-answer replaces); returns the decision so far",
)
def vote(task_id: TaskId, answer: AnswerIn, tasks: Tasks) -> DecisionOut:
    d = tasks.vote(task_id, answer.annotator, answer.value)
    return DecisionOut(task=d.task, yes=d.yes, no=d.no, decision=d.decision)
