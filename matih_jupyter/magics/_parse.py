"""Small parsers for magic arguments that shell-style splitting gets wrong."""

from __future__ import annotations

import keyword
import re

from IPython.core.error import UsageError

_OPEN = "([{"
_CLOSE = ")]}"
_KEY_RE = re.compile(r"^[A-Za-z_/.\-:][\w/.\- :]*$")
_ASSIGNMENT_RE = re.compile(r"^[A-Za-z_][\w.\-/:]*=(?!=)")


def split_top_level(text: str) -> list[str]:
    """Split on whitespace outside brackets and string literals, so that
    ``acc=model.score(X, y)`` stays one token. Quotes stay in the tokens (they are part of
    the Python expressions)."""
    tokens: list[str] = []
    buf: list[str] = []
    depth = 0
    quote: str | None = None
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            buf.append(ch)
            if ch == "\\" and i + 1 < len(text):
                buf.append(text[i + 1])
                i += 1
            elif text.startswith(quote, i):
                buf.extend(quote[1:])
                i += len(quote) - 1
                quote = None
        elif ch in "'\"":
            quote = text[i : i + 3] if text[i : i + 3] in ('"""', "'''") else ch
            buf.append(quote)
            i += len(quote) - 1
        elif ch in _OPEN:
            depth += 1
            buf.append(ch)
        elif ch in _CLOSE:
            depth = max(0, depth - 1)
            buf.append(ch)
        elif ch.isspace() and depth == 0:
            if buf:
                tokens.append("".join(buf))
                buf = []
        else:
            buf.append(ch)
        i += 1
    if quote:
        raise UsageError(f"Unclosed string in {text!r}.\nClose the quote {quote} and try again.")
    if depth:
        raise UsageError(f"Unbalanced brackets in {text!r}.\nCheck the expressions' brackets.")
    if buf:
        tokens.append("".join(buf))
    return _join_spaced_equals(tokens)


def _join_spaced_equals(tokens: list[str]) -> list[str]:
    """Accept ``key = expr`` as well as ``key=expr``."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok == "=" and out and i + 1 < len(tokens):
            out[-1] = f"{out[-1]}={tokens[i + 1]}"
            i += 2
            continue
        if tok.startswith("=") and not tok.startswith("==") and out and "=" not in out[-1]:
            out[-1] = f"{out[-1]}{tok}"
        elif (
            tok.endswith("=") and not tok.endswith(("==", "!=", "<=", ">=")) and i + 1 < len(tokens)
        ):
            out.append(f"{tok}{tokens[i + 1]}")
            i += 1
        else:
            out.append(tok)
        i += 1
    return out


def _compiles(expr: str) -> bool:
    try:
        compile(expr, "<matih_log>", "eval")
    except SyntaxError:
        return False
    return True


def _continues(expr: str, token: str) -> bool:
    """Whether ``token`` carries on the expression ``expr`` (``acc=total / 10``) rather
    than starting a new item (``acc=x loss``)."""
    if not token.isidentifier() or keyword.iskeyword(token):
        return True
    return not _compiles(expr)


def split_log_line(text: str, value_options: tuple[str, ...] = ("--step",)) -> list[str]:
    """Arguments of ``%matih_log`` for argparse: options stay apart, and the words of one
    expression are joined again, so ``acc=total / 10`` and ``--step i + 1`` work."""
    argv: list[str] = []
    # Where the expression that may continue starts in argv[-1], or None.
    expr_at: int | None = None
    wants_value = False
    for token in split_top_level(text):
        if token.startswith("--") and len(token) > 2 and token[2].isalpha():
            argv.append(token)
            wants_value = token in value_options
            expr_at = None
        elif wants_value:
            argv.append(token)
            wants_value = False
            expr_at = 0
        elif _ASSIGNMENT_RE.match(token):
            argv.append(token)
            expr_at = token.index("=") + 1
        elif expr_at is not None and _continues(argv[-1][expr_at:], token):
            argv[-1] = f"{argv[-1]} {token}"
        else:
            argv.append(token)
            expr_at = None
    return argv


def split_assignment(token: str) -> tuple[str, str]:
    """``key=expr`` -> ``(key, expr)``; a bare name ``loss`` means ``loss=loss``."""
    if "=" not in token or token.index("=") == 0:
        if token.isidentifier():
            return token, token
        raise UsageError(
            f"{token!r} is not key=expression.\n"
            "Write for example %matih_log loss=loss acc=model.score(X, y)."
        )
    key, expr = token.split("=", 1)
    key = key.strip()
    if expr.startswith("="):  # "a==b" is a comparison, not an assignment
        raise UsageError(f"{token!r} is not key=expression.\nWrite key=expression.")
    if not _KEY_RE.match(key):
        raise UsageError(
            f"{key!r} is not a valid key.\n"
            "Keys use letters, digits and _ - . / : or spaces (no quotes or brackets)."
        )
    if not expr.strip():
        raise UsageError(f"Key {key!r} has no expression.\nWrite {key}=<expression>.")
    return key, expr.strip()


def parse_tags(values: list[str] | None) -> dict[str, str]:
    """``["k=v", ...]`` from repeated ``--tag`` options as a dict."""
    tags: dict[str, str] = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(
                f"--tag {item!r} is not key=value.\nWrite for example --tag team=fraud."
            )
        tags[key.strip()] = value
    return tags


def parse_list(value: str | None, what: str) -> list[str] | None:
    """A comma-separated option value as a list (None when the option was not given)."""
    if value is None:
        return None
    items = [v.strip() for v in value.split(",") if v.strip()]
    if not items:
        raise UsageError(f"{what} is empty.\nGive a comma-separated list, e.g. a,b.")
    return items
