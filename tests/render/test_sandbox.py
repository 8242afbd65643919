"""Hostile and broken templates: refused with a located error, never a traceback, quickly."""

from __future__ import annotations

import os
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
