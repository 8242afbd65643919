"""Field-level differences of two requests (deepdiff), as plain rows a person reads.

``[{"field": "Title", "change": "changed", "before": "Old", "after": "New"}, ...]``: a field
path in dotted form (list items as ``[N]``), what happened to it, and the values.
"""

from __future__ import annotations

from typing import Any

from deepdiff import DeepDiff

_KINDS = {
    "values_changed": "changed",
    "type_changes": "changed",
    "dictionary_item_added": "added",
    "dictionary_item_removed": "removed",
    "iterable_item_added": "added",
    "iterable_item_removed": "removed",
}


def field_path(parts: list[Any]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _value(value: Any) -> Any:
    # deepdiff stands for a missing side with a marker object, not None.
    return None if type(value).__name__ == "NotPresent" else value


def request_diff(
    before: dict[str, Any] | None, after: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """The changes from ``before`` to ``after``, sorted by field."""
    tree = DeepDiff(before or {}, after or {}, verbose_level=2).tree
    rows = []
    for kind, items in tree.items():
        change = _KINDS.get(kind, kind)
        for item in items:
            rows.append(
                {
                    "field": field_path(item.path(output_format="list")),
                    "change": change,
                    "before": _value(item.t1),
                    "after": _value(item.t2),
                }
            )
    return sorted(rows, key=lambda r: (r["field"], r["change"]))


def format_diff(rows: list[dict[str, Any]], indent: str = "      ") -> list[str]:
    """Terraform-like lines: ``~ Title: "Old" -> "New"``."""
    import json

    def shown(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False)

    lines = []
    for row in rows:
        if row["change"] == "added":
            lines.append(f"{indent}+ {row['field']}: {shown(row['after'])}")
        elif row["change"] == "removed":
            lines.append(f"{indent}- {row['field']}: {shown(row['before'])}")
        else:
            lines.append(
                f"{indent}~ {row['field']}: {shown(row['before'])} -> {shown(row['after'])}"
            )
    return lines
