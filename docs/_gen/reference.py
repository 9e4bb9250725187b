"""Writes the REST and CLI reference pages from the code at docs build time (mkdocs-gen-files).

The REST page renders the FastAPI app's own OpenAPI schema (``create_app().openapi()`` needs no
database: the driver is opened only when the app starts serving); the CLI page is typer's own Markdown
for the ``bamboo`` command (what ``typer bamboo.cli utils docs`` prints). The schema is also written
as ``reference/openapi.json``.
"""

from __future__ import annotations

import json
from typing import Any

import click
import mkdocs_gen_files
import typer.cli
import typer.main

from bamboo.api import create_app
from bamboo.cli import app as cli_app

METHODS = ("get", "post", "put", "patch", "delete")


def _cell(text: object) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _schema_name(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f"[`{name}`](#{name.lower()})"
    if schema.get("type") == "array" and "items" in schema:
        return f"array of {_schema_name(schema['items'])}"
    if "anyOf" in schema:
        return " or ".join(_schema_name(s) for s in schema["anyOf"])
    return f"`{schema.get('type', 'object')}`"


def _operation(path: str, method: str, op: dict[str, Any]) -> list[str]:
    out = [f"### `{method.upper()} {path}`", ""]
    if op.get("summary"):
        out += [f"**{op['summary']}**", ""]
    if op.get("description"):
        out += [op["description"].strip(), ""]
    params = op.get("parameters", [])
    if params:
        out += ["| parameter | in | type | required | default | description |", "|---|---|---|---|---|---|"]
        for p in params:
            schema = p.get("schema", {})
            default = f"`{json.dumps(schema['default'])}`" if "default" in schema else ""
            required = "yes" if p.get("required") else ""
            out.append(
                f"| `{p['name']}` | {p['in']} | {_schema_name(schema)} | {required} "
                f"| {default} | {_cell(p.get('description', ''))} |"
            )
        out.append("")
    body = op.get("requestBody", {}).get("content", {})
    for media, content in body.items():
        out += [f"Request body ({media}): {_schema_name(content.get('schema', {}))}", ""]
    out += ["| status | meaning | body |", "|---|---|---|"]
    for status, response in op.get("responses", {}).items():
        content = response.get("content", {})
        kinds = ", ".join(
            f"{media}: {_schema_name(c['schema'])}" if c.get("schema") else media
            for media, c in content.items()
        )
        out.append(f"| {status} | {_cell(response.get('description', ''))} | {kinds} |")
    return [*out, ""]


def _schema(name: str, schema: dict[str, Any]) -> list[str]:
    out = [f"### {name}", ""]
    if schema.get("description"):
        out += [schema["description"].strip(), ""]
    props = schema.get("properties", {})
    if props:
        required = set(schema.get("required", []))
        out += ["| field | type | required | description |", "|---|---|---|---|"]
        for field, spec in props.items():
            out.append(
                f"| `{field}` | {_schema_name(spec)} | {'yes' if field in required else ''} "
                f"| {_cell(spec.get('description', ''))} |"
            )
        out.append("")
    elif "enum" in schema:
        out += ["One of " + ", ".join(f"`{v}`" for v in schema["enum"]) + ".", ""]
    return out


def rest_page(spec: dict[str, Any]) -> str:
    """The REST reference as Markdown, grouped by the routers' tags."""
    info = spec["info"]
    lines = [
        "# REST API reference",
        "",
        f"Generated from the service's OpenAPI schema ({info['title']} {info['version']}, OpenAPI "
        f"{spec['openapi']}; the raw schema is [openapi.json](openapi.json)). A running service serves "
        "the same schema at `/openapi.json` and an interactive page at `/docs`.",
        "",
        info.get("description", "").strip(),
        "",
    ]
    by_tag: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                tag = (item[method].get("tags") or ["other"])[0]
                by_tag.setdefault(tag, []).append((path, method, item[method]))
    for tag, ops in by_tag.items():
        lines += [f"## {tag}", ""]
        for path, method, op in ops:
            lines += _operation(path, method, op)
    lines += ["## Schemas", ""]
    for name, schema in sorted(spec.get("components", {}).get("schemas", {}).items()):
        lines += _schema(name, schema)
    return "\n".join(lines) + "\n"


def _escape_brackets(markdown: str) -> str:
    """Help texts say ``[path] [class_index]``: outside code, such brackets would read as links."""
    out, fenced = [], False
    for line in markdown.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced:
            parts = line.split("`")
            line = "`".join(p.replace("[", "\\[") if i % 2 == 0 else p for i, p in enumerate(parts))
        out.append(line)
    return "\n".join(out) + "\n"


def cli_page() -> str:
    """The CLI reference: typer's Markdown for every command and group."""
    command = typer.main.get_command(cli_app)
    ctx = click.Context(command, info_name="bamboo")
    return _escape_brackets(
        typer.cli.get_docs_for_click(obj=command, ctx=ctx, name="bamboo", title="CLI reference")
    )


spec = create_app().openapi()
with mkdocs_gen_files.open("reference/rest.md", "w") as f:
    f.write(rest_page(spec))
with mkdocs_gen_files.open("reference/openapi.json", "w") as f:
    json.dump(spec, f, indent=1)
with mkdocs_gen_files.open("reference/cli.md", "w") as f:
    f.write(cli_page())
