"""Rules for commands that run other commands or code: wrappers, shells, interpreters."""

from __future__ import annotations

import re

from .argv import option_values, positionals, short_option_values, texts
from .commands_files import DESTRUCTIVE
from .commands_system import check_publish, http_server, package_manager, task_runner
from .context import NO_STDIN, Checker, Handler, Invocation
from .model import DOWNLOAD_EXEC, OUTSIDE_PROJECT, UNPARSEABLE, Denial
from .paths import resolve
from .programs import PYTHON
from .shell_state import Value, literal_value
from .shell_walk import mentions

SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ksh", "mksh", "ash", "fish", "rbash"})
FETCHERS = frozenset(
    {"curl", "wget", "fetch", "http", "https", "aria2c", "nc", "ncat", "netcat", "socat",
     "telnet", "ssh", "scp", "sftp", "ftp", "tftp", "lynx", "w3m", "rsync"}
)  # fmt: skip
_ARGV_WRAPPERS: dict[str, tuple[frozenset[str], int]] = {
    # name: (options that take a value, positional operands before the command)
    "nice": (frozenset({"-n", "--adjustment"}), 0),
    "nohup": (frozenset(), 0),
    "timeout": (frozenset({"-s", "--signal", "-k", "--kill-after"}), 1),
    "exec": (frozenset({"-a"}), 0),
    "time": (frozenset({"-o", "-f", "--output", "--format"}), 0),
    "stdbuf": (frozenset({"-i", "-o", "-e"}), 0),
    "ionice": (frozenset({"-c", "-n", "-p", "-P", "-u"}), 0),
    "setsid": (frozenset(), 0),
    "chrt": (frozenset(), 1),
    "taskset": (frozenset(), 1),
    "flock": (frozenset({"-w", "-E", "--timeout", "--conflict-exit-code"}), 1),
    "caffeinate": (frozenset({"-t", "-w"}), 0),
    "unbuffer": (frozenset(), 0),
    "builtin": (frozenset(), 0),
    "busybox": (frozenset(), 0),
    "strace": (frozenset({"-o", "-e", "-p", "-s", "-u"}), 0),
    "ltrace": (frozenset({"-o", "-e", "-p", "-s", "-u"}), 0),
    "command": (frozenset(), 0),
    "catchsegv": (frozenset(), 0),
}
_RUNNERS = frozenset({"uv", "poetry", "pipenv", "pdm", "hatch", "rye", "conda", "pixi"})
_RUNNER_VALUED = frozenset(
    {"--with", "--python", "-p", "--env-file", "--directory", "--project", "--group",
     "--extra", "--package", "--index", "--from", "-n", "--name", "-e", "--env"}
)  # fmt: skip
_XARGS_VALUED = frozenset(
    {"-n", "-L", "-P", "-s", "-I", "-d", "-a", "-E", "-e", "--max-args", "--max-lines",
     "--max-procs", "--max-chars", "--delimiter", "--arg-file", "--eof", "--replace"}
)  # fmt: skip


def _command_start(inv: Invocation, valued: frozenset[str], operands: int) -> int:
    index = 0
    args = inv.args
    while index < len(args):
        text = args[index].text
        if text is None:
            return index
        if text == "--":
            index += 1
            break
        if not text.startswith("-") or text == "-":
            break
        index += 2 if text in valued else 1
    return index + operands


def argv_wrapper(inv: Invocation, an: Checker) -> None:
    valued, operands = _ARGV_WRAPPERS[inv.name]
    if inv.name == "command" and {"-v", "-V"} & set(texts(inv.args)):
        return
    if inv.name == "flock" and option_values(inv.args, ("-c", "--command")):
        for command in option_values(inv.args, ("-c", "--command")):
            _run_string(command, inv, an, "flock -c")
        return
    if inv.name == "time":
        for output in option_values(inv.args, ("-o", "--output")):
            an.write(output, inv.state)
    _run_inner(inv, an, inv.args[_command_start(inv, valued, operands) :])


