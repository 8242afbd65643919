"""The Jinja environment templates run in: Jinja's immutable sandbox, plus bounds on what one
evaluation may output, build, and spend, all enforced from inside the sandbox.

A template is untrusted code from a pull request, evaluated by validate and plan in CI. Every
evaluation (:meth:`Sandbox.evaluate`) gets a :class:`Budget`:

- **Time**, a wall-clock limit of :data:`MAX_SECONDS` that does not depend on the template
  reaching any check: a watchdog thread raises :class:`TemplateTimeout` inside the evaluating
  thread once the deadline has passed (CPython delivers it between two bytecodes, so it also
  stops work inside Jinja's own filters and generators). Loops also read the clock as they
  count steps.
- **Steps**: every loop iteration, call, operator and filter counts; at most :data:`MAX_STEPS`.
- **Memory**: every operation that builds a value (operators, ``~``, calls, filters, slices,
  formatting) is charged that value's length, at most :data:`MAX_PRODUCED` characters or
  elements per evaluation: a bound on what it can keep alive as well as on what it can copy.
  One value is at most :data:`MAX_OUTPUT_BYTES` long, and every operation whose result could
  be larger is sized *before* it runs: ``*`` and ``+`` from their operands, ``%``, ``format``
  and ``str.format`` from the format's widths and arguments, ``join`` and ``sum`` item by item,
  padding filters and ``str`` methods from their widths.
- **Text**: a value becomes text only when it has a text form of its own: strings, numbers,
  booleans, ``none``, dates and times, and lists, tuples and dicts of those. A callable
  (``{{ range }}``, ``{{ now.astimezone }}``), a generator (``{{ x|map('upper') }}``) or a
  helper object (``{{ cycler }}``, ``{{ joiner() }}``, ``{{ loop }}``) is a
  :class:`NotText` error wherever it would be printed: ``{{ }}``, ``~``, ``%``, formatting,
  and every filter that turns its input into text. The same walk sizes the text first, so
  ``{{ [[1]*60000]*60000 }}`` is refused before ``str()`` runs.
- Attribute access to ``_``-names, ``__globals__``, ``mro`` and friends: Jinja's sandbox,
  which must be a version fixed for CVE-2025-27516 (:data:`FIXED_JINJA`).
- Non-deterministic helpers (``random``, ``shuffle``, ``lipsum``) are removed: the same input
  must render the same bytes.

One :class:`Sandbox` per thread: the budget of the evaluation in progress lives on it. The
per-operation checks are constant time; the text walk is bounded by the output bound.
"""

from __future__ import annotations

import ctypes
import operator
import os
import re
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, datetime, timedelta, timezone
from datetime import time as clock_time
from decimal import Decimal
from functools import lru_cache, partial
from pathlib import Path
from types import BuiltinMethodType, MethodType
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from jinja2 import BaseLoader, StrictUndefined, Template, TemplateNotFound, nodes
from jinja2.compiler import CodeGenerator
from jinja2.exceptions import SecurityError, TemplateRuntimeError, UndefinedError
from jinja2.filters import make_attrgetter
from jinja2.runtime import Context, LoopContext, Namespace, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedFormatter
from jinja2.utils import missing
from markupsafe import EscapeFormatter, Markup

from pushops.diagnostics import PushopsError
from pushops.render.filters import FILTERS
from pushops.repofile import RepoFileError, open_in

MAX_OUTPUT_BYTES = 64 * 1024  # one value; the largest API field is far smaller
MAX_STEPS = 100_000  # loop iterations, calls, operators and filters per evaluation
MAX_PRODUCED = 64 * MAX_OUTPUT_BYTES  # characters or elements built per evaluation
MAX_SECONDS = 1.0  # wall time per evaluation
MAX_SOURCE = MAX_OUTPUT_BYTES  # characters of one template's source
# A fan-out message renders its templates once per row: over all rows they may take this
# much, plus FANOUT_ROW_SECONDS a row (real ones take tens of microseconds), so a data file
# of many rows cannot multiply the 1 s per evaluation into hours of a CI job.
FANOUT_SECONDS = 60.0
FANOUT_ROW_SECONDS = 0.001
MAX_INT_BITS = 4096
MAX_TEMPLATE_CACHE = 4096
WATCHDOG_TICK = 0.05  # how often the watchdog looks at the clock
FIXED_JINJA = (3, 1, 6)  # CVE-2025-27516: str.format reached through |attr escaped the sandbox
_BUDGET_FILTER = "pushops budget"  # not an identifier: templates cannot call it by name


