"""MkDocs hooks: the API reference pages and the schedule figures.

Both are made at build time, from the package itself, so that nothing here
lists names by hand:

- one API page per public module, `keras_lr` and each module its `__all__`
  holds, with an entry for every name in that module's `__all__`, appended
  to the nav as "API reference";
- one figure per class of `keras_lr.schedules.ALL_SCHEDULES`, drawn with
  `keras_lr.plot_schedule` from that class's panel of `keras-lr gallery`,
  and shown under the first line of the class's entry.

Neither is written into docs/: they are virtual files of the build.
`ApiDocstrings`, a griffe extension that mkdocs.yml gives mkdocstrings,
shows the figures and completes what griffe reads from the source.
"""

import inspect
import io
import os
import re
import types

# Any backend draws (the figures are evaluated on the host); NumPy's starts
# without a device. One set by the user is kept.
os.environ.setdefault("KERAS_BACKEND", "numpy")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import griffe  # noqa: E402
import keras  # noqa: E402
from mkdocs.structure.files import File  # noqa: E402

import keras_lr  # noqa: E402
from keras_lr import cli  # noqa: E402

API_SECTION = "API reference"
API_DIR = "api"
#: Relative to the API pages, which are all in API_DIR.
FIGURE_DIR = "figures"
FIGURE_STEPS = 1000


def _public_modules():
    """`keras_lr` and every module its `__all__` holds, in that order."""
    modules = [keras_lr]
    for name in keras_lr.__all__:
        value = getattr(keras_lr, name)
        if isinstance(value, types.ModuleType):
            modules.append(value)
    return modules


def _page_path(module):
    return f"{API_DIR}/{module.__name__}.md"


def _figure_name(cls):
    return f"{FIGURE_DIR}/{cls.__name__}.png"


# --- the API pages -----------------------------------------------------------


def _page(module):
    """The Markdown of one module's API page: its docstring, then an entry
    per name of its `__all__`, in that order."""
    lines = [f"# `{module.__name__}`", "", f"::: {module.__name__}",
             "    options:", "      members: false",
             "      show_root_heading: false", ""]
    for name in module.__all__:
        value = getattr(module, name)
        if isinstance(value, types.ModuleType) and value in _public_modules():
            # A public submodule has its own page; this entry links to it.
            lines += [f"## `{name}`", "",
                      f"See [`{value.__name__}`]({value.__name__}.md).", ""]
        else:
            lines += [f"::: {module.__name__}.{name}", ""]
    return "\n".join(lines)


# --- the schedule figures ----------------------------------------------------


def _children(schedule):
    """The schedules a schedule wraps (Warmup's, Sequential's, ...)."""
    for value in vars(schedule).values():
        items = value if isinstance(value, (list, tuple)) else [value]
        for item in items:
            if isinstance(item, keras.optimizers.schedules.LearningRateSchedule):
                yield item


def _contains(schedule, cls):
    return type(schedule) is cls or any(
        _contains(child, cls) for child in _children(schedule)
    )


def _figure_examples():
    """`{class: (title, schedule)}`: for each schedule class, the first
    gallery panel that is one, else the first that wraps one."""
    panels = list(cli._gallery_schedules().items())
    examples = {}
    for cls in keras_lr.schedules.ALL_SCHEDULES:
        outer = [panel for panel in panels if type(panel[1]) is cls]
        inner = [panel for panel in panels if _contains(panel[1], cls)]
        if not (outer or inner):
            raise ValueError(
                f"The schedule {cls.__name__} has no panel in `keras-lr "
                "gallery` (keras_lr.cli._gallery_schedules), which gives "
                "each schedule's figure in the docs: add one there."
            )
        examples[cls] = (outer or inner)[0]
    return examples


def _draw(title, schedule):
    """One schedule's figure, as PNG bytes."""
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots(figsize=(6, 2.6))
    keras_lr.plot_schedule(schedule, FIGURE_STEPS, ax=ax)
    ax.set_title(title, fontsize=10)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    plt.close(figure)
    return buffer.getvalue()