def _run_inner(inv: Invocation, an: Checker, argv: tuple[Value, ...]) -> None:
    if not argv:
        return
    if argv[0].text is None or not argv[0].literal:
        raise Denial(UNPARSEABLE, f"the wrapped command `{argv[0].raw}` is computed at run time")
    inner = inv.with_args(argv)
    if inner is not None:
        an.invocation(inner)


def env(inv: Invocation, an: Checker) -> None:
    args = inv.args
    index = 0
    state = inv.state
    while index < len(args):
        text = args[index].text
        if text is None:
            break
        if text in ("-u", "--unset"):
            index += 2
            continue
        if text in ("-C", "--chdir") and index + 1 < len(args):
            target = args[index + 1].text
            state = state.fork()
            state.cwd = (
                None
                if target is None or state.cwd is None
                else resolve(target, state.cwd, state.home)
            )
            index += 2
            continue
        if text in ("-S", "--split-string") and index + 1 < len(args):
            _run_string(args[index + 1], inv, an, "env -S")
            return
        if text.startswith("-") or ("=" in text and not text.startswith("=")):
            index += 1
            continue
        break
    inner = inv.with_args(args[index:])
    if inner is not None:
        an.invocation(Invocation(inner.name, inner.argv0, inner.args, state, inv.stdin, inner.text))
    elif index < len(args):
        _run_inner(inv, an, args[index:])


def runner(inv: Invocation, an: Checker) -> None:
    """`uv run cmd`, `poetry run cmd`... run arbitrary commands."""
    args = inv.args
    positions = [i for i, a in enumerate(args) if a.text == "run"]
    if inv.name == "uv" and texts(args)[:1] == ["pip"]:
        package_manager(Invocation("pip", "pip", args[1:], inv.state, inv.stdin, inv.text), an)
        return
    if not positions or positions[0] != 0:
        return
    rest = Invocation(inv.name, inv.argv0, args[1:], inv.state, inv.stdin, inv.text)
    _run_inner(inv, an, args[1 + _command_start(rest, _RUNNER_VALUED, 0) :])


def _run_string(code: Value, inv: Invocation, an: Checker, what: str) -> None:
    if code.text is None:
        raise dynamic_code(code, an, what)
    an.shell(code.text, inv.state.fork(), NO_STDIN)


def dynamic_code(value: Value, an: Checker, what: str) -> Denial:
    """A denial for running code/scripts whose text is only known at run time."""
    if any(mentions(sub.body, FETCHERS) for sub in value.subs):
        return Denial(DOWNLOAD_EXEC, f"`{what}` runs code downloaded at run time", value.raw)
    return Denial(
        UNPARSEABLE, f"`{what}` runs code computed at run time (`{value.raw}`)", value.raw
    )


def shell(inv: Invocation, an: Checker) -> None:
    args = inv.args
    index = 0
    command_string = False
    while index < len(args):
        text = args[index].text
        if text is None:
            break
        if text == "--":
            index += 1
            break
        if text in ("-o", "+o", "-O", "+O", "--rcfile", "--init-file"):
            index += 2
            continue
        if text.startswith(("-", "+")) and text not in ("-", "+"):
            command_string = command_string or (not text.startswith("--") and "c" in text)
            index += 1
            continue
        break
    rest = args[index:]
    if command_string:
        if not rest:
            raise Denial(UNPARSEABLE, f"`{inv.name} -c` without a command string")
        _run_string(rest[0], inv, an, f"{inv.name} -c")
    elif not rest or rest[0].text == "-":
        an.run_stdin(inv.stdin, inv.state, "shell")
    else:
        an.run_script(rest[0], inv.state, "shell", inv.stdin)


def eval_builtin(inv: Invocation, an: Checker) -> None:
    if any(a.text is None for a in inv.args):
        unknown = next(a for a in inv.args if a.text is None)
        raise dynamic_code(unknown, an, "eval")
    an.shell(" ".join(texts(inv.args)), inv.state, NO_STDIN)


