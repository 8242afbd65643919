"""The Jinja environment templates run in: Jinja's immutable sandbox, plus bounds on output
size, loop iterations and time, all enforced from inside the sandbox (no thread is killed).

How each bound holds:

- Attribute access to ``_``-names, ``__globals__``, ``mro`` and friends: Jinja's sandbox.
- Loops: every ``{% for %}`` iterable is wrapped (an AST rewrite at parse time) in a counter
  that checks the step budget and the clock; ``range`` is our own bounded range.
- Operators that build big values (``*``, ``**``, ``+``, ``%``) are intercepted and sized
  before they run; ``~`` concatenation and namespace assignment are checked after, and can
  at most double a bounded value.
- Filters and ``str`` methods that pad or repeat (``center``, ``indent``, ``format``,
  ``batch``, ``ljust``, ``replace`` ...) refuse sizes above the output bound before running.
- The rendered text is checked against :data:`MAX_OUTPUT_BYTES`.
- Non-deterministic helpers (``random``, ``shuffle``, ``lipsum``) are removed: the same input
  must render the same bytes.

One :class:`Sandbox` per thread: the budget of the render in progress lives on it.
"""

from __future__ import annotations

import operator
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import BaseLoader, StrictUndefined, TemplateNotFound, nodes
from jinja2.compiler import CodeGenerator
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context, Namespace
from jinja2.sandbox import ImmutableSandboxedEnvironment

from pushops.render.filters import FILTERS

MAX_OUTPUT_BYTES = 64 * 1024  # one rendered value; the largest API field is far smaller
MAX_STEPS = 100_000  # loop iterations and range elements per rendered value
MAX_SECONDS = 1.0  # wall time per rendered value
MAX_INT_BITS = 4096
MAX_TEMPLATE_CACHE = 4096
_BIG_WIDTH = re.compile(r"\d{6,}")  # a printf/format width of 100000 or more
_BUDGET_FILTER = "pushops budget"  # not an identifier: templates cannot call it by name


class BudgetError(SecurityError):
    """A template went over the output, step or time bound."""


class Budget:
    """The allowance of the render in progress."""

    __slots__ = ("deadline", "steps")

    def __init__(self) -> None:
        self.steps = 0
        self.deadline = 0.0

    def reset(self) -> None:
        self.steps = 0
        self.deadline = time.monotonic() + MAX_SECONDS

    def step(self, count: int = 1) -> None:
        self.steps += count
        if self.steps > MAX_STEPS:
            raise BudgetError(f"the template runs more than {MAX_STEPS} loop steps")
        # Reading the clock every step would cost more than the loop body.
        if self.steps & 0xFF == 0 and time.monotonic() > self.deadline:
            raise BudgetError(f"the template ran longer than {MAX_SECONDS:g} s")


def _size(value: Any) -> int:
    return len(value) if isinstance(value, (str, bytes, list, tuple)) else 0


def _check_size(size: int, what: str) -> None:
    if size > MAX_OUTPUT_BYTES:
        raise BudgetError(f"{what} would be {size} long; values are limited to {MAX_OUTPUT_BYTES}")


class _BoundedNamespace(Namespace):
    """``namespace()`` whose attributes cannot grow past the output bound (``~`` in a loop)."""

    def __setitem__(self, name: str, value: Any) -> None:
        _check_size(_size(value), "a namespace value")
        super().__setitem__(name, value)


