"""{% icon %}: one <use> of the sprite static/img/icons.svg per icon, and an unknown name is an error."""

import re
from pathlib import Path

import pytest
from django.template import Context, Template, TemplateSyntaxError
from django.template.loader import get_template

from core.templatetags.core_tags import icon_names

ROOT = Path(__file__).resolve().parents[2]
SPRITE = ROOT / "static" / "img" / "icons.svg"


def render(source: str, **context) -> str:
    return Template("{% load core_tags %}" + source).render(Context(context))


def test_an_icon_is_a_use_of_its_symbol_in_the_sprite():
    html = render('{% icon "download" %}|{% icon "play" class="icon-play" %}|{% icon name class=extra %}', name="x")
    first, second, third = html.split("|")
    assert first.startswith('<svg class="icon" viewBox="0 0 24 24" width="20" height="20" fill="none"')
    assert 'stroke="currentColor" stroke-width="1.8"' in first and 'aria-hidden="true" focusable="false"' in first
    assert first.endswith('<use href="/static/img/icons.svg#i-download"></use></svg>')
    assert second.startswith('<svg class="icon icon-play" ') and "#i-play" in second
    assert third.startswith('<svg class="icon" ') and "#i-x" in third  # an empty class adds nothing
    assert ' style="' not in html  # the CSP forbids inline styles
    assert 'class="icon a&quot; onload=&quot;x"' in render("{% icon 'x' class=extra %}", extra='a" onload="x')


def test_an_unknown_icon_fails_loudly_instead_of_rendering_nothing():
    with pytest.raises(TemplateSyntaxError, match="Unknown icon 'dowload'"):
        Template('{% load core_tags %}{% icon "dowload" %}')  # a quoted name: when the template compiles
    with pytest.raises(TemplateSyntaxError, match="Unknown icon 'nope'"):
        render("{% icon name %}", name="nope")  # a variable: when it renders
    with pytest.raises(TemplateSyntaxError, match="Unknown icon ''"):
        render("{% icon missing %}")
    for bad in ("{% icon %}", '{% icon "x" "check" %}', '{% icon "x" size="16" %}'):
        with pytest.raises(TemplateSyntaxError):
            Template("{% load core_tags %}" + bad)


def test_the_sprite_has_one_symbol_per_name_on_the_24px_grid_and_no_inline_styles():
    text = re.sub(r"<!--.*?-->", "", SPRITE.read_text(), flags=re.S)
    ids = re.findall(r'<symbol id="i-([a-z0-9-]+)"', text)
    assert len(ids) == len(set(ids)) == len(icon_names()) > 60
    assert set(icon_names().values()) == {"0 0 24 24"}
    assert "style=" not in text and "<script" not in text


def test_every_template_that_uses_icons_compiles_so_every_quoted_name_exists():
    templates = [
        path
        for path in ROOT.glob("**/templates/**/*.html")
        if ".venv" not in path.parts and "{% icon " in path.read_text()
    ]
    assert len(templates) > 20
    for path in templates:
        get_template(str(path).split("/templates/", 1)[1])
    leftovers = [p for p in templates if re.search(r"includes/icons?[/.]|partial ticon", p.read_text())]
    assert not leftovers
