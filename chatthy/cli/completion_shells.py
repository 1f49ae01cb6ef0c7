"""Render the command tree (``chatthy.cli.completion.command_tree``) as bash, zsh and fish scripts.

All three work the same way, so they behave the same: walk the words before
the cursor to find the (sub)command — skipping the values of options that
take one — then offer, in this order: the values of the option just typed,
option names when the word starts with ``-``, subcommands, or what the
command's arguments take. Names the daemon knows come from
``_CHATTHY_COMPLETE=… chatthy`` (Click's protocol), everything else is static.
"""

from __future__ import annotations

from typing import Callable

from chatthy.cli.completion import COMPLETE_VAR, CommandSpec, OptionSpec

HEADER = """\
{comment} {shell} completion for chatthy: commands, options, their values, and the names the
{comment} daemon knows (chats, personas, …), which are asked of chatthy when it runs.
{comment} Generated from the command definitions by `python -m chatthy.cli.completion {shell}`
{comment} (or `chatthy completion {shell}`): do not edit, regenerate.
{comment} Install: {install}
"""

INSTALL = {
    "bash": "chatthy completion bash > ~/.local/share/bash-completion/completions/chatthy",
    "zsh": "chatthy completion zsh > ~/.zfunc/_chatthy, with fpath+=(~/.zfunc) before compinit",
    "fish": "chatthy completion fish > ~/.config/fish/completions/chatthy.fish",
}


def _q(text: str) -> str:
    """Single-quote for bash and zsh."""
    return "'" + text.replace("'", "'\\''") + "'"


