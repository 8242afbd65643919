"""Hostile and broken templates: refused with a located error, never a traceback, quickly."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from tests.render.conftest import PushRepo, emas, render_errors

CAMPAIGN = "campaigns/c.yaml"


def only_error(repo: PushRepo, template: str) -> tuple[str, str]:
    started = time.monotonic()
    problems = render_errors(repo, template)
    assert time.monotonic() - started < 5
    (problem,) = problems
    assert (problem.file, problem.path) == (CAMPAIGN, "tasks[0].Title")
    assert (problem.line, problem.column) == (1, 153)  # where the Title string is written
    return problem.rule, problem.message


@pytest.mark.parametrize(
    "escape",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ self.__init__.__globals__ }}",
        "{{ lipsum.__globals__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ [].__class__.__base__.__subclasses__() }}",
        "{{ joiner.__init__.__globals__.os }}",
        "{{ namespace.__init__.__globals__ }}",
        "{% for c in ().__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
    ],
)
def test_known_sandbox_escapes_are_refused(repo: PushRepo, escape: str) -> None:
    rule, message = only_error(repo, escape)
    assert rule == "template.sandbox"
    assert "unsafe" in message


def test_a_loop_over_a_huge_range_is_refused(repo: PushRepo) -> None:
    rule, message = only_error(repo, "{% for i in range(10**9) %}x{% endfor %}")
    assert rule == "template.too-large"
    assert "range" in message


def test_nested_loops_run_out_of_steps(repo: PushRepo) -> None:
    rule, _ = only_error(
        repo, "{% for i in range(50000) %}{% for j in range(50000) %}{% endfor %}{% endfor %}"
    )
    assert rule == "template.too-large"


def test_loops_over_long_strings_are_counted_too(repo: PushRepo) -> None:
    rule, _ = only_error(
        repo, "{% set s = 'x' * 60000 %}{% for a in s %}{% for b in s %}{% endfor %}{% endfor %}"
    )
    assert rule == "template.too-large"


@pytest.mark.parametrize(
    "template",
    [
        "{{ 'x' * 10**9 }}",
        "{{ [0] * 10**9 }}",
        "{{ 'x' | center(10**9) }}",
        "{{ 'x' | indent(10**9, true) }}",
        "{{ '%0999999999d' | format(1) }}",
        "{{ '%0999999999d' % 1 }}",
        "{{ '{:>999999999}'.format(1) }}",
        "{{ 'x'.ljust(10**9) }}",
        "{{ ('x' * 60000) | replace('', 'yy') }}",
        "{{ 2 ** (10**9) }}",
        "{% set ns = namespace(s='xxxxxxxx') %}{% for i in range(40) %}"
        "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}",
        "{% for i in range(1000) %}{{ 'x' * 1000 }}{% endfor %}",
    ],
)
def test_unbounded_output_is_refused_before_it_is_built(repo: PushRepo, template: str) -> None:
    rule, message = only_error(repo, template)
    assert rule == "template.too-large", message


def test_renders_are_deterministic_so_random_helpers_are_gone(repo: PushRepo) -> None:
    rule, _ = only_error(repo, "{{ [1, 2, 3] | random }}")
    assert rule == "template.syntax"  # Jinja refuses unknown filters when compiling
    rule, message = only_error(repo, "{{ lipsum() }}")
    assert rule == "template.sandbox" and "same text" in message


def test_an_undefined_variable_is_a_located_error(repo: PushRepo) -> None:
    rule, message = only_error(repo, "Hello {{ nobody }}")
    assert (rule, message) == ("template.undefined", "undefined: 'nobody' is undefined")


def test_a_syntax_error_is_a_located_error(repo: PushRepo) -> None:
    rule, message = only_error(repo, "Hello {{ name")
    assert rule == "template.syntax"
    assert message.startswith("template syntax error:")


def test_a_filter_error_is_a_located_error(repo: PushRepo) -> None:
    rule, message = only_error(repo, "{{ 'soon' | api_time }}")
    assert (rule, message) == (
        "template.filter",
        "'soon' is not a time (expected e.g. 2026-11-22T09:00:00Z)",
    )


def test_runaway_recursion_is_a_located_error(repo: PushRepo) -> None:
    rule, _ = only_error(repo, "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}")
    assert rule == "template.recursion"


def test_an_error_in_a_nested_map_value_points_at_that_value(repo: PushRepo) -> None:
    repo.write(
        "campaigns/c.yaml",
        """
        id: c
        app: shop
        tasks:
          - id: t
            DeviceType: ANDROID
            PushType: NOTICE
            Target: DEVICE
            TargetValue: d
            Title: t
            Body: b
            AndroidExtParameters:
              ok: fine
              bad: "{{ missing }}"
        """,
    )
    _, problems = repo.deliveries()
    (problem,) = problems
    assert (problem.line, problem.column, problem.path) == (
        13,
        12,
        "tasks[0].AndroidExtParameters.bad",
    )


@pytest.mark.parametrize("name", ["../outside.j2", "/etc/passwd", "sub/../../outside.j2"])
def test_includes_outside_the_templates_folder_are_refused(repo: PushRepo, name: str) -> None:
    repo.write("pushops.yaml", (repo.root / "pushops.yaml").read_text() + "templates: templates\n")
    repo.write("outside.j2", "secret")
    repo.write("templates/ok.j2", "fine")
    rule, message = only_error(repo, "{% include '" + name + "' %}")
    assert rule == "template.sandbox"
    assert "outside the templates folder" in message


def test_a_symlink_out_of_the_templates_folder_is_refused(repo: PushRepo, tmp_path_factory) -> None:
    outside = tmp_path_factory.mktemp("elsewhere") / "secret.j2"
    outside.write_text("secret")
    repo.write("pushops.yaml", (repo.root / "pushops.yaml").read_text() + "templates: templates\n")
    (repo.root / "templates").mkdir()
    os.symlink(outside, repo.root / "templates" / "link.j2")
    rule, message = only_error(repo, "{% include 'link.j2' %}")
    assert rule == "template.sandbox" and "leads outside" in message


def test_an_include_without_a_templates_folder_says_so(repo: PushRepo) -> None:
    rule, message = only_error(repo, "{% include 'x.j2' %}")
    assert rule == "template.include"
    assert "no `templates` folder" in message


def test_validate_reports_a_sandbox_violation_without_a_traceback(repo: PushRepo) -> None:
    repo.campaign("c", emas(Title="{{ ''.__class__.__mro__ }}"))
    result = repo.cli("validate", "--now", "2026-11-22T09:00:00Z")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "campaigns/c.yaml:1:153: tasks[0].Title: refused by the sandbox" in result.output


# --- values without a text form (issue 12.11) ---------------------------------------------

PYTHON_INTERNALS = (
    "<function",
    "<bound method",
    "<built-in",
    "<generator",
    " object at 0x",
    "<class",
)


@pytest.mark.parametrize(
    "template",
    [
        "{{ range }}",
        "{{ cycler }}",
        "{{ joiner() }}",
        "{{ now.astimezone }}",
        "{{ [1, 2] | map('upper') }}",
        "{{ [1, 2] | reverse }}",
        "{{ namespace() }}",
        "{% for i in [1] %}{{ loop }}{% endfor %}",
        "{{ 'at ' ~ range }}",
        "{{ '%s' % range }}",
        "{{ '{}'.format(now.astimezone) }}",
        "{{ [range] }}",
        "{{ {'k': cycler} }}",
        "{{ range | string }}",
        "{{ range | pprint }}",
        "{{ range | upper }}",
        "{{ [range] | join }}",
        "{{ 'x' | replace('x', range) }}",
    ],
)
def test_printing_a_value_without_a_text_form_is_a_located_error(
    repo: PushRepo, template: str
) -> None:
    rule, message = only_error(repo, template)
    assert rule == "template.not-text", message
    assert "no text form" in message and " at 0x" not in message


def test_data_and_times_still_print_as_text(repo: PushRepo) -> None:
    repo.campaign(
        "c",
        emas(Title="{{ now }} {{ now.tzinfo }} {{ [1, 'a', none, true] }} {{ {'k': 2.5} }}"),
    )
    (delivery,), problems = repo.deliveries()
    assert problems == []
    assert delivery.params["Title"] == (
        "2026-11-22 09:00:00+00:00 UTC [1, 'a', None, True] {'k': 2.5}"
    )


def test_no_filter_prints_a_function(repo: PushRepo) -> None:
    from pushops.render.sandbox import Sandbox

    sandbox = Sandbox()
    leaks = []
    for name in sorted(sandbox.filters):
        if not name.isidentifier():
            continue
        for value in ("fn", "[fn]", "{'k': fn}"):
            source = f"{{{{ ({value}) | {name} }}}}"
            try:
                text = sandbox.evaluate(
                    sandbox.from_string(source), {**sandbox.globals, "fn": sandbox.globals["range"]}
                )
            except Exception:
                continue
            if any(word in text for word in PYTHON_INTERNALS):
                leaks.append((source, text[:80]))
    assert leaks == []


def test_an_undefined_name_in_a_list_is_still_an_undefined_error(repo: PushRepo) -> None:
    rule, message = only_error(repo, "{{ [nobody] }}")
    assert (rule, message) == ("template.undefined", "undefined: 'nobody' is undefined")


# --- bounds on memory and time (issue 12.12) -----------------------------------------------


@pytest.mark.parametrize(
    "template",
    [
        "{{ [[1]*60000]*60000 }}",
        "{{ ([[1]*60000]*60000) | sum(start=[]) }}",
        "{{ (['x'*60000]*60000) | join }}",
        "{{ ''.join(['x'*60000]*60000) }}",
        "{{ ('%s'*30000) % (('x'*60000,)*30000) }}",
        "{{ ('%(a)s'*10000) % {'a': 'x'*60000} }}",
        "{{ '%*d' % (10**8, 1) }}",
        "{{ ('%s'*30000) | format(*(('x'*60000,)*30000)) }}",
        "{{ ('{0}'*20000).format('x'*60000) }}",
        "{{ '{:{}}'.format('a', 10**8) }}",
        "{{ ('{0}'*20000) | attr('format') }}",
        "{{ (('{0}'*20000) | attr('format'))('x'*60000) }}",
        "{{ ([[1]*60000]*60000) | tojson }}",
        "{{ ([[1]*60000]*60000) | pprint }}",
        "{{ ([1]*60000) | string }}",
        "{{ range(100000) | map('center', 65000) | list | length }}",
        "{{ range(10**100) }}",
    ],
)
def test_a_value_that_would_grow_past_the_bounds_is_refused_before_it_is_built(
    repo: PushRepo, template: str
) -> None:
    rule, message = only_error(repo, template)
    assert rule in ("template.too-large", "template.not-text"), message


# Five hundred chained selects read 65,536 items each inside Jinja's own generators: while
# they do, no loop step, call, operator or filter of the template runs, so only the watchdog
# can stop it (left alone it runs for over ten seconds here, then prints 65536).
_SELECTS = " | select" * 100
NO_CHECKPOINTS = (
    "{% set a = ([1] * 65536)" + _SELECTS + " %}"
    + ("{% set a = a" + _SELECTS + " %}") * 4
    + "{{ a | list | length }}"
)  # fmt: skip


def test_a_template_that_runs_without_reaching_any_check_is_stopped_by_the_clock(
    repo: PushRepo,
) -> None:
    started = time.monotonic()
    rule, message = only_error(repo, NO_CHECKPOINTS)
    assert (rule, message) == ("template.too-large", "refused: the template ran longer than 1 s")
    assert time.monotonic() - started < 10  # unstopped: over 10 s of CPU, then success


def test_a_timed_out_template_leaves_the_next_one_unharmed(repo: PushRepo) -> None:
    task = emas()["tasks"][0]
    repo.campaign(
        "c",
        {
            "id": "c",
            "app": "shop",
            "tasks": [
                {**task, "id": "slow", "Title": NO_CHECKPOINTS},
                {**task, "id": "fine", "Title": "{{ brand }}"},
            ],
        },
    )
    deliveries, problems = repo.deliveries()
    assert [p.rule for p in problems] == ["template.too-large"]
    assert [d.params["Title"] for d in deliveries] == ["Acme Shop"]


def test_a_huge_template_source_is_refused_before_it_is_parsed(repo: PushRepo) -> None:
    rule, message = only_error(repo, "{{ 1 }}" * 20_000)
    assert rule == "template.too-large" and "at most 65,536" in message


# --- CVE-2025-27516 (issue 12.2) -----------------------------------------------------------

SECRET = "S3cret-Distinctive-Value-9f8e7d"


@pytest.mark.parametrize(
    "template",
    [
        "{{ ('{0.__init__.__globals__[os].environ}' | attr('format'))(cycler) }}",
        "{{ ('{0.__init__.__globals__}' | attr('format'))(joiner) }}",
        "{{ ('{x.__init__.__globals__[os].environ}' | attr('format_map'))({'x': cycler}) }}",
        "{{ '{0.__init__.__globals__[os].environ}'['format'](cycler) }}",
        "{{ ('{0.__class__.__mro__}' | attr('format'))('') }}",
    ],
)
def test_str_format_reached_through_attr_cannot_read_the_environment(
    repo: PushRepo, template: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
    repo.campaign("c", emas(Title=template))
    for command in ("validate", "render"):
        result = repo.cli(command, "--now", "2026-11-22T09:00:00Z")
        assert result.exit_code == 1, result.output
        assert SECRET not in result.output and "environ(" not in result.output
        assert "refused by the sandbox" in result.output


def test_a_jinja_with_the_leaking_sandbox_is_refused() -> None:
    from pushops.diagnostics import PushopsError
    from pushops.render.sandbox import require_fixed_jinja

    with pytest.raises(PushopsError, match="CVE-2025-27516"):
        require_fixed_jinja("3.1.5")
    require_fixed_jinja("3.1.6")
    require_fixed_jinja("3.2.0")


def test_the_package_requires_a_fixed_jinja() -> None:
    import tomllib

    from tests.render.conftest import REPO

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    (jinja,) = [d for d in project["dependencies"] if d.lower().startswith("jinja2")]
    assert jinja.replace(" ", "").lower() == "jinja2>=3.1.6"


# Thousands of evaluations ending just before, at and just after a tiny deadline, each followed
# by plain Python work: the watchdog's TemplateTimeout must surface inside the evaluation it
# stopped or not at all, never in the code that runs next (in apply: the ledger's writes).
WATCHDOG_RACE = """
import sys, time
import pushops.render.sandbox as sb
sb.MAX_SECONDS, sb.WATCHDOG_TICK = 0.004, 0.0005
box = sb.Sandbox()
sizes = range(100, 60000, 700)
templates = [box.from_string("{% set a = ([1] * " + str(n) + ") | select | select | select %}"
             "{{ a | list | length }}") for n in sizes]
