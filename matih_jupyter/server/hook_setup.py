"""Promotion hooks the server adds to the process registry when it starts.

Three sources, all installed before the REST routes exist, so no request is ever served by
a registry without its gates:

* ``c.MatihJupyter.registry_hooks``: import strings ``"package.module:function"``;
* the entry-point group `ENTRY_POINT_GROUP` of the installed packages;
* ``c.MatihJupyter.webhooks``: URLs, with the arguments of `ModelRegistry.add_webhook`.

An install function is called once with the process registry (`get_model_registry`) and
adds hooks or webhooks to it::

    def install(registry):
        registry.add_hook(check_model_card, stages=["production"], before=True)

Anything wrong (an import that fails, a name that is not callable, an install function
that raises, a webhook the registry refuses) is a `HookSetupError` naming the setting or
the entry point and saying how to fix it; the extension then does not load, so the REST
API is never served without the gates it was configured with.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any
from urllib.parse import urlsplit

from ..core.errors import MatihError

#: Packages declare install functions here, e.g. in pyproject.toml:
#: ``[project.entry-points."matih_jupyter.registry_hooks"] gates = "mypkg.gates:install"``.
ENTRY_POINT_GROUP = "matih_jupyter.registry_hooks"

#: The keys of one ``c.MatihJupyter.webhooks`` entry (``url`` is required).
WEBHOOK_KEYS = frozenset({"url", "stages", "before", "tenant_id", "timeout", "headers"})

_IMPORT_STRING = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
_FORMAT = "'package.module:function'"


class HookSetupError(MatihError):
    """A configured registry hook could not be installed (the server's configuration or
    an installed package is wrong)."""


@dataclass(frozen=True)
class InstallFunction:
    """An install function and where it was configured (for messages and the log)."""

    source: str
    install: Callable[[Any], Any]


def check_import_string(value: Any, where: str) -> str:
    """``value`` if it reads ``package.module:function``; else a `ValueError` saying how
    to write it (the traits turn it into a TraitError)."""
    if not isinstance(value, str) or not _IMPORT_STRING.match(value.strip()):
        raise ValueError(
            f"{where} = {value!r} is not an import string. Write {_FORMAT}, for example "
            "'mypkg.gates:install': the module, a colon, then the function to call with "
            "the registry."
        )
    return value.strip()


def check_webhook(value: Any, where: str) -> dict[str, Any]:
    """One ``webhooks`` entry: a dict with ``url`` and only the keys `add_webhook` takes."""
    example = '{"url": "https://ci.example.com/hook", "stages": ["production"]}'
    if not isinstance(value, Mapping):
        raise ValueError(f"{where} = {value!r} is not a dict. Write {example}.")
    unknown = sorted(set(value) - WEBHOOK_KEYS)
    if unknown:
        raise ValueError(
            f"{where} has unknown keys {unknown}; the keys are {sorted(WEBHOOK_KEYS)}."
        )
    if not isinstance(value.get("url"), str) or not value["url"].strip():
        raise ValueError(f"{where} has no url. Write {example}.")
    return dict(value)


def load_callable(spec: str, where: str) -> Callable[[Any], Any]:
    """The function an import string names; `HookSetupError` if it cannot be had."""
    module_name, _, qualname = spec.partition(":")
    fix = (
        f"Install the package that provides {module_name!r} in the Jupyter server's "
        f"environment, or correct {where} (format {_FORMAT})."
    )
    try:
        target: Any = importlib.import_module(module_name)
    except Exception as exc:
        raise HookSetupError(
            f"{where} = {spec!r}: module {module_name!r} could not be imported "
            f"({type(exc).__name__}: {exc}).",
            hint=fix,
        ) from exc
    for part in qualname.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise HookSetupError(
                f"{where} = {spec!r}: module {module_name!r} has no {qualname!r}.", hint=fix
            ) from None
    if not callable(target):
        raise HookSetupError(
            f"{where} = {spec!r}: {qualname!r} is a {type(target).__name__}, not a function.",
            hint=f"Name a function that takes the registry (format {_FORMAT}).",
        )
    return target


def install_functions(import_strings: Sequence[str]) -> list[InstallFunction]:
    """The install functions of the ``registry_hooks`` setting, then of the entry points
    in `ENTRY_POINT_GROUP`, imported (not called yet)."""
    found = [
        InstallFunction(spec, load_callable(spec, f"c.MatihJupyter.registry_hooks[{i}]"))
        for i, spec in enumerate(import_strings)
    ]
    for point in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda p: p.name):
        dist = getattr(point.dist, "name", None) or "an installed package"
        where = f"entry point {point.name!r} of {dist} (group {ENTRY_POINT_GROUP!r})"
        try:
            install = point.load()
        except Exception as exc:
            raise HookSetupError(
                f"The {where} = {point.value!r} could not be loaded ({type(exc).__name__}: {exc}).",
                hint=f"Fix or uninstall {dist}.",
            ) from exc
        if not callable(install):
            raise HookSetupError(
                f"The {where} = {point.value!r} is not a function.",
                hint=f"Fix or uninstall {dist}: it must name a function that takes the registry.",
            )
        found.append(InstallFunction(where, install))
    return found


def install_hooks(
    registry: Any, functions: Sequence[InstallFunction], webhooks: Sequence[Mapping[str, Any]]
) -> list[Any]:
    """Call every install function with ``registry``, then add the webhooks; returns the
    hooks added. On a failure, the hooks added so far are removed again."""
    before = {hook.id for hook in registry.hooks.all()}
    try:
        for function in functions:
            try:
                function.install(registry)
            except Exception as exc:
                raise HookSetupError(
                    f"{function.source} failed while adding its hooks "
                    f"({type(exc).__name__}: {exc}).",
                    hint="Fix that function (it is called once, with the registry), or "
                    "remove it from the configuration.",
                ) from exc
        for i, spec in enumerate(webhooks):
            where = f"c.MatihJupyter.webhooks[{i}]"
            options = dict(spec)
            try:
                registry.add_webhook(options.pop("url"), **options)
            except MatihError as exc:
                raise HookSetupError(f"{where}: {exc.message}", hint=exc.hint) from None
            except (TypeError, ValueError) as exc:
                raise HookSetupError(
                    f"{where}: {exc}",
                    hint="stages is a list of stages, before a boolean, tenant_id a tenant "
                    "id, timeout seconds and headers a dict of strings.",
                ) from None
    except BaseException:
        for hook in registry.hooks.all():
            if hook.id not in before:
                registry.remove_hook(hook.id)
        raise
    return [hook for hook in registry.hooks.all() if hook.id not in before]


def describe(hook: Any) -> str:
    """One hook for the server's log: its name, when it runs and for which tenant."""
    when = "before" if hook.before else "after"
    tenants = f", tenant {hook.tenant_id}" if hook.tenant_id else ""
    name = hook.name
    if hook.url and name == hook.url:
        # A webhook's URL may carry credentials (user info, a token in the query).
        parts = urlsplit(hook.url)
        name = f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}"
        name += parts.path
    return f"{name} ({when} {'/'.join(hook.stages)}{tenants})"
