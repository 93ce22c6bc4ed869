"""Form fields generated from the command schemas of `ledger/commands.py`, and the way back from
posted form data to the command's JSON payload.

The form only shapes what a browser can send (a line per list item, a checkbox per code, a number
box per score); every check stays in the schema and the domain, so the page shows exactly the
API's validation messages.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from marshmallow import fields, validate
from werkzeug.datastructures import FileStorage, MultiDict

from ledger.commands import COMMANDS, Money

TEXTAREAS = {"reason", "grounds", "summary", "remarks", "note", "finding", "relaxation_reason",
             "wrong_value", "right_value", "override_reason"}
HIDDEN = ("idempotency_key", "expected_version")
LAST = ("effective_on", "reason", "documents")
DOCUMENT_LINE = re.compile(r"^\s*(\S+)\s+\*?(.+?)\s*$")


@dataclass
class FormField:
    """One input of a command form: its name (dotted inside nested objects) and kind."""

    name: str
    kind: str  # text, textarea, int, date, money, bool, choice, multi, lines, nested, documents
    required: bool = False
    choices: tuple[str, ...] = ()
    children: list[FormField] = field(default_factory=list)

    @property
    def leaf(self) -> str:
        return self.name.rsplit(".", 1)[-1]


def form_fields(command: str) -> list[FormField]:
    """The visible fields of a command's form, in reading order: the park first, then the
    command's own fields, then the date, reason and documents every command takes."""
    schema_fields = COMMANDS[command].schema.fields
    own = [name for name in COMMANDS[command].fields if name != "park_code"]
    order = ["park_code", *own, *LAST]
    return [_field(name, schema_fields[name]) for name in order]


def _field(name: str, schema_field: fields.Field[Any]) -> FormField:
    required = bool(schema_field.required)
    if name == "documents":
        return FormField(name, "documents")
    if isinstance(schema_field, fields.Nested):
        nested = schema_field.schema.fields
        return FormField(name, "nested", required, children=[
            _field(f"{name}.{child}", nested[child]) for child in nested])
    if isinstance(schema_field, fields.List):
        choices = _choices(schema_field.inner)
        return FormField(name, "multi" if choices else "lines", required, choices)
    if isinstance(schema_field, Money):
        return FormField(name, "money", required)
    if isinstance(schema_field, fields.Boolean):
        return FormField(name, "bool", required)
    if isinstance(schema_field, fields.Integer):
        return FormField(name, "int", required)
    if isinstance(schema_field, fields.Date):
        return FormField(name, "date", required)
    choices = _choices(schema_field)
    if choices:
        return FormField(name, "choice", required or name == "specialisation", choices)
    leaf = name.rsplit(".", 1)[-1]
    return FormField(name, "textarea" if leaf in TEXTAREAS else "text", required)


def _choices(schema_field: fields.Field[Any]) -> tuple[str, ...]:
    for validator in schema_field.validators:
        if isinstance(validator, validate.OneOf):
            return tuple(str(c) for c in validator.choices)
    return ()


# ------------------------------------------------------------------------- form -> payload


def payload(command: str, form: MultiDict[str, str], files: MultiDict[str, FileStorage]
            ) -> dict[str, Any]:
    """The command's JSON body from a posted form: empty optional inputs are left out (the
    schema's defaults apply); values that do not parse are passed on as typed, for the schema
    to name."""
    body: dict[str, Any] = {}
    for item in form_fields(command):
        value = _value(item, form, files)
        if value is not None:
            body[item.name] = value
    for name in HIDDEN:
        raw = form.get(name, "").strip()
        if raw:
            body[name] = _number(raw) if name == "expected_version" else raw
    override = form.get("override_reason", "").strip()
    if override:
        body["override_reason"] = override
    return body


def _value(item: FormField, form: MultiDict[str, str], files: MultiDict[str, FileStorage]
           ) -> Any:
    raw = form.get(item.name, "")
    if item.kind == "nested":
        values = {c.leaf: v for c in item.children
                  if (v := _value(c, form, files)) is not None}
        return values or None
    if item.kind == "bool":
        return item.name in form
    if item.kind == "multi":
        return form.getlist(item.name) if item.required or form.getlist(item.name) else None
    if item.kind == "lines":
        lines = [line.strip() for line in raw.splitlines() if line.strip()]
        return lines if lines or item.required else None
    if item.kind == "documents":
        return _documents(raw, files.getlist("document_files")) or None
    raw = raw.strip()
    if raw == "":
        return None
    return _number(raw) if item.kind == "int" else raw


def _number(raw: str) -> Any:
    """A whole number if the text is one; else the text itself, for the schema to refuse."""
    return int(raw) if re.fullmatch(r"[+-]?\d{1,18}", raw) else raw


def _documents(text: str, uploads: list[FileStorage]) -> list[dict[str, str]]:
    """Lines as `sha256sum` prints them (hash, space, title), then uploaded files hashed here
    (their bytes are not kept)."""
    found = []
    for line in text.splitlines():
        if not line.strip():
            continue
        match = DOCUMENT_LINE.match(line)
        if match:
            found.append({"sha256": match.group(1), "title": match.group(2)})
        else:
            found.append({"sha256": line.strip(), "title": ""})
    for upload in uploads:
        if upload and upload.filename:
            digest = hashlib.sha256()
            for chunk in iter(partial(upload.stream.read, 65536), b""):
                digest.update(chunk)
            found.append({"sha256": digest.hexdigest(), "title": upload.filename})
    return found


def flatten_errors(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Marshmallow's nested messages as dotted paths: {"scores.scale": ["..."]}."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = str(key) if key != "_schema" else ""
            path = f"{prefix}.{name}" if prefix and name else (prefix or name)
            for inner, texts in flatten_errors(value, path).items():
                flat.setdefault(inner, []).extend(texts)
    elif isinstance(messages, list) and messages and all(isinstance(m, str) for m in messages):
        flat[prefix or "body"] = list(messages)
    elif isinstance(messages, list):
        for item in messages:
            for inner, texts in flatten_errors(item, prefix).items():
                flat.setdefault(inner, []).extend(texts)
    else:
        flat[prefix or "body"] = [str(messages)]
    return flat


def owner(path: str, names: set[str]) -> str | None:
    """The form input an error path belongs to: the longest input name that is a prefix of it
    (`documents.0.sha256` belongs to `documents`)."""
    parts = path.split(".")
    for size in range(len(parts), 0, -1):
        candidate = ".".join(parts[:size])
        if candidate in names:
            return candidate
    return None


def all_names(items: list[FormField]) -> set[str]:
    names = set()
    for item in items:
        names.add(item.name)
        names.update(all_names(item.children))
    return names