class BudgetError(SecurityError):
    """A template went over the output, step, memory or time bound."""


class TemplateTimeout(BudgetError):
    """Raised inside the evaluating thread by the watchdog (so it takes no arguments)."""

    def __init__(self, message: str = f"the template ran longer than {MAX_SECONDS:g} s") -> None:
        super().__init__(message)


class NotText(SecurityError):
    """A value without a text form of its own was about to be printed."""


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"[0-9]+", text)[:3])


def require_fixed_jinja(version: str = jinja2.__version__) -> None:
    """Refuse to run templates on a Jinja whose sandbox is known to leak (a ``--no-deps``
    install or an old virtualenv can hold one whatever pyproject says)."""
    if _version(version) < FIXED_JINJA:
        wanted = ".".join(map(str, FIXED_JINJA))
        raise PushopsError(
            f"Jinja2 {version} is installed; its sandbox lets a template read secrets "
            f"(CVE-2025-27516). pushops needs Jinja2 >= {wanted}: pip install 'jinja2>={wanted}'"
        )


# -- the wall-clock watchdog -----------------------------------------------------------------

_set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
_set_async_exc.restype = ctypes.c_int


def _raise_in(thread: int, exc: type[BaseException] | None) -> None:
    # None clears an exception set earlier and not yet raised.
    _set_async_exc(ctypes.c_ulong(thread), ctypes.py_object(exc) if exc is not None else None)


