"""Turn jsonschema errors into messages a person acts on, each with a rule id.

jsonschema reports what failed in schema terms ("is not valid under any of the given
schemas"); a campaign author needs the field, what was expected and, for a typo, the name they
meant. Rule ids are ``<scope>.<field>-<what>`` (``emas.device-type-values``) or, for a
cross-field condition, the condition's own id from the table.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError

from pushops.check.rules.limits import kebab

TYPE_NAMES = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "object": "a mapping",
    "array": "a list",
    "null": "nothing",
}


def suggest(name: str, known: Iterable[str]) -> str | None:
    """The known name the author probably meant: same letters in another case, or a close typo."""
    known = list(known)
    for candidate in known:
        if candidate.lower() == name.lower():
            return candidate
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.75)
    if close:
        return close[0]
    lowered = {k.lower(): k for k in known}
    close = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.75)
    return lowered[close[0]] if close else None


def _type_label(expected: Any) -> str:
    if isinstance(expected, list):
        return " or ".join(TYPE_NAMES.get(t, t) for t in expected)
    return TYPE_NAMES.get(expected, str(expected))


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _condition_of(error: ValidationError, root: Any) -> dict[str, Any] | None:
    """The innermost schema on the error's path that carries ``x-rule`` (a table condition)."""
    found = None
    node = root
    for part in error.absolute_schema_path:
        if isinstance(node, dict) and "x-rule" in node:
            found = node
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
    return found


def _leaves(error: ValidationError) -> Iterator[ValidationError]:
    """For anyOf/oneOf, the errors of the branch that is not the template alternative."""
    if error.validator in ("anyOf", "oneOf") and error.context:
        branches: dict[int, list[ValidationError]] = {}
        for sub in error.context:
            branches.setdefault(sub.schema_path[0], []).append(sub)
        real = [
            subs
            for subs in branches.values()
            if not any(s.schema.get("$ref") == "#/$defs/template" for s in subs)
            and not any(s.validator == "$ref" for s in subs)
        ]
        # Prefer the branch whose type matched (its errors are about the value, not its type).
        real.sort(key=lambda subs: any(s.validator == "type" for s in subs))
        if real:
            for sub in real[0]:
                yield from _leaves(sub)
            return
    yield error


Explained = tuple[tuple[str | int, ...], str, str, bool]


def explain(
    error: ValidationError,
    root: Any,
    scope: str,
    known_fields: Iterable[str],
    prefix: tuple[str | int, ...] = (),
) -> list[Explained] | Explained:
    """(path, message, rule, points_at_key) for one error; a list for several unknown keys.

    ``prefix`` is where the validated instance sits (a field checked on its own)."""
    path = (*prefix, *error.absolute_path)
    field = next((p for p in reversed(path) if isinstance(p, str)), "")
    slug = kebab(field) if field else "value"
    condition = _condition_of(error, root)
    if condition is not None:
        # At the value of the field that switched the condition on (where an editor shows it
        # too); a trigger left out, for its default, is located at the message.
        trigger = condition["x-field"]
        at = path if path and path[-1] == trigger else (*path, trigger)
        return at, condition["x-message"], condition["x-rule"], False
    validator, value = error.validator, error.validator_value
    if validator == "additionalProperties":
        # One error per unknown key, each at the key itself.
        extras = [k for k in error.instance if k not in error.schema.get("properties", {})]
        out = []
        for name in extras:
            hint = suggest(name, known_fields)
            message = f"unknown field {name!r}" + (f"; did you mean {hint!r}?" if hint else "")
            out.append(((*path, name), message, f"{scope}.unknown-field", True))
        return out
    if validator == "required":
        missing = [k for k in value if k not in error.instance]
        name = missing[0] if missing else "?"
        return path, f"missing required field {name!r}", f"{scope}.required", False
    if validator == "type":
        return (
            path,
            f"expected {_type_label(value)}, got {_show(error.instance)}",
            f"{scope}.{slug}-type",
            False,
        )
    if validator in ("enum", "const"):
        options = value if validator == "enum" else [value]
        shown = ", ".join(str(o) for o in options[:20]) + (" ..." if len(options) > 20 else "")
        return (
            path,
            f"{_show(error.instance)} is not one of: {shown}",
            f"{scope}.{slug}-values",
            False,
        )
    if validator in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        words = {
            "minimum": "at least",
            "maximum": "at most",
            "exclusiveMinimum": "more than",
            "exclusiveMaximum": "less than",
        }
        return (
            path,
            f"{_show(error.instance)} must be {words[validator]} {value}",
            f"{scope}.{slug}-range",
            False,
        )
    if validator == "pattern":
        expected = error.schema.get("patternErrorMessage") or error.schema.get("description")
        return (
            path,
            f"{_show(error.instance)} does not match the expected format "
            f"({(expected or value).rstrip('.')})",
            f"{scope}.{slug}-format",
            False,
        )
    if validator in ("maxItems", "minItems", "maxProperties", "minLength", "maxLength"):
        if validator == "minLength" and value == 1:
            return path, "must not be empty", f"{scope}.{slug}-empty", False
        return path, error.message, f"{scope}.{slug}-size", False
    if validator == "oneOf" and not path:
        return path, error.message, f"{scope}.structure", False
    return path, error.message, f"{scope}.{slug}-{kebab(str(validator))}", False


def iter_explained(
    validator: jsonschema.protocols.Validator,
    instance: Any,
    scope: str,
    known_fields: Iterable[str],
    prefix: tuple[str | int, ...] = (),
) -> Iterator[Explained]:
    known = list(known_fields)
    for error in validator.iter_errors(instance):
        for leaf in _leaves(error):
            result = explain(leaf, validator.schema, scope, known, prefix)
            if isinstance(result, list):
                yield from result
            else:
                yield result
