"""File-based annotation with Label Studio: export verification tasks, import the team's answers.

Tasks use Label Studio's JSON task format (a list of ``{"id", "data": {...}}``); ``data`` holds the
``image`` (URL or path), the ``query`` word, its ``description`` and ``references`` (reference
image URLs). :data:`LABEL_CONFIG` is the matching labelling interface ("Is this a <query>?" with
Yes / No), written next to the tasks. Label Studio's JSON export (tasks with their
``annotations``) is read back; each task's answers are aggregated by majority (3 of 5 by default,
paper §4.1.5).

:class:`LabelStudioAnnotator` plugs this into :class:`~bamboo.sdk.loop.ActiveLoop`: the first time
a round is annotated it writes ``round-<r>-tasks.json`` and answers :class:`AwaitingAnnotations`
(the loop records the round as awaiting annotations and returns, with every earlier phase
committed); once ``round-<r>-export.json`` exists, running the loop again imports it and goes on.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bamboo.atomic import write_text_atomic
from bamboo.errors import MalformedFile
from bamboo.sdk.annotate import Awaiting

__all__ = [
    "LABEL_CONFIG",
    "AwaitingAnnotations",
    "LabelStudioAnnotator",
    "Task",
    "export_tasks",
    "import_answers",
]

LABEL_CONFIG = """<View>
  <Header value="Is this a $query?"/>
  <Text name="description" value="$description"/>
  <Image name="image" value="$image"/>
  <Choices name="valid" toName="image" choice="single" showInline="true" required="true">
    <Choice value="Yes" hotkey="y"/>
    <Choice value="No" hotkey="n"/>
  </Choices>
</View>
"""


@dataclass(frozen=True)
class AwaitingAnnotations(Awaiting):
    """Tasks were exported; the loop continues once their Label Studio export is in place.

    Attributes:
        tasks: The task file to import into Label Studio.
        export: Where Label Studio's JSON export of the answered tasks goes.
    """

    tasks: Path
    export: Path

    @classmethod
    def written(cls, tasks: Path, export: Path) -> AwaitingAnnotations:
        """The state after writing ``tasks``, with a message that says where the export goes."""
        return cls(
            f"annotation tasks written to {tasks}; put Label Studio's JSON export at {export}", tasks, export
        )


@dataclass(frozen=True)
class Task:
    """One verification task: "is ``image`` a ``query``?", with a description and reference images."""

    image: str
    query: str
    description: str = ""
    references: tuple[str, ...] = ()


def export_tasks(path: str | Path, tasks: Sequence[Task], *, first_id: int = 1) -> Path:
    """Write tasks in Label Studio's JSON task format, and ``label_config.xml`` beside them.

    Args:
        path: The task file (written atomically; its folder is created).
        tasks: The tasks, numbered from ``first_id``.
        first_id: The first task's id.

    Returns:
        The task file's path.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    body = [
        {
            "id": first_id + i,
            "data": {
                "image": t.image,
                "query": t.query,
                "description": t.description,
                "references": list(t.references),
            },
        }
        for i, t in enumerate(tasks)
    ]
    write_text_atomic(target, json.dumps(body, indent=1, ensure_ascii=False))
    (target.parent / "label_config.xml").write_text(LABEL_CONFIG)
    return target


def import_answers(path: str | Path) -> dict[str, list[bool]]:
    """Per task image, the annotators' Yes (True) / No (False) answers from a Label Studio JSON export.

    Raises:
        MalformedFile: not a JSON list of tasks, or an answer that is neither Yes nor No.
    """
    source = Path(path)
    try:
        tasks = json.loads(source.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MalformedFile(source, getattr(exc, "lineno", None), f"not JSON: {exc}") from exc
    if not isinstance(tasks, list):
        raise MalformedFile(source, None, "expected a JSON list of tasks")
    answers: dict[str, list[bool]] = {}
    for n, task in enumerate(tasks):
        try:
            image = str(task["data"]["image"])
            annotations: list[dict[str, Any]] = task.get("annotations") or []
        except (KeyError, TypeError) as exc:
            raise MalformedFile(source, None, f"task {n}: missing data.image") from exc
        got = answers.setdefault(image, [])
        for ann in annotations:
            if ann.get("was_cancelled"):
                continue
            for result in ann.get("result", []):
                choices = (result.get("value") or {}).get("choices") or []
                for choice in choices:
                    if choice not in ("Yes", "No"):
                        raise MalformedFile(
                            source, None, f"task {n}: answer {choice!r} is neither Yes nor No"
                        )
                    got.append(choice == "Yes")
    return answers


@dataclass
class LabelStudioAnnotator:
    """An :class:`~bamboo.sdk.loop.ActiveLoop` annotator through Label Studio's JSON files.

    Args:
        folder: Where tasks and exports live.
        query_label: Query concept -> the class index a valid image of it gets.
        quorum: Yes votes needed for a valid image.
        descriptions: Query concept -> the description shown with its tasks.
    """

    folder: Path
    query_label: dict[str, int]
    quorum: int = 3
    descriptions: dict[str, str] = field(default_factory=dict)

    def __call__(
        self, round_no: int, keys: list[str], queries: list[str]
    ) -> list[int | None] | AwaitingAnnotations:
        """The loop's ``annotate`` step for one round.

        Args:
            round_no: The round, which names the task and export files.
            keys: The sampled images.
            queries: Each image's query concept.

        Returns:
            Per image its query's label when at least ``quorum`` annotators said Yes, else
            ``None``; or :class:`AwaitingAnnotations` while the round's export is not there yet
            (the tasks are written the first time).

        Raises:
            MalformedFile: The export is unreadable or lacks some of the round's images.
        """
        tasks = Path(self.folder) / f"round-{round_no}-tasks.json"
        export = Path(self.folder) / f"round-{round_no}-export.json"
        if not export.exists():
            if not tasks.exists():
                export_tasks(
                    tasks,
                    [Task(k, q, self.descriptions.get(q, "")) for k, q in zip(keys, queries, strict=True)],
                )
            return AwaitingAnnotations.written(tasks, export)
        answers = import_answers(export)
        missing = [k for k in keys if k not in answers]
        if missing:
            raise MalformedFile(export, None, f"{len(missing)} exported tasks are missing, e.g. {missing[0]}")
        return [
            self.query_label[q] if sum(answers[k]) >= self.quorum else None
            for k, q in zip(keys, queries, strict=True)
        ]