def source(inv: Invocation, an: Checker) -> None:
    if inv.args:
        an.run_script(inv.args[0], inv.state, "shell", inv.stdin)


def alias(inv: Invocation, an: Checker) -> None:
    for arg in inv.args:
        if arg.text is None:
            raise Denial(UNPARSEABLE, f"alias defined from a run-time value `{arg.raw}`")
        name, eq, value = arg.text.partition("=")
        if eq:
            an.shell(value, inv.state.fork(), NO_STDIN)
            inv.state.aliases[name] = value


def python(inv: Invocation, an: Checker) -> None:
    args = inv.args
    index = 0
    while index < len(args):
        text = args[index].text
        if text is None:
            break
        if text == "-c" or (re.match(r"^-[bBdEhiIOqsSuvx]+c$", text) is not None):
            if index + 1 >= len(args):
                return
            _inline(args[index + 1], inv, an, "python", f"{inv.name} -c")
            return
        if text.startswith("-m"):
            module = text[2:] or (args[index + 1].text if index + 1 < len(args) else "")
            rest = list(args[index + (1 if text[2:] else 2) :])
            _python_module(module or "", rest, inv, an)
            return
        if text in ("-W", "-X", "--check-hash-based-pycs"):
            index += 2
            continue
        if text == "-" or not text.startswith("-"):
            break
        index += 1
    if index >= len(args) or args[index].text == "-":
        an.run_stdin(inv.stdin, inv.state, "python")
        return
    an.run_script(args[index], inv.state, "python", inv.stdin)
    script = (args[index].text or "").rsplit("/", 1)[-1]
    if script in ("manage.py", "setup.py"):
        run = Invocation(script, script, args[index + 1 :], inv.state, inv.stdin, inv.text)
        check_publish(run, an)
        task_runner(run, an)


def _python_module(module: str, rest: list[Value], inv: Invocation, an: Checker) -> None:
    check_publish(Invocation(module, module, tuple(rest), inv.state, inv.stdin, inv.text), an)
    if module == "http.server":
        http_server(rest, inv)
    elif module == "pip":
        package_manager(Invocation("pip", "pip", tuple(rest), inv.state, inv.stdin, inv.text), an)


def _inline(code: Value, inv: Invocation, an: Checker, language: str, what: str) -> None:
    if code.text is None:
        raise dynamic_code(code, an, what)
    an.code(language, code.text, inv.state)


def script_interpreter(language: str, code_flags: str, in_place: bool) -> Handler:
    """perl/ruby/node/php: `-e CODE` style one-liners, `-i` in-place edits, or a script."""

    def handler(inv: Invocation, an: Checker) -> None:
        args = inv.args
        ran_code = False
        edits = False
        index = 0
        while index < len(args):
            text = args[index].text
            if text is None or not text.startswith("-") or text == "-":
                break
            letters = text[1:] if not text.startswith("--") else ""
            edits = edits or (in_place and "i" in letters)
            wants_code = text in ("--eval", "--print") or (
                bool(letters) and letters[-1] in code_flags
            )
            if wants_code and index + 1 < len(args):
                _inline(args[index + 1], inv, an, language, f"{inv.name} {text}")
                ran_code = True
                index += 2
                continue
            index += 1
        rest = args[index:]
        if inv.name == "deno" and texts(rest)[:1] == ["eval"] and len(rest) > 1:
            _inline(rest[1], inv, an, language, "deno eval")
            return
        if ran_code:
            for target in positionals(rest) if edits else []:
                an.write(target, inv.state)
            return
        if inv.name in ("deno", "bun") and texts(rest)[:1] == ["run"]:
            rest = rest[1:]
        if not rest:
            an.run_stdin(inv.stdin, inv.state, language)
        elif "://" in (rest[0].text or ""):
            raise Denial(DOWNLOAD_EXEC, f"`{inv.name}` runs a script straight from the network")
        elif inv.name not in ("deno", "bun") or (rest[0].text or "").endswith(
            (".js", ".ts", ".mjs", ".cjs", ".jsx", ".tsx")
        ):
            an.run_script(rest[0], inv.state, language, inv.stdin)

    return handler