class _Watchdog:
    """One daemon thread per process, looking every :data:`WATCHDOG_TICK` s for an
    evaluation past its deadline and raising :class:`TemplateTimeout` in its thread. The lock
    makes "still evaluating" and "raise there" one step, and :meth:`Sandbox.evaluate` takes
    it too when it ends, so the exception only ever surfaces inside the evaluation it was
    meant for."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.budgets: weakref.WeakSet[Budget] = weakref.WeakSet()
        self.thread: threading.Thread | None = None

    def watch(self, budget: Budget) -> None:
        with self.lock:
            self.budgets.add(budget)

    def ensure_running(self) -> None:
        with self.lock:
            if self.thread is None:
                self.thread = threading.Thread(
                    target=self._run, name="pushops-template-watchdog", daemon=True
                )
                self.thread.start()

    def _run(self) -> None:
        while True:
            time.sleep(WATCHDOG_TICK)
            now = time.monotonic()
            with self.lock:
                for budget in list(self.budgets):
                    # Raised again every tick: a template cannot outlive one swallowed raise.
                    if budget.active and now > budget.deadline:
                        budget.interrupted = True
                        _raise_in(budget.thread, TemplateTimeout)

    def after_fork(self) -> None:
        # The thread does not survive fork(), and its lock may have been held at that moment.
        self.lock = threading.Lock()
        self.thread = None


_WATCHDOG = _Watchdog()
os.register_at_fork(after_in_child=_WATCHDOG.after_fork)


class Budget:
    """The allowance of the evaluation in progress. Outside one (compile-time constant
    folding, the fast path) nothing is counted: those run only bounded work."""

    __slots__ = ("__weakref__", "active", "deadline", "interrupted", "produced", "steps", "thread")

    def __init__(self) -> None:
        self.steps = 0
        self.produced = 0
        self.deadline = 0.0
        self.active = False
        self.interrupted = False
        self.thread = threading.get_ident()
        _WATCHDOG.watch(self)

    def start(self) -> None:
        if _WATCHDOG.thread is None:  # the first evaluation of this process (or of a fork)
            _WATCHDOG.ensure_running()
        self.steps = 0
        self.produced = 0
        self.thread = threading.get_ident()
        self.deadline = time.monotonic() + MAX_SECONDS
        self.active = True

    def step(self, count: int = 1) -> None:
        self.steps += count
        if self.steps > MAX_STEPS:
            if not self.active:
                self.steps = 0
                return
            raise BudgetError(f"the template runs more than {MAX_STEPS} steps")
        # Reading the clock every step would cost more than the loop body.
        if self.steps & 0xFF == 0 and self.active and time.monotonic() > self.deadline:
            raise TemplateTimeout()

    def charge(self, value: Any) -> Any:
        """Count ``value`` (just built) against the memory bound; give it back."""
        kind = type(value)
        if kind is str or kind is list or kind is tuple or kind is dict or kind is Markup:
            self.produced += len(value)
            if self.produced > MAX_PRODUCED and self.active:
                raise BudgetError(
                    f"the template builds more than {MAX_PRODUCED:,} characters or elements"
                )
        return value


class FanOutClock:
    """The time a fan-out message's templates have taken over its rows, the time the rows'
    consumer held the stream (between yields: plan, apply sending) left out."""

    __slots__ = ("paused", "started")

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.paused = 0.0

    def over(self, rows: int) -> str | None:
        """Why the message must stop after ``rows`` rows, or None while within its time."""
        spent = time.monotonic() - self.started - self.paused
        allowed = FANOUT_SECONDS + rows * FANOUT_ROW_SECONDS
        if spent <= allowed:
            return None
        return (
            f"the templates took {spent:.0f} s for {rows:,} rows, over the {allowed:.0f} s "
            f"allowed ({FANOUT_SECONDS:g} s and {FANOUT_ROW_SECONDS * 1000:g} ms a row); "
            "stopped"
        )


# -- text forms ------------------------------------------------------------------------------

# Values whose str() is their own text, sized without being printed.
_SCALAR_TEXT: dict[type, int] = {
    type(None): 4,
    bool: 5,
    float: 24,
    Decimal: 40,
    datetime: 32,
    date: 10,
    clock_time: 15,
    timedelta: 26,
    timezone: 16,
    ZoneInfo: 40,
}
_CONTAINERS = (list, tuple, dict)


def _describe(value: Any) -> tuple[str, str]:
    """What a value is, in words, without its repr (which holds a memory address), and what to
    do instead of printing it."""
    if isinstance(value, Iterator) and not isinstance(value, LoopContext):
        return "a sequence not yet read (what map, select or reverse give)", "add |list or |join"
    name = getattr(value, "__name__", None)
    if callable(value) and isinstance(name, str):
        return f"the function {name!r}", "call it, or print a value it gives"
    kind = type(value).__name__
    article = "an" if kind[:1].lower() in "aeiou" else "a"
    return f"{article} {kind} object", "print one of its values"


def _not_text(value: Any, where: str) -> NotText:
    what, instead = _describe(value)
    return NotText(f"{where} {what}, which has no text form: {instead}")


def text_length(value: Any, limit: int = MAX_OUTPUT_BYTES) -> int:
    """How long ``value``'s text is (close enough to bound work), walking containers without
    printing them: :class:`NotText` for anything without a text form of its own,
    :class:`BudgetError` as soon as the length passes ``limit``. Visits at most about
    ``limit / 2`` values."""
    kind = type(value)
    if kind is str or kind is Markup:
        size = len(value)
    elif kind is int:
        size = value.bit_length() * 30103 // 100000 + 2
    elif kind in _SCALAR_TEXT:
        size = _SCALAR_TEXT[kind]
    elif kind in _CONTAINERS:
        size = 0
        stack = [value]
        while stack:
            item = stack.pop()
            kind = type(item)
            if kind is str or kind is Markup:
                size += len(item) + 2
            elif kind is int:
                size += item.bit_length() * 30103 // 100000 + 2
            elif kind in _SCALAR_TEXT:
                size += _SCALAR_TEXT[kind]
            elif kind is list or kind is tuple:
                size += 2 + 2 * len(item)  # brackets and separators, before the items
                if size <= limit:
                    stack.extend(item)
            elif kind is dict:
                size += 2 + 4 * len(item)
                if size <= limit:
                    stack.extend(item.keys())
                    stack.extend(item.values())
            elif isinstance(item, Undefined):
                str(item)  # raises the undefined error
            else:
                raise _not_text(item, "the value holds")
            if size > limit:
                break
    else:
        if isinstance(value, Undefined):
            str(value)  # raises the undefined error
        raise _not_text(value, "the value is")
    if size > limit:
        raise BudgetError(f"a value whose text would be over {limit:,} characters")
    return size


_PLAIN_TEXT = frozenset({str, int, Markup})
_SIZED = frozenset({str, list, tuple, dict, Markup})


def _require_text(values: Iterable[Any]) -> None:
    for value in values:
        if type(value) not in _PLAIN_TEXT:
            text_length(value)


# -- sizing formats before they run ------------------------------------------------------------

_PERCENT_SPEC = re.compile(r"%(?:\(([^)]*)\))?[-#0 +]*(\*|[0-9]+)?(?:\.(\*|[0-9]+))?[hlL]?(.?)")
_SPEC_WIDTH = re.compile(r"^(?:.?[<>=^])?[-+ ]?z?#?0?([0-9]*)[,_]?(?:\.([0-9]+))?")


def _int_arg(value: Any) -> int:
    return value if type(value) is int else 0


def percent_size(fmt: str, args: Any) -> int:
    """An upper bound on the length of ``fmt % args`` (``%(name)s`` read from a mapping,
    ``*`` widths from the arguments, each field the larger of its width and its value)."""
    if not isinstance(fmt, str) or "%" not in fmt:
        return len(fmt) if isinstance(fmt, str) else 0
    mapping = args if isinstance(args, Mapping) else None
    positional = list(args) if type(args) is tuple else [args]
    index = 0
    size = len(fmt)

    def take() -> Any:
        nonlocal index
        index += 1
        return positional[index - 1] if index <= len(positional) else ""

    for key, width, precision, conversion in _PERCENT_SPEC.findall(fmt):
        if conversion == "%" or not conversion:
            continue
        wide = _int_arg(take()) if width == "*" else int(width or 0)
        places = _int_arg(take()) if precision == "*" else int(precision or 0)
        if mapping is not None and key:
            value = mapping.get(key, "")
        else:
            value = take() if mapping is None else mapping
        if conversion in "eEfFgG%":
            value_size = (24 if type(value) is not float or abs(value) < 1e16 else 320) + places
        elif conversion in "ra":
            value_size = text_length(value) * 2  # repr escapes
        else:
            value_size = text_length(value)
        size += max(abs(wide), value_size)
        if size > MAX_OUTPUT_BYTES:
            raise BudgetError(f"the formatted text would be over {MAX_OUTPUT_BYTES:,} characters")
    return size


class _BoundedFormat:
    """``str.format`` fields sized one by one before each is formatted (a format string can
    repeat a field, or take its width from an argument: ``'{:{}}'.format(x, 10**9)``)."""

    total: int

    def convert_field(self, value: Any, conversion: str | None) -> Any:
        if conversion in ("r", "a"):
            text_length(value, MAX_OUTPUT_BYTES // 2)
        return super().convert_field(value, conversion)  # type: ignore[misc]

    def format_field(self, value: Any, format_spec: str) -> Any:
        match = _SPEC_WIDTH.match(format_spec)
        width = int(match.group(1) or 0) if match else 0
        places = int(match.group(2) or 0) if match else 0
        if width > MAX_OUTPUT_BYTES or places > MAX_OUTPUT_BYTES:
            raise BudgetError("a format width above the output bound")
        self.total += max(width, text_length(value) + places)
        if self.total > MAX_OUTPUT_BYTES:
            raise BudgetError(f"the formatted text would be over {MAX_OUTPUT_BYTES:,} characters")
        return super().format_field(value, format_spec)  # type: ignore[misc]


class _Formatter(_BoundedFormat, SandboxedFormatter):
    def __init__(self, env: Any) -> None:
        super().__init__(env)
        self.total = 0


class _EscapeFormatter(_BoundedFormat, SandboxedFormatter, EscapeFormatter):
    def __init__(self, env: Any, escape: Callable[[Any], Markup]) -> None:
        super().__init__(env, escape=escape)
        self.total = 0


# -- the environment ---------------------------------------------------------------------------


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
        try:
            fh = open_in(self.folder, template, where="the templates folder")
        except RepoFileError as exc:
            if exc.rule == "file.outside-repo":
                raise SecurityError(
                    f"include {template!r} leads outside the templates folder"
                ) from None
            raise TemplateNotFound(template) from None
        with fh:
            raw = fh.read(MAX_OUTPUT_BYTES + 1)
        _check_size(len(raw), f"partial {template!r}")
        path = self.folder / template
        return raw.decode("utf-8"), str(path), lambda: True


# Filters that never turn their input into text (they select, count, sort or compute); every
# other filter, ours and any Jinja adds, has its input and arguments checked for a text form.
STRUCTURAL_FILTERS = frozenset(
    {
        "abs", "attr", "batch", "count", "d", "default", "dictsort", "first", "float",
        "groupby", "int", "items", "last", "length", "list", "map", "max", "min", "reject",
        "rejectattr", "reverse", "round", "select", "selectattr", "slice", "sort", "sum",
        "unique", "api_time", "add_hours", "add_minutes", "add_days", "from_zone",
        "start_of_day", "epoch_ms",
    }
)  # fmt: skip


# Filters whose own guard sizes (and so checks) their input's text.
_SIZES_ITS_INPUT = frozenset({"join", "tojson", "json", "pprint"})


class MissingKey(UndefinedError):
    """An undefined attribute or key of a known object (``row.nmae``): says which object, so
    fan-out can tell a missing data column from any other undefined name."""

    def __init__(self, owner: Any, key: str, message: str | None = None) -> None:
        super().__init__(message)
        self.owner = owner
        self.key = key


class _Undefined(StrictUndefined):
    """Jinja's strict undefined, raising :class:`MissingKey` for ``obj.name``/``obj['name']``."""

    __slots__ = ()

    def __init__(
        self,
        hint: str | None = None,
        obj: Any = missing,
        name: str | None = None,
        exc: type[TemplateRuntimeError] = UndefinedError,
    ) -> None:
        super().__init__(hint, obj, name, exc)
        if exc is UndefinedError and obj is not missing and isinstance(name, str):
            self._undefined_exception = partial(MissingKey, obj, name)


