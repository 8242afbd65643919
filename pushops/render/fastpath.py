"""A shortcut for the templates fan-out renders a million times: plain text with variable
lookups, ``{{ row.name }}``, ``{{ brand }}``, ``{{ row.tier | title }}``.

Creating a Jinja context costs more than such a template's whole work, so these are
evaluated directly on the context dict, with Jinja's own semantics: ``a.b`` on a dict reads
the key unless ``dict`` has an attribute of that name; values print with ``str()``; only
side-effect-free filters without arguments. Anything the shortcut is not sure about (a
missing name, a value that is not text or a number, output over the bound) returns None,
and the caller renders with Jinja, which then gives the real result or the real error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jinja2 import nodes

from pushops.render.sandbox import MAX_OUTPUT_BYTES

# Pure text filters whose Jinja implementation takes only the value.
SAFE_FILTERS = frozenset({"title", "upper", "lower", "trim", "capitalize"})
_MISSING = object()

Getter = Callable[[dict[str, Any]], Any]


def _getter(node: nodes.Node, filters: dict[str, Callable[..., Any]]) -> Getter | None:
    if isinstance(node, nodes.Name) and node.ctx == "load":
        name = node.name
        return lambda ctx: ctx.get(name, _MISSING)
    if isinstance(node, nodes.Getattr) and not hasattr(dict, node.attr):
        inner = _getter(node.node, filters)
        if inner is None:
            return None
        attr = node.attr

        def get_attr(ctx: dict[str, Any], inner: Getter = inner) -> Any:
            owner = inner(ctx)
            return owner.get(attr, _MISSING) if type(owner) is dict else _MISSING

        return get_attr
    if (
        isinstance(node, nodes.Filter)
        and node.name in SAFE_FILTERS
        and node.node is not None
        and not (node.args or node.kwargs or node.dyn_args or node.dyn_kwargs)
    ):
        inner = _getter(node.node, filters)
        if inner is None:
            return None
        fn = filters[node.name]

        def filtered(ctx: dict[str, Any], inner: Getter = inner) -> Any:
            value = inner(ctx)
            return fn(value) if type(value) is str else _MISSING

        return filtered
    return None


def shortcut(
    tree: nodes.Template, filters: dict[str, Callable[..., Any]]
) -> Callable[[dict[str, Any]], str | None] | None:
    """A direct evaluator for ``tree``, or None when it is not that simple."""
    if len(tree.body) != 1 or not isinstance(tree.body[0], nodes.Output):
        return None
    steps: list[str | Getter] = []
    for node in tree.body[0].nodes:
        if isinstance(node, nodes.TemplateData):
            steps.append(node.data)
            continue
        getter = _getter(node, filters)
        if getter is None:
            return None
        steps.append(getter)

    if len(steps) == 1 and not isinstance(steps[0], str):
        only = steps[0]

        def single(ctx: dict[str, Any]) -> str | None:
            # ``{{ row.device_id }}``: the commonest fan-out template, without the join.
            value = only(ctx)
            kind = type(value)
            if kind is str:
                return value if len(value) * 4 <= MAX_OUTPUT_BYTES else None
            return str(value) if kind is int or kind is float else None

        return single

    def render(ctx: dict[str, Any]) -> str | None:
        parts = []
        for step in steps:
            if type(step) is str:
                parts.append(step)
                continue
            value = step(ctx)  # type: ignore[operator]
            kind = type(value)
            if kind is str:
                parts.append(value)
            elif kind is int or kind is float:
                parts.append(str(value))
            else:
                return None
        text = "".join(parts)
        return text if len(text) * 4 <= MAX_OUTPUT_BYTES else None

    return render
