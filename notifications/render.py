"""Rendering partner e-mail: one template per event, said in the recipient's language, then
the MIME bytes to store.

Each event has `templates/<event>/subject.txt | body.txt | body.html`, written in English with
every sentence marked `_()` (jinja2.ext.i18n, new style): the sentences are said from the
catalogue of the language the mail is written in (`i18n`), so a wording fix is one entry per
language. The language is the recipient's own when its catalogue has the event's sentences,
else the next of their chain (`Recipient.language_chain`); the language used and the one
wanted are recorded (`Rendered`). Arabic HTML is written right to left. Text (subjects and
plain bodies) and HTML use separate Jinja2 environments because autoescaping a subject would
print `R&amp;D`; both use `StrictUndefined`, so a missing variable fails at enqueue time
with a `TemplateError` instead of reaching a partner as an empty gap. Dates, times, money and
catalogue labels are formatted by filters in the language the mail is actually written in.

The templates are compiled once per language (`_SentenceEnvironment`): a sentence that is a
literal is translated at compile time, so the frame every mail shares costs a few string
pieces per render instead of a gettext call, a Markup and an escape per sentence (issue 16);
`MailRenderer(compile_sentences=False)` renders the templates as written, and the tests check
that both say the same, byte for byte.

Rendering is done once, when a mail is queued; the outbox stores the bytes `build_message`
returns, with a `Message-ID` derived from the outbox key so a resend is the same message.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import gettext as gettext_module
import hashlib
import os
import re
import struct
import types
import urllib.parse
from collections import ChainMap, Counter
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from email.headerregistry import Address
from email.utils import format_datetime
from operator import itemgetter
from pathlib import Path
from types import TracebackType
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from babel import Locale
from babel.dates import format_date
from babel.dates import format_datetime as babel_datetime
from babel.lists import format_list
from babel.numbers import format_currency
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame, optimizeconst
from jinja2.exceptions import FilterArgumentError
from jinja2.utils import internalcode
from jinja2.visitor import NodeTransformer
from markupsafe import Markup, escape

try:
    from markupsafe._speedups import _escape_inner
except ImportError:  # pragma: no cover (markupsafe without its C speedups)
    from markupsafe._native import _escape_inner

import i18n
from config.catalogues import Catalogues, load_catalogues
from engine.errors import CicieError
from notifications.headers import clean_header, parse_address, parse_mailbox
from notifications.recipient import Recipient
from workflows import template_index

TEMPLATE_DIR = Path(__file__).parent / "templates"
SUBJECT, TEXT, HTML = template_index.PARTS  # subject.txt, body.txt, body.html
# set by the renderer: the language being written, its direction, its gettext
RESERVED_KEYS = frozenset(
    {"language", "direction", "_", "gettext", "ngettext", "pgettext", "npgettext"}
)

_TEMPLATE_NAME = re.compile(r"[a-z][a-z0-9_]*")
_LANGUAGE = re.compile(r"[a-z]{2,3}(?:_[A-Z]{2})?")
_MESSAGE_ID = re.compile(r"<[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+>")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DOMAIN = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_TOKEN = re.compile(r"[A-Za-z0-9!#$&^_.+-]+")
# errors a template can raise while rendering: Jinja's own, and those its filters and
# expressions raise on bad data (a date that is not a date, `1 + "a"`, a missing key)
_RENDER_ERRORS = (jinja2.TemplateError, TypeError, ValueError, ArithmeticError, LookupError)


class TemplateError(CicieError):
    """A mail that cannot be rendered: unknown template, no usable language, or a template
    problem (syntax, undefined variable, bad value); names the template and where it failed."""

    code = "template_error"

    def __init__(
        self,
        template: str,
        problem: str,
        *,
        language: str | None = None,
        file: str | None = None,
        line: int | None = None,
    ) -> None:
        where = file or (f"{template}/{language}" if language else template)
        at = f" line {line}" if line else ""
        super().__init__(
            f"template {where}{at}: {problem}",
            {
                "template": template,
                "language": language,
                "file": file,
                "line": line,
                "problem": problem,
            },
        )
        self.template = template
        self.language = language
        self.file = file
        self.line = line
        self.problem = problem


@dataclass(frozen=True)
class Rendered:
    """One mail as written for one recipient, in the language actually used."""

    language: str
    subject: str
    text: str
    html: str
    wanted: str | None = None  # the recipient's own language, when it was not available

    @property
    def fell_back(self) -> bool:
        """Written in another language than the recipient's own (recorded in the outbox)."""
        return self.wanted is not None and self.wanted != self.language


@dataclass(frozen=True)
class Attachment:
    """A file to attach; `content_type` may carry parameters (`text/calendar; method=…`)."""

    filename: str
    content_type: str
    data: bytes

    @classmethod
    def invitation(cls, data: bytes, filename: str = "invitation.ics") -> Attachment:
        """An iCalendar invitation as calendar clients expect it (see notifications.ics)."""
        return cls(filename, "text/calendar; method=REQUEST; charset=utf-8", data)


# ------------------------------------------------------------------------------ filters
def _locale(ctx: jinja2.runtime.Context) -> str:
    # ctx.get("language"), read from its two dicts (a mail formats some twenty values)
    found = ctx.vars
    language = found["language"] if "language" in found else ctx.parent.get("language")
    if not isinstance(language, str):
        raise jinja2.TemplateRuntimeError(
            "this filter needs the render language: import macros 'with context'"
        )
    return language


@functools.lru_cache(maxsize=32)
def _babel(language: str) -> Locale:
    """Babel's locale for a language, parsed once (a mail formats some twenty values)."""
    return Locale.parse(language)


# values whose formatting depends on nothing else (a str, a date, a datetime with its zone)
_DATE_VALUES = (str, dt.date)
_REMEMBERED = 4096


def _remember(cache: dict[tuple[Any, ...], str], key: tuple[Any, ...], value: str) -> None:
    if len(cache) >= _REMEMBERED:
        cache.clear()
    cache[key] = value


def _as_date(value: Any, zone: ZoneInfo) -> dt.date:
    if isinstance(value, dt.datetime):
        return _as_aware(value).astimezone(zone).date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        if "T" in value or " " in value.strip():
            return _as_aware(dt.datetime.fromisoformat(value)).astimezone(zone).date()
        return dt.date.fromisoformat(value)
    raise FilterArgumentError(f"not a date: {value!r}")