def awk(inv: Invocation, an: Checker) -> None:
    """awk programs can run commands (`system()`, pipes) and write files (`print > f`)."""
    args = inv.args
    programs = option_values(args, ("-f", "--file"))
    for program in programs:
        an.run_script(program, inv.state, "awk")
    if not programs:
        operands = positionals(args, ("-F", "-v", "--assign", "--field-separator", "-f"))
        if operands:
            _inline(operands[0], inv, an, "awk", inv.name)


def typescript(inv: Invocation, an: Checker) -> None:
    """`script -c CMD` (util-linux) runs CMD in a pseudo-terminal."""
    for command in short_option_values(
        inv.args, ("-c", "--command"), ("-E", "-T", "-I", "-O", "-B")
    ):
        _run_string(command, inv, an, "script -c")


def xargs(inv: Invocation, an: Checker) -> None:
    args = inv.args
    index = 0
    replace: str | None = None
    while index < len(args) and (args[index].text or "").startswith("-"):
        text = args[index].text or ""
        if text in ("-I", "--replace") and index + 1 < len(args):
            replace = args[index + 1].text
        elif text.startswith("-I") and len(text) > 2:
            replace = text[2:]
        elif text == "-i":
            replace = "{}"
        index += 2 if text in _XARGS_VALUED else 1
    command = list(args[index:]) or [literal_value("echo")]
    name = (command[0].text or "").rsplit("/", 1)[-1]
    runs_code = name in SHELLS or name in ("eval", "kill") or PYTHON.match(name) is not None
    if inv.stdin.kind != "paths" and (name in DESTRUCTIVE or runs_code):
        raise Denial(
            OUTSIDE_PROJECT,
            f"`xargs {name}` acts on input that cannot be inspected; list the paths explicitly",
            inv.text,
        )
    item = literal_value("./__xargs_item__")
    if replace is not None:
        argv = [item if a.text == replace else a for a in command]
    else:
        argv = [*command, item]
    inner = inv.with_args(argv)
    if inner is not None:
        an.invocation(
            Invocation(inner.name, inner.argv0, inner.args, inv.state, NO_STDIN, inner.text)
        )


def watch(inv: Invocation, an: Checker) -> None:
    valued = frozenset({"-n", "--interval", "-d", "--differences", "-q", "--equexit"})
    rest = inv.args[_command_start(inv, valued, 0) :]
    if any(a.text is None for a in rest):
        raise Denial(UNPARSEABLE, "`watch` runs a command computed at run time")
    an.shell(" ".join(texts(rest)), inv.state.fork(), NO_STDIN)


HANDLERS: dict[str, Handler] = {
    **{name: argv_wrapper for name in _ARGV_WRAPPERS},
    **{name: runner for name in _RUNNERS},
    **{name: shell for name in SHELLS},
    "env": env,
    "eval": eval_builtin,
    "source": source,
    ".": source,
    "alias": alias,
    "xargs": xargs,
    "watch": watch,
    "perl": script_interpreter("perl", "eE", in_place=True),
    "ruby": script_interpreter("ruby", "e", in_place=True),
    "node": script_interpreter("node", "ep", in_place=False),
    "nodejs": script_interpreter("node", "ep", in_place=False),
    "deno": script_interpreter("node", "e", in_place=False),
    "bun": script_interpreter("node", "e", in_place=False),
    "php": script_interpreter("php", "r", in_place=False),
    "lua": script_interpreter("lua", "e", in_place=False),
    "Rscript": script_interpreter("r", "e", in_place=False),
    "awk": awk,
    "gawk": awk,
    "mawk": awk,
    "nawk": awk,
    "script": typescript,
}