class Sandbox(ImmutableSandboxedEnvironment):
    """The template environment: strict undefined, no autoescape, bounded."""

    code_generator_class = _Generator
    intercepted_binops = frozenset(["*", "**", "+", "%"])

    def __init__(self, templates: Path | None = None) -> None:
        require_fixed_jinja()
        super().__init__(
            undefined=_Undefined,
            autoescape=False,
            loader=SafeLoader(templates),
            keep_trailing_newline=True,
            # A plain dict: Jinja's LRU cache takes a lock, which a TemplateTimeout raised
            # while it is held would leave taken. Partials are the files of one folder.
            cache_size=-1,
            auto_reload=False,
        )
        self.budget = Budget()
        self.finalize = self.finalize_output
        for name in ("random", "shuffle"):
            self.filters.pop(name, None)
        self.globals["lipsum"] = _no_lipsum
        self.globals["range"] = self._range_global()
        self.globals["namespace"] = _BoundedNamespace
        self.filters.update(FILTERS)
        self.filters["join"] = self.bounded_join
        self.filters["sum"] = self.bounded_sum
        self.filters[_BUDGET_FILTER] = self.budgeted
        for name, fn in list(self.filters.items()):
            if name != _BUDGET_FILTER:
                self.filters[name] = self._guarded(name, fn, _FILTER_GUARDS.get(name))
        self.compile_template = lru_cache(maxsize=MAX_TEMPLATE_CACHE)(self.from_string)

    # -- evaluation ---------------------------------------------------------------------------

    def evaluate(self, template: Template, context: dict[str, Any]) -> str:
        """Render ``template`` with ``context`` as its whole namespace (shared, not copied),
        within the budget; the output is at most :data:`MAX_OUTPUT_BYTES` characters."""
        budget = self.budget
        budget.start()
        try:
            return _render(template, context)
        finally:
            # The watchdog's raise lands at the next call or backward jump of this thread: the
            # budget goes off before any (the statement is a plain store), and under the lock
            # (the watchdog raises only holding it) one raised but not landed yet is cleared,
            # or lands here. Either way it never surfaces after this method returns.
            budget.active = False
            with _WATCHDOG.lock:
                if budget.interrupted:
                    budget.interrupted = False
                    _raise_in(budget.thread, None)

    def finalize_output(self, value: Any) -> Any:
        """Every ``{{ }}`` value passes here before Jinja prints it."""
        if type(value) is not str:
            text_length(value)
        return value

    # -- the budget -----------------------------------------------------------------------------

    def budgeted(self, iterable: Any) -> Iterator[Any]:
        step = self.budget.step
        for item in iterable:
            step()
            yield item

    def bounded_range(self, *args: int) -> Iterator[int]:
        try:
            span = range(*args)
            count = len(span)
        except OverflowError:
            count = MAX_STEPS + 1
        if count > MAX_STEPS:
            raise BudgetError(f"range of more than {MAX_STEPS} numbers")
        return self.budgeted(span)

    def _range_global(self) -> Callable[..., Iterator[int]]:
        def range_(*args: int) -> Iterator[int]:
            return self.bounded_range(*args)

        range_.__name__ = "range"
        return range_

    def bounded_concat(self, parts: Iterable[Any]) -> str:
        size = 0
        for part in parts:
            size += len(part) if type(part) is str else text_length(part)
        _check_size(size, "a joined string")
        return self.budget.charge("".join(map(str, parts)))

    def bounded_join(self, value: Any, d: Any = "", attribute: Any = None) -> str:
        """Jinja's ``join`` (without autoescape), with the items sized before joining."""
        if attribute is not None:
            value = map(make_attrgetter(self, attribute), value)
        items = value if isinstance(value, (list, tuple)) else list(self.budgeted(value))
        if type(d) is not str:
            text_length(d)
        separator = str(d)
        size = len(separator) * max(0, len(items) - 1)
        for item in items:
            size += len(item) if type(item) is str else text_length(item)
            _check_size(size, "a joined string")
        return separator.join(map(str, items))

    def bounded_sum(self, iterable: Any, attribute: Any = None, start: Any = 0) -> Any:
        """Jinja's ``sum``, one ``+`` at a time so each is sized (``sum(start=[])`` over
        lists would otherwise copy without bound inside one C call)."""
        if attribute is not None:
            iterable = map(make_attrgetter(self, attribute), iterable)
        total = start
        for item in iterable:
            total = self.call_binop(None, "+", total, item)  # type: ignore[arg-type]
        return total

    def _guarded(
        self, name: str, fn: Callable[..., Any], guard: Callable[..., None] | None
    ) -> Callable[..., Any]:
        budget = self.budget
        # Filters marked pass_context/pass_environment get that object first; checks skip it.
        skip = 1 if getattr(fn, "jinja_pass_arg", None) is not None else 0
        text = name not in STRUCTURAL_FILTERS and name not in _SIZES_ITS_INPUT

        # Written out flat: this runs for every filter of every row (the fast path too).
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if text:
                for value in args[1:] if skip else args:
                    if type(value) not in _PLAIN_TEXT:
                        _require_text(args[skip:])
                        break
                if kwargs:
                    _require_text(kwargs.values())
            if guard is not None:
                guard(*args[skip:], **kwargs)
            if not budget.active:
                return fn(*args, **kwargs)
            budget.steps += 1
            if budget.steps > MAX_STEPS:
                raise BudgetError(f"the template runs more than {MAX_STEPS} steps")
            result = fn(*args, **kwargs)
            if type(result) in _SIZED:
                budget.produced += len(result)
                if budget.produced > MAX_PRODUCED:
                    budget.charge(result)  # raises, with the message
            return result

        # Keep Jinja's pass_context/pass_environment markers and the name in errors.
        wrapper.__dict__.update(getattr(fn, "__dict__", {}))
        wrapper.__name__ = getattr(fn, "__name__", name)
        return wrapper

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        if len(source) > MAX_SOURCE:
            raise BudgetError(f"the template is {len(source):,} characters; at most {MAX_SOURCE:,}")
        tree = super()._parse(source, name, filename)
        # Count every loop's iterations, whatever it iterates over.
        for loop in tree.find_all(nodes.For):
            loop.iter = nodes.Filter(loop.iter, _BUDGET_FILTER, [], [], None, None)
            loop.iter.set_lineno(loop.lineno)
        return tree

    # -- sandbox hooks ------------------------------------------------------------------------

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
        elif operator_ == "%" and isinstance(left, str):
            percent_size(left, right)
        elif operator_ == "+":
            _check_size(_size(left) + _size(right), "a joined value")
        result = _BINOPS[operator_](left, right)
        if isinstance(result, int) and result.bit_length() > MAX_INT_BITS:
            raise BudgetError("the number grows too large")
        return self.budget.charge(result)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        __self.budget.step()
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str):
            args = _guard_str_method(owner, __obj.__name__, args)
        return __self.budget.charge(super().call(__context, __obj, *args, **kwargs))

    def getitem(self, obj: Any, argument: Any) -> Any:
        value = super().getitem(obj, argument)
        if type(argument) is slice:
            self.budget.charge(value)
        return value

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """``str.format``/``format_map`` (however reached: ``.format``, ``|attr('format')``,
        ``['format']``) through a formatter that sizes every field before formatting it."""
        if not isinstance(value, (MethodType, BuiltinMethodType)) or value.__name__ not in (
            "format",
            "format_map",
        ):
            return None
        owner = value.__self__
        if not isinstance(owner, str):
            return None
        formatter: SandboxedFormatter
        if isinstance(owner, Markup):
            formatter = _EscapeFormatter(self, owner.escape)
        else:
            formatter = _Formatter(self)
        is_map = value.__name__ == "format_map"
        budget = self.budget

        def bounded_format(*args: Any, **kwargs: Any) -> str:
            if is_map:
                if kwargs or len(args) != 1:
                    raise TypeError("format_map() takes exactly one mapping argument")
                args, kwargs = (), args[0]
            formatter.total = len(owner)
            return budget.charge(type(owner)(formatter.vformat(owner, args, kwargs)))

        bounded_format.__name__ = value.__name__
        return bounded_format