# --- MkDocs events -----------------------------------------------------------


def on_config(config):
    # After the prose pages mkdocs.yml lists: a page per public module.
    nav = list(config.nav or [])
    nav.append({API_SECTION: [{m.__name__: _page_path(m)} for m in _public_modules()]})
    config.nav = nav
    return config


def on_files(files, config):
    for cls, (title, schedule) in _figure_examples().items():
        files.append(File.generated(
            config, f"{API_DIR}/{_figure_name(cls)}", content=_draw(title, schedule)
        ))
    for module in _public_modules():
        files.append(File.generated(config, _page_path(module), content=_page(module)))
    return files


# --- what griffe reads from the source ---------------------------------------

_PROMPT = re.compile(r"^(\s*)>>>( |$)")
_FENCE = re.compile(r"^\s*(```|~~~)")


def _doctests_as_code(text):
    """Each doctest block of `text` (a `>>>` line and the lines up to the
    next blank one, doctest's own rule) in a `pycon` code block: Keras's
    docstring style puts them unindented after `Example:`, where Markdown
    reads `>>>` as quotes."""
    lines, out, fenced = text.splitlines(), [], False
    i = 0
    while i < len(lines):
        line = lines[i]
        if _FENCE.match(line):
            fenced = not fenced
        prompt = None if fenced else _PROMPT.match(line)
        if not prompt:
            out.append(line)
            i += 1
            continue
        indent = prompt.group(1)
        out += ["", f"{indent}```pycon"]
        while i < len(lines) and lines[i].strip():
            out.append(lines[i])
            i += 1
        out += [f"{indent}```", ""]
    return "\n".join(out)


class ApiDocstrings(griffe.Extension):
    """What the API entries show beyond the source griffe reads.

    - A docstring assigned in a class body (the optimizers'
      `__doc__ = _docstring(...)`) and a constructor set on a class after
      its body ran (theirs, with the Keras optimizer's signature): taken
      from the imported class, as Python sees it.
    - Doctest blocks as Python console code (`_doctests_as_code`).
    - Each schedule's figure, under the first line of its docstring.
    """

    _FIGURES = {
        f"{cls.__module__}.{cls.__qualname__}": _figure_name(cls)
        for cls in keras_lr.schedules.ALL_SCHEDULES
    }

    def on_class_members(self, *, cls, agent, **kwargs):
        assigns_doc = "__doc__" in cls.members
        if not assigns_doc and "__init__" in cls.members:
            return
        try:
            runtime = griffe.dynamic_import(cls.path)
        except ImportError:
            # A module of an optional extra (Ray's engine) without it: its
            # classes are documented from the source alone.
            return
        if assigns_doc:
            del cls.members["__doc__"]
            cls.docstring = griffe.Docstring(
                inspect.cleandoc(runtime.__doc__),
                parent=cls,
                parser=agent.docstring_parser,
                parser_options=agent.docstring_options,
            )
        if "__init__" not in cls.members and "__init__" in vars(runtime):
            signature = inspect.signature(runtime.__init__)
            cls.set_member("__init__", griffe.Function("__init__", parameters=griffe.Parameters(*(
                griffe.Parameter(
                    name,
                    kind=griffe.ParameterKind(parameter.kind.description),
                    default=None if parameter.default is parameter.empty
                    else repr(parameter.default),
                )
                for name, parameter in signature.parameters.items()
            ))))

    def on_object(self, *, obj, **kwargs):
        if obj.docstring is None:
            return
        text = _doctests_as_code(obj.docstring.value)
        figure = self._FIGURES.get(obj.path)
        if figure:
            summary, _, rest = text.partition("\n\n")
            name = obj.name
            text = f"{summary}\n\n![{name}: an example]({figure})\n\n{rest}"
        obj.docstring.value = text
