"""`{% url %}` resolved once per name and arguments: a page of the desk writes 40-60 links, most of them the
same on every page (the top bar, the forms' actions), and Django's tag resolves each one again.

    {% load links %}   after the other libraries: its `url` replaces the built-in tag in that template

Same syntax and output as the built-in tag (`{% url 'name' arg key=value as var %}`, autoescaped, the
request's current app); the URL is looked up in a per-process cache keyed by everything `reverse()` reads
(name, arguments, current app, URLconf and script prefix), so a changed prefix or URLconf is a new entry;
an argument other than a string or an integer (e.g. a model instance) goes to `reverse()` every time.
"""

from functools import lru_cache

from django import template
from django.template.defaulttags import URLNode
from django.template.defaulttags import url as builtin_url
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.html import conditional_escape

register = template.Library()

_PLAIN = (str, int)  # arguments whose text is their value: a cache key that cannot go stale


@lru_cache(maxsize=4096)
def _reverse(view_name, args: tuple, kwargs: tuple, current_app, urlconf, prefix) -> str:
    return reverse(view_name, args=args, kwargs=dict(kwargs), current_app=current_app, urlconf=urlconf)


class CachedURLNode(URLNode):
    def render(self, context):
        args = tuple(arg.resolve(context) for arg in self.args)
        kwargs = tuple((k, v.resolve(context)) for k, v in self.kwargs.items())
        view_name = self.view_name.resolve(context)
        try:
            current_app = context.request.current_app
        except AttributeError:
            try:
                current_app = context.request.resolver_match.namespace
            except AttributeError:
                current_app = None
        if not (isinstance(view_name, str) and all(type(a) in _PLAIN for a in args)
                and all(type(v) in _PLAIN for _, v in kwargs)):  # e.g. a model instance: as the built-in tag does
            return super().render(context)
        url = ""
        try:
            url = _reverse(view_name, args, kwargs, current_app, get_urlconf(), get_script_prefix())
        except NoReverseMatch:
            if self.asvar is None:
                raise
        if self.asvar:
            context[self.asvar] = url
            return ""
        return conditional_escape(url) if context.autoescape else url


@register.tag
def url(parser, token):
    node = builtin_url(parser, token)
    return CachedURLNode(node.view_name, node.args, node.kwargs, node.asvar)