def _render(template: Template, context: dict[str, Any]) -> str:
    chunks = template.root_render_func(template.new_context(context, shared=True))
    total = 0
    parts = []
    for chunk in chunks:
        total += len(chunk)
        if total > MAX_OUTPUT_BYTES:
            raise BudgetError(f"the output is over {MAX_OUTPUT_BYTES} characters")
        parts.append(chunk)
    return "".join(parts)


def _no_lipsum(*args: Any, **kwargs: Any) -> str:
    raise SecurityError("lipsum is not available: a render must give the same text every time")


_BINOPS: dict[str, Callable[[Any, Any], Any]] = {
    "*": operator.mul,
    "**": operator.pow,
    "+": operator.add,
    "%": operator.mod,
}


def _guard_str_method(owner: str, name: str, args: tuple[Any, ...]) -> tuple[Any, ...]:
    """Refuse a ``str`` method call whose result would pass the output bound; the arguments
    to pass on (an iterable given to ``join`` is read once, here)."""
    if name in ("center", "ljust", "rjust", "zfill", "expandtabs"):
        for arg in args:
            if isinstance(arg, int):
                _check_size(arg if name != "expandtabs" else arg * len(owner), f"str.{name}")
    elif name == "replace" and len(args) >= 2:
        old, new = str(args[0]), str(args[1])
        hits = owner.count(old) if old else len(owner) + 1
        _check_size(len(owner) + hits * max(0, len(new) - len(old)), "str.replace")
    elif name == "join" and len(args) == 1:
        items = args[0] if isinstance(args[0], (list, tuple)) else list(args[0])
        size = len(owner) * max(0, len(items) - 1)
        for item in items:
            size += _size(item)
            _check_size(size, "str.join")
        return (items,)
    return args