class _Generator(CodeGenerator):
    """Jinja's code generator with ``~`` routed through a size check."""

    def visit_Concat(self, node: nodes.Concat, frame: Any) -> None:
        self.write("environment.bounded_concat((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class SafeLoader(BaseLoader):
    """Partials and macros from one folder inside the repo: no ``..``, no absolute paths, no
    symlinks that lead out."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder.resolve() if folder is not None else None

    def get_source(self, environment: Any, template: str) -> tuple[str, str, Callable[[], bool]]:
        if self.folder is None:
            raise TemplateNotFound(
                f"{template} (no `templates` folder is configured in pushops.yaml)"
            )
        parts = template.replace("\\", "/").split("/")
        if template.startswith("/") or os.path.isabs(template) or ".." in parts:
            raise SecurityError(f"include {template!r} points outside the templates folder")
        path = (self.folder / template).resolve()
        if not path.is_relative_to(self.folder):
            raise SecurityError(f"include {template!r} leads outside the templates folder")
        if not path.is_file():
            raise TemplateNotFound(template)
        raw = path.read_bytes()
        _check_size(len(raw), f"partial {template!r}")
        return raw.decode("utf-8"), str(path), lambda: True


class Sandbox(ImmutableSandboxedEnvironment):
    """The template environment: strict undefined, no autoescape, bounded."""

    code_generator_class = _Generator
    intercepted_binops = frozenset(["*", "**", "+", "%"])

    def __init__(self, templates: Path | None = None) -> None:
        super().__init__(
            undefined=StrictUndefined,
            autoescape=False,
            loader=SafeLoader(templates),
            keep_trailing_newline=True,
            cache_size=MAX_TEMPLATE_CACHE,
            auto_reload=False,
        )
        self.budget = Budget()
        for name in ("random", "shuffle"):
            self.filters.pop(name, None)
        self.globals["lipsum"] = _no_lipsum
        self.globals["range"] = self.bounded_range
        self.globals["namespace"] = _BoundedNamespace
        self.filters.update(FILTERS)
        self.filters[_BUDGET_FILTER] = self.budgeted
        for name, guard in _FILTER_GUARDS.items():
            self.filters[name] = _guarded(self.filters[name], guard)
        self.compile_template = lru_cache(maxsize=MAX_TEMPLATE_CACHE)(self.from_string)

    # -- the budget -------------------------------------------------------------------------

    def budgeted(self, iterable: Any) -> Iterator[Any]:
        step = self.budget.step
        for item in iterable:
            step()
            yield item

    def bounded_range(self, *args: int) -> Iterator[int]:
        span = range(*args)
        if len(span) > MAX_STEPS:
            raise BudgetError(f"range of {len(span)} numbers; at most {MAX_STEPS}")
        return self.budgeted(span)

    def bounded_concat(self, parts: Iterable[Any]) -> str:
        text = "".join(map(str, parts))
        _check_size(len(text), "a joined string")
        return text

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        # Count every loop's iterations, whatever it iterates over.
        for loop in tree.find_all(nodes.For):
            loop.iter = nodes.Filter(loop.iter, _BUDGET_FILTER, [], [], None, None)
            loop.iter.set_lineno(loop.lineno)
        return tree

    # -- sandbox hooks ----------------------------------------------------------------------

    def call_binop(self, context: Context, operator_: str, left: Any, right: Any) -> Any:
        self.budget.step()
        if operator_ == "*":
            for seq, count in ((left, right), (right, left)):
                if _size(seq) and isinstance(count, int):
                    _check_size(_size(seq) * count, "a repeated value")
        elif operator_ == "**":
            big = isinstance(left, int) and isinstance(right, int) and abs(left) > 1
            if big and right * left.bit_length() > MAX_INT_BITS:
                raise BudgetError(f"{left} ** {right} is too large a number")
        elif operator_ == "%" and isinstance(left, str) and _BIG_WIDTH.search(left):
            raise BudgetError("a format width above the output bound")
        elif operator_ == "+":
            _check_size(_size(left) + _size(right), "a joined value")
        result = _BINOPS[operator_](left, right)
        if isinstance(result, int) and result.bit_length() > MAX_INT_BITS:
            raise BudgetError("the number grows too large")
        return result

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        __self.budget.step()
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str):
            _guard_str_method(owner, __obj.__name__, args)
        return super().call(__context, __obj, *args, **kwargs)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is not None and _BIG_WIDTH.search(value.__self__):
            raise BudgetError("a format width above the output bound")
        return wrapped


def _no_lipsum(*args: Any, **kwargs: Any) -> str:
    raise SecurityError("lipsum is not available: a render must give the same text every time")


_BINOPS: dict[str, Callable[[Any, Any], Any]] = {
    "*": operator.mul,
    "**": operator.pow,
    "+": operator.add,
    "%": operator.mod,
}


def _guard_str_method(owner: str, name: str, args: tuple[Any, ...]) -> None:
    if name in ("center", "ljust", "rjust", "zfill", "expandtabs"):
        for arg in args:
            if isinstance(arg, int):
                _check_size(arg if name != "expandtabs" else arg * len(owner), f"str.{name}")
    elif name == "replace" and len(args) >= 2:
        old, new = str(args[0]), str(args[1])
        hits = owner.count(old) if old else len(owner) + 1
        _check_size(len(owner) + hits * max(0, len(new) - len(old)), "str.replace")


def _guarded(fn: Callable[..., Any], guard: Callable[..., None]) -> Callable[..., Any]:
    # Filters marked pass_context/pass_environment get that object first; guards skip it.
    skip = 1 if getattr(fn, "jinja_pass_arg", None) is not None else 0

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        guard(*args[skip:], **kwargs)
        return fn(*args, **kwargs)

    # Keep Jinja's pass_context/pass_environment markers and the name in errors.
    wrapper.__dict__.update(getattr(fn, "__dict__", {}))
    wrapper.__name__ = getattr(fn, "__name__", "filter")
    return wrapper


def _width_guard(value: Any = "", width: Any = 80, *args: Any, **kwargs: Any) -> None:
    if isinstance(width, int):
        _check_size(width * (str(value).count("\n") + 1), "a padded value")


def _format_guard(value: Any = "", *args: Any, **kwargs: Any) -> None:
    if _BIG_WIDTH.search(str(value)):
        raise BudgetError("a format width above the output bound")


def _count_guard(value: Any = (), count: Any = 1, *args: Any, **kwargs: Any) -> None:
    if isinstance(count, int):
        _check_size(count, "a batch or slice count")


def _replace_guard(value: Any = "", old: Any = "", new: Any = "", *args: Any, **kw: Any) -> None:
    _guard_str_method(str(value), "replace", (old, new))


def _wordwrap_guard(value: Any = "", width: Any = 79, *args: Any, **kwargs: Any) -> None:
    if isinstance(width, int) and width < 1:
        raise BudgetError("wordwrap width must be positive")


_FILTER_GUARDS: dict[str, Callable[..., None]] = {
    "center": _width_guard,
    "indent": _width_guard,
    "format": _format_guard,
    "batch": _count_guard,
    "slice": _count_guard,
    "replace": _replace_guard,
    "wordwrap": _wordwrap_guard,
}
