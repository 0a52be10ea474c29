"""Tiny getopt-style helpers for reading expanded argument lists."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .shell_state import Value, literal_value


def texts(args: Iterable[Value]) -> list[str]:
    return [a.text for a in args if a.text is not None]


def positionals(args: Sequence[Value], takes_value: Iterable[str] = ()) -> list[Value]:
    """Operands, skipping options and the values of options listed in `takes_value`."""
    valued = set(takes_value)
    out: list[Value] = []
    index = 0
    options_done = False
    while index < len(args):
        arg = args[index]
        text = arg.text
        if options_done or text is None or not text.startswith("-") or text == "-":
            out.append(arg)
        elif text == "--":
            options_done = True
        elif text in valued:
            index += 1
        index += 1
    return out


def option_values(args: Sequence[Value], names: Iterable[str]) -> list[Value]:
    """Values of `-x VAL`, `--long VAL` and `--long=VAL` for the given option names."""
    wanted = set(names)
    out: list[Value] = []
    for index, arg in enumerate(args):
        text = arg.text or ""
        if text == "--":
            break
        if text in wanted and index + 1 < len(args):
            out.append(args[index + 1])
            continue
        name, eq, value = (text or arg.raw).partition("=")
        if eq and name in wanted and name.startswith("--"):
            # `--opt="$(...)"`: the value is only known at run time.
            out.append(literal_value(value) if arg.known else Value(None, arg.raw, subs=arg.subs))
    return out


def short_flags(args: Sequence[Value]) -> set[str]:
    """Every single-letter flag present, whether given alone or clustered (`-rf`)."""
    letters: set[str] = set()
    for text in texts(args):
        if text == "--":
            break
        if text.startswith("-") and not text.startswith("--"):
            letters.update(text[1:])
    return letters


def long_flags(args: Sequence[Value]) -> set[str]:
    return {t.partition("=")[0] for t in texts(args) if t.startswith("--")}


def has_flag(args: Sequence[Value], short: str = "", long: Iterable[str] = ()) -> bool:
    return bool(short and short in short_flags(args)) or bool(long_flags(args) & set(long))


def short_option_values(
    args: Sequence[Value], names: Iterable[str], valued: Iterable[str] = ()
) -> list[Value]:
    """Like option_values, also reading clustered short options as getopt does:
    `-sSLo out` and `-oout` give `out` for `-o`. `valued` lists the command's other
    options that take a value, so `-Xo` is read as `-X o`."""
    wanted = set(names)
    takes_value = {n[1] for n in (*wanted, *valued) if len(n) == 2 and n[0] == "-"}
    out = option_values(args, wanted)
    for index, arg in enumerate(args):
        text = arg.text or ""
        if text == "--":
            break
        if not text.startswith("-") or text.startswith("--") or len(text) <= 2:
            continue
        for position, letter in enumerate(text[1:], start=1):
            if letter not in takes_value:
                continue
            rest = text[position + 1 :]
            if f"-{letter}" in wanted:
                if rest:
                    out.append(Value(rest if arg.known else None, arg.raw))
                elif index + 1 < len(args):
                    out.append(args[index + 1])
            break
    return out