def _fish_q(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _key(node: CommandSpec, word: str) -> str:
    return f"{node.key}:{word}"


def _walk_rows(tree: CommandSpec) -> list[tuple[list[str], str | None]]:
    """The word walk: (["cmdpath:word", ...], the new cmdpath, or None: skip the next word)."""
    rows: list[tuple[list[str], str | None]] = []
    for node in tree.walk():
        skips = [_key(node, n) for o in node.options if o.takes_value for n in o.names]
        if skips:
            rows.append((skips, None))
        rows += [([_key(node, sub.path[-1])], sub.key) for sub in node.subcommands]
    return rows


def _walk_cases(tree: CommandSpec) -> list[tuple[str, str]]:
    """(case pattern, action) of the word walk, for bash and zsh."""
    return [("|".join(_q(k) for k in keys), "skip=1" if target is None else f"cmdpath={_q(target)}")
            for keys, target in _walk_rows(tree)]


def _value_groups(tree: CommandSpec) -> dict[object, list[str]]:
    """Option-value patterns grouped by what the value completes (None: nothing to offer)."""
    groups: dict[object, list[str]] = {}
    for node in tree.walk():
        for opt in node.options:
            if opt.takes_value:
                groups.setdefault(opt.values, []).extend(_q(_key(node, n)) for n in opt.names)
    return groups


def _option_words(node: CommandSpec) -> list[str]:
    return [n for o in node.options for n in o.names]


# -- bash --------------------------------------------------------------------------------------

_BASH_NAMES = r"""_chatthy_names() {
    # Ask chatthy (and so the daemon) for names; "--opt = value" pieces are joined again.
    local -a words=()
    local w j line
    for ((j = 0; j <= COMP_CWORD; j++)); do
        w=${COMP_WORDS[j]}
        if [[ ${#words[@]} -gt 0 && ( $w == = || ${COMP_WORDS[j-1]} == = ) ]]; then
            words[${#words[@]}-1]+=$w
        else
            words+=("$w")
        fi
    done
    local joined="${words[*]}" IFS=$'\n'
    for line in $(COMP_WORDS="$joined" COMP_CWORD=$((${#words[@]} - 1)) %(var)s=bash_complete \
            "${COMP_WORDS[0]}" 2>/dev/null); do
        [[ $line == plain,* ]] && COMPREPLY+=("$(printf '%%q' "${line#plain,}")")
    done
}

_chatthy_files() {
    compopt -o filenames 2>/dev/null
    local IFS=$'\n'
    COMPREPLY=($(compgen "$1" -- "$cur"))
}
"""


def _bash_action(values: object) -> str:
    if values == "names":
        return "_chatthy_names"
    if values == "file":
        return "_chatthy_files -f"
    if values == "dir":
        return "_chatthy_files -d"
    if isinstance(values, tuple):
        return f"COMPREPLY=($(compgen -W {_q(' '.join(values))} -- \"$cur\"))"
    return ":"


def render_bash(tree: CommandSpec) -> str:
    out = [HEADER.format(comment="#", shell="bash", install=INSTALL["bash"]),
           _BASH_NAMES % {"var": COMPLETE_VAR}, "_chatthy() {",
           "    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}",
           "    local cmdpath='' word i skip=0",
           "    COMPREPLY=()",
           "    # bash splits --opt=value at '=': look past it",
           "    if [[ $cur == = ]]; then cur=''; elif [[ $prev == = ]]; then prev=${COMP_WORDS[COMP_CWORD-2]}; fi",
           "    for ((i = 1; i < COMP_CWORD; i++)); do",
           "        word=${COMP_WORDS[i]}",
           "        if [[ $word == = ]]; then skip=1; continue; fi",
           "        if ((skip)); then skip=0; continue; fi",
           '        case "$cmdpath:$word" in']
    out += [f"            {pattern}) {action} ;;" for pattern, action in _walk_cases(tree)]
    out += ["        esac", "    done", '    case "$cmdpath:$prev" in']
    out += [f"        {'|'.join(p)}) {_bash_action(v)}; return ;;" for v, p in _value_groups(tree).items()]
    out += ["    esac", "    if [[ $cur == -* ]]; then", '        case "$cmdpath" in']
    for node in tree.walk():
        out.append(f"            {_q(node.key)}) COMPREPLY=($(compgen -W {_q(' '.join(_option_words(node)))} -- \"$cur\")) ;;")
    out += ["        esac", "        return", "    fi", '    case "$cmdpath" in']
    for node in tree.walk():
        if node.subcommands:
            words = " ".join(s.path[-1] for s in node.subcommands)
            out.append(f"        {_q(node.key)}) COMPREPLY=($(compgen -W {_q(words)} -- \"$cur\")) ;;")
        elif node.args is not None:
            out.append(f"        {_q(node.key)}) {_bash_action(node.args)} ;;")
    out += ["    esac", "}", "", "complete -F _chatthy chatthy", ""]
    return "\n".join(out)


# -- zsh -----------------------------------------------------------------------------------------

_ZSH_NAMES = r"""_chatthy_names() {
    local -a lines names
    local line
    lines=("${(@f)$(COMP_WORDS="${words[1,CURRENT]}" COMP_CWORD=$((CURRENT - 1)) %(var)s=bash_complete \
        ${words[1]} 2>/dev/null)}")
    for line in $lines; do
        [[ $line == plain,* ]] && names+=("${line#plain,}")
    done
    (( ${#names} )) && compadd -- "${names[@]}"
}
"""


def _zsh_describe(text: str) -> str:
    return text.replace(":", r"\:")


def _zsh_action(values: object) -> str:
    if values == "names":
        return "_chatthy_names"
    if values == "file":
        return "_files"
    if values == "dir":
        return "_files -/"
    if isinstance(values, tuple):
        return "compadd -- " + " ".join(_q(v) for v in values)
    return ":"


def render_zsh(tree: CommandSpec) -> str:
    out = ["#compdef chatthy", HEADER.format(comment="#", shell="zsh", install=INSTALL["zsh"]),
           _ZSH_NAMES % {"var": COMPLETE_VAR}, "_chatthy() {",
           "    # (not 'path': in zsh that is $PATH)",
           "    local cmdpath='' word cur=${words[CURRENT]} prev=${words[CURRENT-1]}",
           "    local -i i skip=0",
           "    local -a cmds opts",
           "    for ((i = 2; i < CURRENT; i++)); do",
           "        word=${words[i]}",
           "        if ((skip)); then skip=0; continue; fi",
           '        case "$cmdpath:$word" in']
    out += [f"            ({pattern}) {action} ;;" for pattern, action in _walk_cases(tree)]
    out += ["        esac", "    done",
            "    if [[ $cur == -*=* ]]; then  # --opt=value: complete the value",
            "        prev=${cur%%=*}",
            "        compset -P '*='",
            "        cur=${cur#*=}",
            "    fi",
            '    case "$cmdpath:$prev" in']
    out += [f"        ({'|'.join(p)}) {_zsh_action(v)}; return ;;" for v, p in _value_groups(tree).items()]
    out += ["    esac", "    if [[ $cur == -* ]]; then", '        case "$cmdpath" in']
    for node in tree.walk():
        entries = " ".join(_q(f"{n}:{_zsh_describe(o.help)}" if o.help else n) for o in node.options for n in o.names)
        out.append(f"            ({_q(node.key)}) opts=({entries}) ;;")
    out += ["        esac", "        _describe -t options option opts", "        return", "    fi",
            '    case "$cmdpath" in']
    for node in tree.walk():
        if node.subcommands:
            entries = " ".join(_q(f"{s.path[-1]}:{_zsh_describe(s.help)}") for s in node.subcommands)
            out.append(f"        ({_q(node.key)}) cmds=({entries}); _describe -t commands command cmds ;;")
        elif node.args is not None:
            out.append(f"        ({_q(node.key)}) {_zsh_action(node.args)} ;;")
    out += ["    esac", "}", "",
            "if [[ $zsh_eval_context[-1] == loadautofunc ]]; then",
            '    _chatthy "$@"  # autoloaded from $fpath',
            "else",
            "    compdef _chatthy chatthy  # sourced",
            "fi", ""]
    return "\n".join(out)


# -- fish ------------------------------------------------------------------------------------------

_FISH_FUNCTIONS = r"""function __chatthy_path --description 'The chatthy (sub)command at the cursor'
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l cmdpath ''
    set -l skip 0
    for word in $tokens
        if test $skip = 1
            set skip 0
            continue
        end
        switch "$cmdpath:$word"
%(cases)s
        end
    end
    echo $cmdpath
end

function __chatthy_at --description 'Is the cursor at this chatthy (sub)command?'
    test (__chatthy_path) = "$argv[1]"
end

function __chatthy_names --description 'Names the chatthy daemon knows'
    set -l tokens (commandline -opc)
    env COMP_WORDS=(commandline -cp) COMP_CWORD=(commandline -ct) %(var)s=fish_complete \
        $tokens[1] 2>/dev/null | string replace -rf '^plain,' ''
end
"""


def _fish_values(values: object) -> str:
    if values == "names":
        return " -x -a '(__chatthy_names)'"
    if values in ("file", "dir"):
        return " -r -F"
    if isinstance(values, tuple):
        return f" -x -a {_fish_q(' '.join(values))}"
    return " -x"


def _fish_option(opt: OptionSpec) -> str:
    flags = []
    for name in opt.names:
        if name.startswith("--"):
            flags.append(f"-l {name[2:]}")
        elif len(name) == 2:
            flags.append(f"-s {name[1]}")
        else:
            flags.append(f"-o {name[1:]}")
    text = " ".join(flags) + (_fish_values(opt.values) if opt.takes_value else "")
    return text + (f" -d {_fish_q(opt.help)}" if opt.help else "")


def render_fish(tree: CommandSpec) -> str:
    cases = []
    for keys, target in _walk_rows(tree):
        action = "set skip 1" if target is None else f"set cmdpath {_fish_q(target)}"
        cases += [f"            case {' '.join(_fish_q(k) for k in keys)}", f"                {action}"]
    out = [HEADER.format(comment="#", shell="fish", install=INSTALL["fish"]),
           _FISH_FUNCTIONS % {"cases": "\n".join(cases), "var": COMPLETE_VAR},
           "complete -c chatthy -f  # files only where a command takes them"]
    for node in tree.walk():
        at = f"-n {_fish_q(f'__chatthy_at {_q(node.key)}')}"
        for sub in node.subcommands:
            out.append(f"complete -c chatthy {at} -a {_fish_q(sub.path[-1])} -d {_fish_q(sub.help)}")
        for opt in node.options:
            out.append(f"complete -c chatthy {at} {_fish_option(opt)}")
        if not node.subcommands and node.args is not None:
            values = {"names": "-a '(__chatthy_names)'", "file": "-F", "dir": "-F"}.get(node.args) if isinstance(
                node.args, str) else f"-a {_fish_q(' '.join(node.args))}"
            out.append(f"complete -c chatthy {at} {values}")
    return "\n".join(out) + "\n"


RENDERERS: dict[str, Callable[[CommandSpec], str]] = {"bash": render_bash, "zsh": render_zsh, "fish": render_fish}