def _width_guard(value: Any = "", width: Any = 80, *args: Any, **kwargs: Any) -> None:
    if isinstance(width, int):
        _check_size(width * (str(value).count("\n") + 1), "a padded value")


def _format_guard(value: Any = "", *args: Any, **kwargs: Any) -> None:
    percent_size(str(value), kwargs or args)


def _count_guard(value: Any = (), count: Any = 1, *args: Any, **kwargs: Any) -> None:
    if isinstance(count, int):
        _check_size(count, "a batch or slice count")


def _replace_guard(value: Any = "", old: Any = "", new: Any = "", *args: Any, **kw: Any) -> None:
    _guard_str_method(str(value), "replace", (old, new))


def _wordwrap_guard(value: Any = "", width: Any = 79, *args: Any, **kwargs: Any) -> None:
    if isinstance(width, int) and width < 1:
        raise BudgetError("wordwrap width must be positive")


def _dump_guard(value: Any = None, *args: Any, **kwargs: Any) -> None:
    # JSON and pprint print nested values: size them first (indent can at most multiply).
    indent = kwargs.get("indent", args[0] if args else None)
    factor = 1 + (indent if isinstance(indent, int) and indent > 0 else 0)
    text_length(value, MAX_OUTPUT_BYTES // factor)


_FILTER_GUARDS: dict[str, Callable[..., None]] = {
    "center": _width_guard,
    "indent": _width_guard,
    "format": _format_guard,
    "batch": _count_guard,
    "slice": _count_guard,
    "replace": _replace_guard,
    "wordwrap": _wordwrap_guard,
    "tojson": _dump_guard,
    "json": _dump_guard,
    "pprint": _dump_guard,
}