ok = stopped = escaped = i = 0
end = time.monotonic() + float(sys.argv[1])
while time.monotonic() < end:
    try:
        try:
            box.evaluate(templates[i % len(templates)], dict(box.globals))
            ok += 1
        except sb.BudgetError:
            stopped += 1
        total = 0
        for k in range(20000):
            total += k
    except sb.BudgetError:
        escaped += 1
    i += 1
print(ok, stopped, escaped)
"""


def test_the_clock_never_interrupts_the_code_after_the_template_it_stopped() -> None:
    done = subprocess.run(
        [sys.executable, "-c", WATCHDOG_RACE, "3"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    ok, stopped, escaped = map(int, done.stdout.split())
    assert ok > 0 and stopped > 0
    assert escaped == 0


def test_a_forked_process_still_has_the_clock() -> None:
    # A renderer made before fork() (a worker pool) must still be stopped in the child.
    script = (
        "import os, sys\n"
        "import pushops.render.sandbox as sb\n"
        "from tests.render.test_sandbox import NO_CHECKPOINTS\n"
        "box = sb.Sandbox()\n"
        "box.evaluate(box.from_string('{{ 1 }}'), dict(box.globals))\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    try:\n"
        "        box.evaluate(box.from_string(NO_CHECKPOINTS), dict(box.globals))\n"
        "        os._exit(3)\n"
        "    except sb.TemplateTimeout:\n"
        "        os._exit(0)\n"
        "_, status = os.waitpid(pid, 0)\n"
        "sys.exit(os.waitstatus_to_exitcode(status))\n"
    )
    from tests.render.conftest import REPO

    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, timeout=60)
    assert done.returncode == 0