def _as_aware(value: Any) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if not isinstance(value, dt.datetime):
        raise FilterArgumentError(f"not a date and time: {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise FilterArgumentError(f"a naive date and time is ambiguous: {value!r}")
    return value


def _label(value: Any, language: str) -> str:
    """A label in `language`: plain text as is; {es, en, fr} mappings or catalogue Labels
    fall back to English, then Spanish."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        for lang in (language, "en", "es"):
            text = value.get(lang)
            if isinstance(text, str) and text:
                return text
        raise FilterArgumentError(f"no label in {language}, en or es: {value!r}")
    getter = getattr(value, "get", None)
    if callable(getter):
        return str(getter(language))
    raise FilterArgumentError(f"not a label: {value!r}")


class _Sentences(NodeTransformer):
    """Compiles a template's sentences, in one language, into its code: `_("Dear
    colleagues,")` becomes the translated text itself (trusted, as gettext's result is, in
    HTML), and `_("Dear %(name)s,", name=x)` the translated text `%` the values (escaped in
    HTML by Markup's `%`) — exactly what the new-style gettext (`_newstyle`) returns at
    every render. The render's `language` and `direction` (reserved: set by the renderer,
    never by a template) become constants too. Jinja then joins constant output into one
    string at compile time, so the frame of a mail costs a few string pieces instead of a
    gettext call, a Markup and an escape per sentence. Anything else (`ngettext`, a sentence
    that is not a literal) is left to the gettext callables given to each render."""

    def __init__(
        self, translations: gettext_module.NullTranslations, html: bool, language: str
    ) -> None:
        self.translations = translations
        self.html = html
        self.names = {"language": language, "direction": i18n.direction(language)}

    def visit_Name(self, node: nodes.Name) -> nodes.Node:  # noqa: N802 (Jinja's visitor names)
        if node.ctx == "load" and node.name in self.names:
            return nodes.Const(self.names[node.name], lineno=node.lineno)
        return node

    def visit_Call(self, call: nodes.Call) -> nodes.Node:  # noqa: N802
        node = self.generic_visit(call)  # the arguments first (a sentence inside a sentence)
        assert isinstance(node, nodes.Call)
        target, args = node.node, node.args
        if not isinstance(target, nodes.Name) or node.dyn_args or node.dyn_kwargs:
            return node
        if not all(isinstance(a, nodes.Const) and isinstance(a.value, str) for a in args):
            return node
        values = [a.value for a in args]  # type: ignore[attr-defined]
        if target.name in ("_", "gettext") and len(values) == 1:
            text = self.translations.gettext(values[0])
        elif target.name == "pgettext" and len(values) == 2:
            text = self.translations.pgettext(values[0], values[1])
        else:
            return node
        sentence: nodes.Expr = nodes.Const(text, lineno=node.lineno)
        if self.html:
            sentence = nodes.MarkSafe(sentence, lineno=node.lineno)
        if not node.kwargs:
            return sentence
        pairs = [
            nodes.Pair(nodes.Const(k.key, lineno=k.lineno), k.value, lineno=k.lineno)
            for k in node.kwargs
        ]
        return nodes.Mod(sentence, nodes.Dict(pairs, lineno=node.lineno), lineno=node.lineno)


def _assigned(tree: nodes.Template) -> Counter[str]:
    """How many times each name is assigned in a template (sets, loops, macro parameters,
    imports)."""
    found: Counter[str] = Counter()
    for node in tree.find_all((nodes.Name, nodes.Import, nodes.FromImport)):
        if isinstance(node, nodes.Name):
            if node.ctx in ("store", "param"):
                found[node.name] += 1
        elif isinstance(node, nodes.Import):
            found[node.target] += 1
        elif isinstance(node, nodes.FromImport):
            for name in node.names:
                found[name[1] if isinstance(name, tuple) else name] += 1
    return found


class _Replace(NodeTransformer):
    """Loads of one name, outside blocks, macros and call blocks, replaced by a constant."""

    def __init__(self, name: str, value: str | bool | int) -> None:
        self.name = name
        self.value = value

    def visit_Name(self, node: nodes.Name) -> nodes.Node:  # noqa: N802
        if node.ctx == "load" and node.name == self.name:
            return nodes.Const(self.value, lineno=node.lineno)
        return node

    def visit_Block(self, node: nodes.Block) -> nodes.Node:  # noqa: N802
        return node  # run at another moment, from a context a child template may have changed

    visit_Macro = visit_CallBlock = visit_Block  # noqa: N815


def _fold_top_level_sets(tree: nodes.Template, env: jinja2.Environment) -> None:
    """A top-level `{% set x = … %}` whose value is a constant (once the language is compiled
    in: `{% set start = "right" if direction == "rtl" else "left" %}`), assigned nowhere else
    in the file and read only after it, is put where the template reads it, outside blocks and
    macros (which run from the context at another moment). The set itself stays."""
    assigned = _assigned(tree)
    eval_ctx = nodes.EvalContext(env)
    for index, node in enumerate(tree.body):
        if not isinstance(node, nodes.Assign) or not isinstance(node.target, nodes.Name):
            continue
        name, expr = node.target.name, node.node
        if assigned[name] != 1 or not isinstance(expr, nodes.Expr):
            continue
        try:
            value = expr.as_const(eval_ctx)
        except nodes.Impossible:
            continue
        if type(value) not in (str, bool, int):  # not Markup, nor a mutable value
            continue
        earlier = nodes.Template(tree.body[:index])
        if any(n.name == name for n in earlier.find_all(nodes.Name)):
            continue  # read (or written) before it is set: leave it to the render
        replace = _Replace(name, value)
        tree.body[index + 1 :] = [replace.visit(n) for n in tree.body[index + 1 :]]


_DICT_ATTRIBUTES = frozenset(dir(dict))


# ------------------------------------------------------------------ compiled output
# What the code of a compiled template (`_SentenceEnvironment`) calls instead of Jinja's
# generic runtime, for the same text at a fraction of the cost (issue 16): an output of
# HTML is escaped without a Markup object made for each value (the rendering only joins
# them), a sentence with values escapes each value once rather than through markupsafe's
# `%` helper, and a method written in C (`data.get("x")`) is called directly rather than
# through `Context.call`. The renderer made with `compile_sentences=False` uses none of
# this, and the tests check that both write the same, byte for byte.
_NONE_PRINTED = "a value printed in the template is None (guard it with {% if %})"
# a sentence whose every conversion is `%(name)s` (or `%%`): str % {name: escaped value}
_PLAIN_CONVERSIONS = re.compile(r"%(?:%|\([^()]*\)s)")


def _out_html(value: Any) -> str:
    """`escape(_refuse_none(value))` as the text it joins into the rendering."""
    if type(value) is str:
        return _escape_inner(value)
    if value is None:
        raise TypeError(_NONE_PRINTED)
    return escape(value)


def _out_text(value: Any) -> str:
    """`str(_refuse_none(value))`."""
    if type(value) is str:
        return value
    if value is None:
        raise TypeError(_NONE_PRINTED)
    return str(value)


def _say(text: str, values: dict[str, Any]) -> str:
    """`Markup(text) % values` for a sentence whose conversions are all `%(name)s`, as text:
    each value escaped once (a Markup value, such as a macro's output, is kept as it is)."""
    for key, value in values.items():
        values[key] = _escape_inner(value) if type(value) is str else str(escape(value))
    return text % values


def _say_markup(text: str, values: dict[str, Any]) -> Markup:
    """`Markup(text) % values` (`_say`), for a sentence whose result is used, not printed."""
    return Markup(_say(text, values))


_C_FUNCTION = types.BuiltinFunctionType  # also the type of a C method bound: `{}.get`


def _call(context: jinja2.runtime.Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
    """`context.call(obj, …)`; a function written in C (`data.get`) takes no context, so it
    is called directly, with what `Context.call` would do around it."""
    if type(obj) is not _C_FUNCTION:
        return context.call(obj, *args, **kwargs)
    kwargs.pop("_block_vars", None)
    kwargs.pop("_loop_vars", None)
    try:
        return obj(*args, **kwargs)
    except StopIteration:
        return context.environment.undefined(
            "value was undefined because a callable raised a StopIteration exception"
        )


def _method(environment: jinja2.Environment, obj: Any, attribute: str) -> Any:
    """`environment.getattr(obj, attribute)` (`_SentenceEnvironment.getattr`) for an
    attribute that every dict has (`data.get`): a dict's own."""
    if type(obj) is dict:
        return getattr(obj, attribute)
    return environment.getattr(obj, attribute)


def _attribute(environment: jinja2.Environment, obj: Any, attribute: str) -> Any:
    """`environment.getattr(obj, attribute)` (`_SentenceEnvironment.getattr`) for an
    attribute that no dict has (checked when the template is compiled)."""
    if type(obj) is dict:
        try:
            return obj[attribute]
        except KeyError:
            return environment.undefined(obj=obj, name=attribute)
    try:  # as jinja2.Environment.getattr: the attribute, else the item
        return getattr(obj, attribute)
    except AttributeError:
        pass
    try:
        return obj[attribute]
    except (TypeError, LookupError, AttributeError):
        return environment.undefined(obj=obj, name=attribute)


def _plain_sentence(node: nodes.Node) -> str | None:
    """The text of an HTML sentence with values compiled by `_Sentences` (`Markup(text) %
    {…}`) when `_say` writes it exactly as Markup's `%` would, else None."""
    if not (isinstance(node, nodes.Mod) and isinstance(node.right, nodes.Dict)):
        return None
    left = node.left
    if isinstance(left, nodes.MarkSafe) and isinstance(left.expr, nodes.Const):
        text = left.expr.value  # as compiled
        if type(text) is not str:
            return None
    elif isinstance(left, nodes.Const) and type(left.value) is Markup:
        text = str(left.value)  # as Jinja's optimizer folds it
    else:
        return None
    if "%" in _PLAIN_CONVERSIONS.sub("", text):
        return None
    for pair in node.right.items:
        if not (isinstance(pair.key, nodes.Const) and type(pair.key.value) is str):
            return None
    return text


_HELPERS = ("_attribute", "_call", "_method", "_out_html", "_out_text", "_say", "_say_markup")


class _CodeGenerator(CodeGenerator):
    """Jinja's code generator, writing calls to the helpers above where they say the same."""

    _bare: nodes.Node | None = None  # the sentence printed as it is (`_say`, not Markup)
    _closing: list[str]

    def visit_Template(  # noqa: N802 (Jinja's visitor names)
        self, node: nodes.Template, frame: Frame | None = None
    ) -> None:
        self._closing = []
        self.writeline(f"from {__name__} import {', '.join(_HELPERS)}")
        super().visit_Template(node, frame)

    def _fast_output(self, frame: Frame) -> bool:
        return (
            not frame.eval_ctx.volatile
            and self.environment.finalize is _refuse_none
            and not self.environment.is_async
        )

    def _output_child_pre(
        self, node: nodes.Expr, frame: Frame, finalize: CodeGenerator._FinalizeInfo
    ) -> None:
        if not self._fast_output(frame):
            self._closing.append("")
            super()._output_child_pre(node, frame, finalize)
        elif not frame.eval_ctx.autoescape:
            self._closing.append(")")
            self.write("_out_text(")
        elif _plain_sentence(node) is not None:
            # a string, never None, already escaped: printed as it is
            self._closing.append("")
            self._bare = node
        else:
            self._closing.append(")")
            self.write("_out_html(")

    def _output_child_post(
        self, node: nodes.Expr, frame: Frame, finalize: CodeGenerator._FinalizeInfo
    ) -> None:
        closing = self._closing.pop()
        self._bare = None
        if not self._fast_output(frame):
            super()._output_child_post(node, frame, finalize)
        else:
            self.write(closing)

    @optimizeconst
    def visit_Mod(self, node: nodes.BinExpr, frame: Frame) -> None:  # noqa: N802
        text = _plain_sentence(node)
        if text is None or self.environment.sandboxed:
            self.write("(")
            self.visit(node.left, frame)
            self.write(" % ")
            self.visit(node.right, frame)
            self.write(")")
            return
        bare, self._bare = self._bare is node, None
        self.write(f"{'_say' if bare else '_say_markup'}({text!r}, ")
        self.visit(node.right, frame)
        self.write(")")

    @optimizeconst
    def visit_Getattr(self, node: nodes.Getattr, frame: Frame) -> None:  # noqa: N802
        if (
            self.environment.is_async
            or self.environment.sandboxed
            or type(self.environment).getattr is not _SentenceEnvironment.getattr
        ):
            super().visit_Getattr(node, frame)
            return
        helper = "_method" if node.attr in _DICT_ATTRIBUTES else "_attribute"
        self.write(f"{helper}(environment, ")
        self.visit(node.node, frame)
        self.write(f", {node.attr!r})")

    @optimizeconst
    def visit_Call(  # noqa: N802
        self, node: nodes.Call, frame: Frame, forward_caller: bool = False
    ) -> None:
        if (
            forward_caller
            or self.environment.is_async
            or self.environment.sandboxed
            or not isinstance(node.node, nodes.Getattr)  # a method: `data.get("x")`
        ):
            super().visit_Call(node, frame, forward_caller=forward_caller)
            return
        self._bare = None
        self.write("_call(context, ")
        self.visit(node.node, frame)
        extra_kwargs: dict[str, str] = {}
        if frame.loop_frame:
            extra_kwargs["_loop_vars"] = "_loop_vars"
        if frame.block_frame:
            extra_kwargs["_block_vars"] = "_block_vars"
        self.signature(node, frame, extra_kwargs or None)
        self.write(")")


class _SentenceEnvironment(jinja2.Environment):
    """An environment whose templates are compiled in one language (`_Sentences`), into
    code that calls the helpers of `_CodeGenerator`."""

    code_generator_class = _CodeGenerator

    def __init__(
        self, translations: gettext_module.NullTranslations, language: str, **options: Any
    ) -> None:
        super().__init__(**options)
        self._sentences = _Sentences(translations, bool(options.get("autoescape")), language)
        self._loaded: dict[str, tuple[jinja2.BaseLoader | None, jinja2.Template]] = {}

    def getattr(self, obj: Any, attribute: str) -> Any:
        """`request.title` on a plain dict without raising AttributeError first (Jinja's own
        way, at a few hundred lookups a mail): the same answer — a dict's attribute such as
        `items` still wins over its key, as in Jinja."""
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)

    @internalcode
    def get_template(
        self,
        name: str | jinja2.Template,
        parent: str | None = None,
        globals: MutableMapping[str, Any] | None = None,
    ) -> jinja2.Template:
        """Jinja's, the templates loaded kept in a dict besides Jinja's cache (whose lock and
        queue cost more than the lookup): still checked at every use against the file
        (`is_up_to_date`), so a template edited on disk is read again, as with Jinja."""
        if globals is not None or not isinstance(name, str) or not self.auto_reload:
            return super().get_template(name, parent, globals)
        if parent is not None:
            name = self.join_path(name, parent)
        found = self._loaded.get(name)
        if found is not None and found[0] is self.loader and found[1].is_up_to_date:
            return found[1]
        template = super().get_template(name)
        self._loaded[name] = (self.loader, template)
        return template

    def render(self, template: jinja2.Template, values: Mapping[str, Any]) -> str:
        """`template.render(values)`, the template's globals (a ChainMap: its own, then the
        environment's) read map by map, as dicts, rather than key by key through the
        ChainMap (twice a render, in Jinja's `new_context`)."""
        found = template.globals
        if isinstance(found, ChainMap):
            flat: dict[str, Any] = {}
            for layer in reversed(found.maps):
                flat.update(layer)
        else:
            flat = dict(found)
        context = self.context_class(
            self, {**flat, **values}, template.name, template.blocks, globals=flat
        )
        try:
            return self.concat(template.root_render_func(context))
        except Exception:
            self.handle_exception()

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        assigned = _assigned(tree)
        reserved = sorted(n for n in RESERVED_KEYS if assigned[n])
        if reserved:  # what is compiled in must be what every render would read
            raise jinja2.TemplateSyntaxError(
                f"{reserved[0]!r} is set by the renderer: a template cannot assign it",
                1,
                name,
                filename,
            )
        tree = self._sentences.visit(tree)
        tree.set_environment(self)  # the nodes made here need it to be folded
        _fold_top_level_sets(tree, self)
        tree.set_environment(self)
        return tree


class MailRenderer:
    """Renders `templates/<event>/{subject.txt,body.txt,body.html}` for a recipient in the
    first language of their chain whose catalogue holds the event's sentences, with Babel
    formatting in that language. The templates are compiled once per process and language
    (an environment per language for text, one for HTML), the language's sentences compiled
    in (`_Sentences`); the gettext callables of the language are given to each render too,
    for what cannot be compiled in (plurals)."""

    def __init__(
        self,
        template_dir: Path = TEMPLATE_DIR,
        *,
        timezone: str = "America/Mexico_City",
        catalogues: Catalogues | None = None,
        translations: Callable[[str], gettext_module.NullTranslations] = i18n.translations,
        compile_sentences: bool = True,
    ) -> None:
        """`compile_sentences=False` renders as templates are written — every sentence
        translated at render time, `language` and `direction` read from the context — for
        checking that the compiled templates say exactly the same (tests)."""
        self.template_dir = Path(template_dir)
        self.compile_sentences = compile_sentences
        self.zone = ZoneInfo(timezone)
        self.catalogues = catalogues if catalogues is not None else load_catalogues()
        self._translations = translations
        self._gettext: dict[tuple[str, bool], dict[str, Any]] = {}
        # kinds of shared rendering (`render_shared`) checked in this process: True when a
        # rendering of its own differed, so each recipient gets one
        self._unshareable: dict[tuple[Any, ...], bool] = {}
        self._loader = jinja2.FileSystemLoader(self.template_dir)
        self._filter_set = self._filters()
        # (language, html) → the environment whose templates are compiled in that language
        self._envs: dict[tuple[str, bool], jinja2.Environment] = {}

    # -------------------------------------------------------------- environments
    def environment(self, language: str, *, html: bool) -> jinja2.Environment:
        """The environment whose templates are compiled for `language`, text or HTML: made on
        first use, kept for the renderer's life (like the translations it reads)."""
        env = self._envs.get((language, html))
        if env is None:
            env = self._envs[(language, html)] = self._environment(
                autoescape=html, translations=self._translations(language), language=language
            )
        return env

    def _environment(
        self, *, autoescape: bool, translations: gettext_module.NullTranslations, language: str
    ) -> jinja2.Environment:
        options: dict[str, Any] = {
            "loader": self._loader,
            "autoescape": autoescape,
            "undefined": jinja2.StrictUndefined,
            "trim_blocks": True,
            "lstrip_blocks": True,
            "keep_trailing_newline": True,
            "finalize": _refuse_none,
            "extensions": ["jinja2.ext.i18n"],
        }
        env = (
            _SentenceEnvironment(translations, language, **options)
            if self.compile_sentences
            else jinja2.Environment(**options)
        )
        # new-style gettext (`_("… %(name)s", name=value)`, values escaped in HTML); English
        # until a render gives the callables of its language (`_callables`)
        english = gettext_module.NullTranslations()
        env.install_gettext_callables(  # type: ignore[attr-defined]
            english.gettext, english.ngettext, newstyle=True
        )
        env.filters.update(self._filter_set)
        return env

    def _callables(self, language: str, html: bool) -> dict[str, Any]:
        """`_`, `gettext`, `ngettext`, `pgettext` in `language` (escaping values in HTML),
        made once per language."""
        found = self._gettext.get((language, html))
        if found is None:
            tr = self._translations(language)
            gettext = _newstyle(tr.gettext, html)
            found = {
                "_": gettext,
                "gettext": gettext,
                "ngettext": _newstyle_plural(tr.ngettext, html),
                "pgettext": _newstyle_context(tr.pgettext, html),
            }
            self._gettext[(language, html)] = found
        return found

    def _filters(self) -> dict[str, Callable[..., Any]]:
        zone = self.zone
        financing = self.catalogues.financing
        themes = self.catalogues.themes

        # dates said once per (value, format, language): a mail says the same few dates in
        # each of its parts, and every mail of a request says them again
        said: dict[tuple[Any, ...], str] = {}

        @jinja2.pass_context
        def date(ctx: jinja2.runtime.Context, value: Any, format: str = "long") -> str:
            """`2016-06-06` → "6 de junio de 2016" / "June 6, 2016" / "6 juin 2016"."""
            language = _locale(ctx)
            key = ("date", type(value), value, format, language)
            found = said.get(key) if isinstance(value, _DATE_VALUES) else None
            if found is None:
                found = format_date(_as_date(value, zone), format, locale=_babel(language))
                if isinstance(value, _DATE_VALUES):
                    _remember(said, key, found)
            return found

        @jinja2.pass_context
        def datetime(ctx: jinja2.runtime.Context, value: Any, format: str = "medium") -> str:
            """An aware instant shown in the business time zone (Mexico City)."""
            language = _locale(ctx)
            key = ("datetime", type(value), value, format, language)
            found = said.get(key) if isinstance(value, _DATE_VALUES) else None
            if found is None:
                found = babel_datetime(
                    _as_aware(value), format, tzinfo=zone, locale=_babel(language)
                )
                if isinstance(value, _DATE_VALUES):
                    _remember(said, key, found)
            return found

        @jinja2.pass_context
        def money(ctx: jinja2.runtime.Context, amount: Any, currency: str) -> str:
            return format_currency(Decimal(str(amount)), currency, locale=_babel(_locale(ctx)))

        @jinja2.pass_context
        def label(ctx: jinja2.runtime.Context, value: Any) -> str:
            return _label(value, _locale(ctx))

        @jinja2.pass_context
        def theme(ctx: jinja2.runtime.Context, theme_id: str) -> str:
            found = themes.get(theme_id)
            return found.label.get(_locale(ctx)) if found else str(theme_id)

        @jinja2.pass_context
        def payer(ctx: jinja2.runtime.Context, payer_id: str) -> str:
            found = financing.payers.get(payer_id)
            return found.get(_locale(ctx)) if found else str(payer_id)

        @jinja2.pass_context
        def cost_sharing(
            ctx: jinja2.runtime.Context, matrix: Mapping[str, str]
        ) -> list[dict[str, str]]:
            """Who pays what, in the catalogue's order, labelled in the mail's language."""
            language = _locale(ctx)
            rows = []
            for category in financing.categories.values():
                if category.id in matrix:
                    payer_id = matrix[category.id]
                    found = financing.payers.get(payer_id)
                    rows.append(
                        {
                            "category_id": category.id,
                            "category": category.label.get(language),
                            "payer_id": payer_id,
                            "payer": found.get(language) if found else str(payer_id),
                        }
                    )
            return rows

        @jinja2.pass_context
        def country(ctx: jinja2.runtime.Context, code: str) -> str:
            name = _babel(_locale(ctx)).territories.get(str(code).upper())
            return str(name) if name else str(code)

        @jinja2.pass_context
        def join_list(ctx: jinja2.runtime.Context, values: Any) -> str:
            """["a", "b", "c"] → "a, b y c" / "a, b and c", the way the language joins lists."""
            parts = [str(v) for v in values]
            return format_list(parts, locale=_babel(_locale(ctx))) if parts else ""

        def lookup(value: Any, mapping: Mapping[Any, Any]) -> Any:
            """A code's entry in `mapping` (e.g. a methodology stage's name), else the value."""
            return mapping.get(value, value)

        return {
            "date": date,
            "datetime": datetime,
            "money": money,
            "label": label,
            "theme": theme,
            "payer": payer,
            "cost_sharing": cost_sharing,
            "country": country,
            "join_list": join_list,
            "lookup": lookup,
        }

    # -------------------------------------------------------------- discovery
    def templates(self) -> dict[str, frozenset[str]]:
        """Every template (event) with the languages it can be written in."""
        return dict(template_index.scan(self.template_dir))

    def languages(self, template: str) -> frozenset[str]:
        """Languages `template` can be written in: those whose catalogue holds every sentence
        of the template and the layout; TemplateError for an unknown template."""
        if not _TEMPLATE_NAME.fullmatch(template or ""):
            raise TemplateError(str(template), "not a template name")
        found = template_index.languages(self.template_dir, template)
        if found:
            return found
        if not (self.template_dir / template).is_dir():
            raise TemplateError(template, f"unknown template (no folder in {self.template_dir})")
        raise TemplateError(
            template, "a template is a folder with " + ", ".join(template_index.PARTS)
        )

    def choose(self, template: str, recipient: Recipient) -> str:
        """The language `template` is written in for `recipient`: their own when the catalogue
        has the template's sentences in it, else the next of their chain that has them (the
        choice is recorded: `Rendered.language` and `Rendered.wanted`)."""
        available = self.languages(template)
        chain = recipient.language_chain()
        language = next((lang for lang in chain if lang in available), None)
        if language is None:
            raise TemplateError(
                template,
                f"no language of the chain {list(chain)} is available "
                f"(the template has {sorted(available) or 'none'})",
            )
        return language

    # -------------------------------------------------------------- rendering
    def render(
        self,
        template: str,
        recipient: Recipient,
        context: Mapping[str, Any],
        *,
        language: str | None = None,
    ) -> Rendered:
        """Write `template` for `recipient` in `language` (default: `choose`).

        The context gets `language` and `direction` (reserved) and, unless given, `recipient`
        as {name, role} and `link_kind` "request". Any problem is a `TemplateError` naming
        the file and line.
        """
        if language is None:
            language = self.choose(template, recipient)
        elif language not in self.languages(template):  # a choice made before: still good
            raise TemplateError(template, f"not available in {language}", language=language)
        own = self._own(template, recipient, context, language)
        return Rendered(
            language=language,
            subject=own.subject,
            text=own.text,
            html=own.html,
            wanted=recipient.language,
        )

    def render_shared(
        self,
        template: str,
        recipient: Recipient,
        context: Mapping[str, Any],
        *,
        language: str,
        shared: dict[tuple[Any, ...], tuple[str, str, str]],
    ) -> Rendered:
        """`render` for one of several recipients of the same message (one `notify:` of one
        event: the same context but for the recipient's name, role and link): `render_stored`
        with the recipient's name and link put in."""
        stored = self.render_stored(template, recipient, context, language=language, shared=shared)
        text, html = stored.filled(recipient.name, str(context.get("link") or ""))
        return Rendered(
            language=language,
            subject=stored.subject,
            text=text,
            html=html,
            wanted=recipient.language,
        )

    def render_stored(
        self,
        template: str,
        recipient: Recipient,
        context: Mapping[str, Any],
        *,
        language: str,
        shared: dict[tuple[Any, ...], tuple[str, str, str]],
    ) -> Stored:
        """One recipient's mail as the outbox keeps it: its own subject, and text and HTML
        rendered once per (language, role, kind of link) for the recipients of one
        `notify:` who read the same words, with marks where each one's name and link go
        (`Stored.key` says which rendering; `Stored.filled` puts them in). `shared` holds those
        renderings for the event; `language` comes from `choose`, just made. The first time a
        kind of rendering is shared in this process, it is checked against a rendering of its
        own for that recipient (identical, byte for byte); a template whose output would
        differ — a name or link transformed by a filter, say — is rendered for each recipient
        from then on (`key` None, no marks). Any problem is a `TemplateError`, as with
        `render`."""
        name, link = recipient.name, context.get("link")
        if not isinstance(link, str) or _MARK_NAME in name or _MARK_LINK in link:
            return self._own(template, recipient, context, language)
        documents = tuple(context.get("documents") or ())  # the PDFs it says are attached
        key = (template, language, recipient.role, context.get("link_kind"), bool(name), documents)
        if self._unshareable.get(key):
            return self._own(template, recipient, context, language)
        parts = shared.get(key)
        if parts is None:
            marked = {**context, "link": _MARK_LINK}
            marked["recipient"] = {"name": _MARK_NAME if name else "", "role": recipient.role}
            stand_in = Recipient(
                recipient.role, marked["recipient"]["name"], recipient.address, recipient.language
            )
            parts = shared[key] = self._parts(template, stand_in, marked, language)
        raw_subject = parts[0].replace(_MARK_NAME, name).replace(_MARK_LINK, link)
        if key not in self._unshareable:  # first time in this process: check it
            direct = self._parts(template, recipient, context, language)
            self._unshareable[key] = direct != (raw_subject, *_fill_bodies(parts, name, link))
            if self._unshareable[key]:
                return self._own(template, recipient, context, language, direct)
        subject = clean_header(raw_subject)
        if not subject:
            raise TemplateError(template, "the subject is empty", language=language)
        return Stored(language, subject, key, parts[1], parts[2], _MARK_NAME, _MARK_LINK)

    def _own(
        self,
        template: str,
        recipient: Recipient,
        context: Mapping[str, Any],
        language: str,
        parts: tuple[str, str, str] | None = None,
    ) -> Stored:
        """A rendering of the recipient's own (nothing to put in when it is sent); `_parts`
        has refused an empty subject."""
        raw_subject, text, html = parts or self._parts(template, recipient, context, language)
        return Stored(language, clean_header(raw_subject), None, text, html, None, None)

    def _parts(
        self,
        template: str,
        recipient: Recipient,
        context: Mapping[str, Any],
        language: str,
    ) -> tuple[str, str, str]:
        """Subject (as rendered, not yet cleaned), text and HTML of `template` in `language`."""
        reserved = RESERVED_KEYS & set(context)
        if reserved:
            raise TemplateError(
                template, f"context key(s) {sorted(reserved)} are set by the renderer"
            )
        values: dict[str, Any] = {
            "recipient": {"name": recipient.name, "role": recipient.role},
            "link_kind": "request",
            **context,
            **self._callables(language, False),
            "language": language,
            "direction": i18n.direction(language),
        }
        text_env = self.environment(language, html=False)
        subject = self._render(text_env, template, language, SUBJECT, values)
        if not clean_header(subject):
            raise TemplateError(template, "the subject is empty", language=language)
        text = self._render(text_env, template, language, TEXT, values)
        values.update(self._callables(language, True))
        html = self._render(self.environment(language, html=True), template, language, HTML, values)
        return subject, text, html

    def _render(
        self,
        env: jinja2.Environment,
        template: str,
        language: str,
        part: str,
        values: Mapping[str, Any],
    ) -> str:
        name = f"{template}/{part}"
        try:
            if isinstance(env, _SentenceEnvironment):
                return env.render(env.get_template(name), values)
            return env.get_template(name).render(values)
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(
                template,
                exc.message or str(exc),
                language=language,
                file=exc.name or name,
                line=exc.lineno,
            ) from exc
        except _RENDER_ERRORS as exc:
            where, line = self._location(exc.__traceback__)
            problem = str(exc) or type(exc).__name__
            if where is not None and where != name:  # failed in a layout or macro file
                problem = f"{problem} (in {where} line {line})"
                line = None
            raise TemplateError(template, problem, language=language, file=name, line=line) from exc

    def _location(self, tb: TracebackType | None) -> tuple[str | None, int | None]:
        """The innermost template file and line in a traceback (Jinja maps frames to them)."""
        root = os.path.abspath(self.template_dir)
        found: tuple[str | None, int | None] = (None, None)
        while tb is not None:
            filename = os.path.abspath(tb.tb_frame.f_code.co_filename)
            if filename.startswith(root + os.sep):
                found = (Path(os.path.relpath(filename, root)).as_posix(), tb.tb_lineno)
            tb = tb.tb_next
        return found


# stand-ins for a recipient's name and link in a rendering shared by several recipients:
# letters and digits only, so escaping, gettext's formatting and header cleaning leave them be
_MARK_NAME = f"cicieName{os.urandom(8).hex()}x"
_MARK_LINK = f"cicieLink{os.urandom(8).hex()}x"


def _fill_bodies(parts: tuple[str, str, str], name: str, link: str) -> tuple[str, str]:
    """The text and HTML of a shared rendering with one recipient's name and link put in."""
    return fill(parts[1], parts[2], _MARK_NAME, _MARK_LINK, name, link)


def fill(
    text: str, html: str, name_mark: str | None, link_mark: str | None, name: str, link: str
) -> tuple[str, str]:
    """Text and HTML rendered with marks (`MailRenderer.render_stored`) with one recipient's
    name and link put in, escaped in the HTML (as a rendering of their own would write them)."""
    if name_mark:
        text = text.replace(name_mark, name)
        html = html.replace(name_mark, str(escape(name)))
    if link_mark:
        text = text.replace(link_mark, link)
        html = html.replace(link_mark, str(escape(link)))
    return text, html


@dataclass(frozen=True)
class Stored:
    """A recipient's mail as the outbox keeps it (`MailRenderer.render_stored`): the subject
    is theirs; `text` and `html` may be a rendering shared with others (`key`), holding marks
    where each one's name and link go."""

    language: str
    subject: str
    key: tuple[Any, ...] | None  # the shared rendering; None: the recipient's own
    text: str
    html: str
    name_mark: str | None
    link_mark: str | None

    def filled(self, name: str, link: str) -> tuple[str, str]:
        return fill(self.text, self.html, self.name_mark, self.link_mark, name, link)


def _newstyle(func: Callable[[str], str], html: bool) -> Callable[..., str]:
    """gettext as jinja2.ext.i18n's new style: `_("… %(name)s", name=value)`, the sentence
    trusted and, in HTML, the values escaped. Plain functions (one set for text, one for
    HTML) rather than context functions: a mail calls them some fifty times."""

    def gettext(__string: str, **variables: Any) -> str:
        rv = func(__string)
        if html:
            rv = Markup(rv)
        return rv % variables if variables else rv

    return gettext


def _newstyle_plural(func: Callable[[str, str, int], str], html: bool) -> Callable[..., str]:
    def ngettext(__s: str, __p: str, __n: int, **variables: Any) -> str:
        variables.setdefault("num", __n)
        rv = func(__s, __p, __n)
        if html:
            rv = Markup(rv)
        return rv % variables

    return ngettext


def _newstyle_context(func: Callable[[str, str], str], html: bool) -> Callable[..., str]:
    def pgettext(__ctx: str, __string: str, **variables: Any) -> str:
        rv = func(__ctx, __string)
        if html:
            rv = Markup(rv)
        return rv % variables if variables else rv

    return pgettext


def _refuse_none(value: Any) -> Any:
    """Printing None is a bug the partner would read as "None": guard it with {% if %}."""
    if value is None:
        raise TypeError("a value printed in the template is None (guard it with {% if %})")
    return value


# ------------------------------------------------------------------------------ messages
def make_message_id(key: str, domain: str) -> str:
    """A stable `<hex@domain>` for an outbox key, so a resend is recognisably the same mail."""
    if not _DOMAIN.fullmatch(domain or ""):
        raise ValueError(f"not a domain name: {domain!r}")
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    return f"<{digest}@{domain}>"


def _content_type(value: str) -> tuple[str, str, dict[str, str]]:
    main, _, rest = clean_header(value).partition(";")
    maintype, _, subtype = main.strip().lower().partition("/")
    if not (_TOKEN.fullmatch(maintype) and _TOKEN.fullmatch(subtype)):
        raise ValueError(f"not a content type: {value!r}")
    params: dict[str, str] = {}
    for part in rest.split(";"):
        if not part.strip():
            continue
        key, sep, val = part.partition("=")
        key, val = key.strip().lower(), val.strip().strip('"')
        if not sep or not _TOKEN.fullmatch(key) or not _TOKEN.fullmatch(val):
            raise ValueError(f"not a content-type parameter: {part!r}")
        params[key] = val
    return maintype, subtype, params


def _filename(value: str) -> str:
    name = clean_header(value, 100).replace("/", "_").replace("\\", "_").strip(". ")
    return name or "attachment"


def build_message(
    *,
    rendered: Rendered,
    sender: str,
    recipient: Recipient,
    message_id: str,
    date: dt.datetime,
    attachments: Sequence[Attachment] = (),
) -> bytes:
    """The message as bytes: one From, one To, a one-line Subject, text + HTML alternatives,
    then attachments. Every header value is cleaned; addresses are single validated ones."""
    if date.tzinfo is None or date.utcoffset() is None:
        raise ValueError("date must be an aware datetime")
    if clean_header(message_id, 250) != message_id or not _MESSAGE_ID.fullmatch(message_id):
        raise ValueError(f"not a Message-ID of the form <id@domain>: {message_id!r}")
    language = clean_header(rendered.language, 35)
    if not _LANGUAGE.fullmatch(language):
        raise ValueError(f"not a language tag: {rendered.language!r}")
    sender_box = _sender_mailbox(sender)
    to_box = parse_address(recipient.address, recipient.name, field="recipient")

    # Written directly rather than through the stdlib's MIME classes and generator (~2 ms a
    # message here, most of it re-encoding and re-folding headers we have already cleaned).
    # Safety does not depend on a library: every header value is one line from clean_header
    # (no CR/LF, no encoded-word opener), non-ASCII text travels as RFC 2047 encoded-words we
    # write ourselves, addresses are single addr-specs validated by parse_address /
    # parse_mailbox, and every body is base64, so no body line can look like a boundary.
    seed = hashlib.sha256(message_id.encode("ascii")).hexdigest()[:24]
    alternative = _multipart(
        "alternative",
        f"=_alt_{seed}",
        [_text_part(rendered.text, "plain"), _text_part(rendered.html, "html")],
    )
    if attachments:
        content = _multipart(
            "mixed", f"=_mix_{seed}", [alternative, *(_attachment(a) for a in attachments)]
        )
    else:
        content = alternative
    head = "".join(
        (
            _mailbox_line("From", sender_box),
            _mailbox_line("To", to_box),
            _unstructured_line("Subject", clean_header(rendered.subject)),
            f"Date: {_date_header(date)}\r\n",
            f"Message-ID: {message_id}\r\n",
            "Auto-Submitted: auto-generated\r\n",
            # no out-of-office replies to an automated sender
            "X-Auto-Response-Suppress: All\r\n",
            f"Content-Language: {language.replace('_', '-')}\r\n",
            "MIME-Version: 1.0\r\n",
        )
    )
    return head.encode("ascii") + content


def check_sender(sender: str) -> None:
    """Refuse (`InvalidData`) a From that no message could carry (`CICIE_MAIL_FROM`)."""
    _sender_mailbox(sender)


@functools.lru_cache(maxsize=16)
def _sender_mailbox(sender: str) -> Address:
    """The validated From mailbox (one per installation: parsed once, not per message)."""
    return parse_mailbox(sender, field="mail_from")


@functools.lru_cache(maxsize=64)
def _date_header(date: dt.datetime) -> str:
    """RFC 5322 date (a sweep dates its whole burst with one moment: formatted once)."""
    return format_datetime(date)


MAX_LINE = 78  # RFC 5322's "SHOULD" for a header line, CRLF excluded
_WORD_BYTES = 39  # UTF-8 bytes per encoded-word: 52 base64 characters, a 64-character word
_SPECIALS = re.compile(r'[][\\()<>@,:;".]')


def _encoded_words(text: str) -> list[str]:
    """`text` as RFC 2047 B-encoded UTF-8 words, split between characters, each ≤ 75 long."""
    data = text.encode("utf-8")
    words: list[str] = []
    start, size = 0, len(data)
    while start < size:
        end = min(start + _WORD_BYTES, size)
        while end < size and data[end] & 0xC0 == 0x80:  # not inside a character
            end -= 1
        words.append(_encoded_word(data[start:end]))
        start = end
    return words


def _encoded_word(data: bytes) -> str:
    return f"=?utf-8?b?{base64.b64encode(data).decode('ascii')}?="


def _unstructured_line(name: str, value: str) -> str:
    """`Name: value` CRLF; as encoded-words, folded, when not short printable ASCII."""
    line = f"{name}: {value}"
    if value.isascii() and value.isprintable() and len(line) <= MAX_LINE:
        return line + "\r\n"
    return f"{name}: " + "\r\n ".join(_encoded_words(value)) + "\r\n"


def _mailbox_line(name: str, address: Address) -> str:
    """`Name: display name <addr-spec>` CRLF, the display name quoted or encoded as needed."""
    spec = f"<{address.addr_spec}>"
    display = address.display_name
    if not display:
        return f"{name}: {address.addr_spec}\r\n"
    if display.isascii() and display.isprintable():
        if _SPECIALS.search(display):
            escaped = display.replace("\\", "\\\\").replace('"', '\\"')
            display = f'"{escaped}"'
        line = f"{name}: {display} {spec}"
        if len(line) <= MAX_LINE:
            return line + "\r\n"
        if len(f"{name}: {display}") <= MAX_LINE:
            return f"{name}: {display}\r\n {spec}\r\n"
    # one encoded-word, however long (as the stdlib's formataddr writes it): readers such as
    # Python's own parser put a space between adjacent encoded-words in a display name
    word = _encoded_word(address.display_name.encode("utf-8"))
    return f"{name}: {word}\r\n {spec}\r\n"


_LINE = struct.Struct("76s")  # a line of base64 in a body
_FIRST = itemgetter(0)


def _base64_body(data: bytes) -> bytes:
    """Base64 in 76-character lines, each ending in CRLF (cut by `struct`, in C: a mail's
    bodies are some three hundred lines)."""
    encoded = binascii.b2a_base64(data, newline=False)
    size = len(encoded)
    whole = size - size % 76
    lines = list(map(_FIRST, _LINE.iter_unpack(memoryview(encoded)[:whole])))
    if whole < size:
        lines.append(encoded[whole:])
    if not lines:
        return b""
    lines.append(b"")  # the last line ends in CRLF too
    return b"\r\n".join(lines)


def _text_part(text: str, subtype: str) -> bytes:
    return (
        f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n"
    ).encode("ascii") + _base64_body(text.encode("utf-8"))


def _multipart(subtype: str, boundary: str, parts: Sequence[bytes]) -> bytes:
    """A multipart entity (its Content-Type header, a blank line, the parts). The boundary
    starts with "=_", which base64 never contains, so no part can end the entity early."""
    delimiter = f"--{boundary}\r\n".encode("ascii")
    return b"".join(
        (
            f'Content-Type: multipart/{subtype}; boundary="{boundary}"\r\n\r\n'.encode("ascii"),
            *(delimiter + part for part in parts),
            f"--{boundary}--\r\n".encode("ascii"),
        )
    )


def _attachment(attachment: Attachment) -> bytes:
    maintype, subtype, params = _content_type(attachment.content_type)
    content_type = f"{maintype}/{subtype}" + "".join(
        f'; {key}="{value}"' for key, value in params.items()
    )
    filename = _filename(attachment.filename)
    if filename.isascii() and filename.isprintable():
        escaped = filename.replace("\\", "\\\\").replace('"', '\\"')
        disposition = f'filename="{escaped}"'
    else:  # RFC 2231: the name percent-encoded as UTF-8
        disposition = "filename*=utf-8''" + urllib.parse.quote(filename, safe="")
    head = (
        f"Content-Type: {content_type}\r\n"
        "Content-Transfer-Encoding: base64\r\n"
        f"Content-Disposition: attachment;\r\n {disposition}\r\n\r\n"
    )
    return head.encode("ascii") + _base64_body(attachment.data)
