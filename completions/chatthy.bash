# bash completion for chatthy: commands, options, their values, and the names the
# daemon knows (chats, personas, …), which are asked of chatthy when it runs.
# Generated from the command definitions by `python -m chatthy.cli.completion bash`
# (or `chatthy completion bash`): do not edit, regenerate.
# Install: chatthy completion bash > ~/.local/share/bash-completion/completions/chatthy

_chatthy_names() {
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
    for line in $(COMP_WORDS="$joined" COMP_CWORD=$((${#words[@]} - 1)) _CHATTHY_COMPLETE=bash_complete \
            "${COMP_WORDS[0]}" 2>/dev/null); do
        [[ $line == plain,* ]] && COMPREPLY+=("$(printf '%q' "${line#plain,}")")
    done
}

_chatthy_files() {
    compopt -o filenames 2>/dev/null
    local IFS=$'\n'
    COMPREPLY=($(compgen "$1" -- "$cur"))
}

_chatthy() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    local cmdpath='' word i skip=0
    COMPREPLY=()
    # bash splits --opt=value at '=': look past it
    if [[ $cur == = ]]; then cur=''; elif [[ $prev == = ]]; then prev=${COMP_WORDS[COMP_CWORD-2]}; fi
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=${COMP_WORDS[i]}
        if [[ $word == = ]]; then skip=1; continue; fi
        if ((skip)); then skip=0; continue; fi
        case "$cmdpath:$word" in
            ':--profile'|':--color') skip=1 ;;
            ':ask') cmdpath='ask' ;;
            ':chat') cmdpath='chat' ;;
            ':completion') cmdpath='completion' ;;
            ':config') cmdpath='config' ;;
            ':daemon') cmdpath='daemon' ;;
            ':doctor') cmdpath='doctor' ;;
            ':inject') cmdpath='inject' ;;
            ':keys') cmdpath='keys' ;;
            ':models') cmdpath='models' ;;
            ':persona') cmdpath='persona' ;;
            ':profile') cmdpath='profile' ;;
            ':repl') cmdpath='repl' ;;
            ':run') cmdpath='run' ;;
            ':serve') cmdpath='serve' ;;
            ':summarize') cmdpath='summarize' ;;
            ':template') cmdpath='template' ;;
            ':tools') cmdpath='tools' ;;
            ':usage') cmdpath='usage' ;;
            ':vdb') cmdpath='vdb' ;;
            ':ws') cmdpath='ws' ;;
            'ask:-c'|'ask:--chat'|'ask:-p'|'ask:--provider'|'ask:-m'|'ask:--model'|'ask:-s'|'ask:--system'|'ask:-P'|'ask:--persona'|'ask:--rag'|'ask:-f'|'ask:--file'|'ask:-t'|'ask:--template'|'ask:-v'|'ask:--var'|'ask:-T'|'ask:--tool'|'ask:--tools'|'ask:-a'|'ask:--attach'|'ask:-o'|'ask:--option') skip=1 ;;
            'chat:cancel') cmdpath='chat cancel' ;;
            'chat:delete') cmdpath='chat delete' ;;
            'chat:edit') cmdpath='chat edit' ;;
            'chat:export') cmdpath='chat export' ;;
            'chat:fork') cmdpath='chat fork' ;;
            'chat:import') cmdpath='chat import' ;;
            'chat:list') cmdpath='chat list' ;;
            'chat:rename') cmdpath='chat rename' ;;
            'chat:retry') cmdpath='chat retry' ;;
            'chat:rm-message') cmdpath='chat rm-message' ;;
            'chat:search') cmdpath='chat search' ;;
            'chat:show') cmdpath='chat show' ;;
            'chat:tokens') cmdpath='chat tokens' ;;
            'chat:undo') cmdpath='chat undo' ;;
            'chat:use') cmdpath='chat use' ;;
            'chat edit:--message'|'chat edit:--text') skip=1 ;;
            'chat export:-f'|'chat export:--format'|'chat export:-o'|'chat export:--output') skip=1 ;;
            'chat fork:--at') skip=1 ;;
            'chat import:--name') skip=1 ;;
            'chat list:--persona') skip=1 ;;
            'chat retry:-p'|'chat retry:--provider'|'chat retry:-m'|'chat retry:--model'|'chat retry:-o'|'chat retry:--option') skip=1 ;;
            'chat rm-message:-c'|'chat rm-message:--chat') skip=1 ;;
            'chat search:-c'|'chat search:--chat'|'chat search:--role'|'chat search:-n'|'chat search:--limit') skip=1 ;;
            'chat tokens:-p'|'chat tokens:--provider'|'chat tokens:-m'|'chat tokens:--model') skip=1 ;;
            'chat use:-P'|'chat use:--persona'|'chat use:-p'|'chat use:--provider'|'chat use:-m'|'chat use:--model') skip=1 ;;
            'config:edit') cmdpath='config edit' ;;
            'config:init') cmdpath='config init' ;;
            'config:path') cmdpath='config path' ;;
            'config:show') cmdpath='config show' ;;
            'daemon:install') cmdpath='daemon install' ;;
            'daemon:logs') cmdpath='daemon logs' ;;
            'daemon:restart') cmdpath='daemon restart' ;;
            'daemon:start') cmdpath='daemon start' ;;
            'daemon:status') cmdpath='daemon status' ;;
            'daemon:stop') cmdpath='daemon stop' ;;
            'daemon:uninstall') cmdpath='daemon uninstall' ;;
            'daemon install:--manager') skip=1 ;;
            'daemon logs:-n'|'daemon logs:--lines') skip=1 ;;
            'daemon restart:--timeout') skip=1 ;;
            'daemon stop:--timeout') skip=1 ;;
            'daemon uninstall:--manager') skip=1 ;;
            'doctor:--timeout') skip=1 ;;
            'inject:-c'|'inject:--chat'|'inject:-t'|'inject:--template'|'inject:-v'|'inject:--var') skip=1 ;;
            'keys:authorize') cmdpath='keys authorize' ;;
            'keys:list') cmdpath='keys list' ;;
            'keys:revoke') cmdpath='keys revoke' ;;
            'keys:rotate') cmdpath='keys rotate' ;;
            'keys:show') cmdpath='keys show' ;;
            'keys authorize:--name'|'keys authorize:-n') skip=1 ;;
            'models:-p'|'models:--provider') skip=1 ;;
            'persona:delete') cmdpath='persona delete' ;;
            'persona:edit') cmdpath='persona edit' ;;
            'persona:list') cmdpath='persona list' ;;
            'persona:set') cmdpath='persona set' ;;
            'persona:show') cmdpath='persona show' ;;
            'persona set:--tools') skip=1 ;;
            'profile:create') cmdpath='profile create' ;;
            'profile:delete') cmdpath='profile delete' ;;
            'profile:list') cmdpath='profile list' ;;
            'profile:show') cmdpath='profile show' ;;
            'profile:use') cmdpath='profile use' ;;
            'repl:-c'|'repl:--chat'|'repl:--style') skip=1 ;;
            'run:-i'|'run:--input'|'run:-v'|'run:--var'|'run:-c'|'run:--chat'|'run:-p'|'run:--provider'|'run:-m'|'run:--model'|'run:--attach') skip=1 ;;
            'serve:--tcp') skip=1 ;;
            'summarize:--type'|'summarize:-t'|'summarize:--template'|'summarize:-v'|'summarize:--var'|'summarize:-c'|'summarize:--chat'|'summarize:-p'|'summarize:--provider'|'summarize:-m'|'summarize:--model') skip=1 ;;
            'template:delete') cmdpath='template delete' ;;
            'template:edit') cmdpath='template edit' ;;
            'template:list') cmdpath='template list' ;;
            'template:new') cmdpath='template new' ;;
            'template:show') cmdpath='template show' ;;
            'template new:-d'|'template new:--description'|'template new:-s'|'template new:--system'|'template new:--from') skip=1 ;;
            'tools:calls') cmdpath='tools calls' ;;
            'tools:list') cmdpath='tools list' ;;
            'tools:set') cmdpath='tools set' ;;
            'tools list:-c'|'tools list:--chat') skip=1 ;;
            'tools set:-c'|'tools set:--chat') skip=1 ;;
            'usage:-c'|'usage:--chat'|'usage:--since') skip=1 ;;
            'vdb:forget') cmdpath='vdb forget' ;;
            'vdb:info') cmdpath='vdb info' ;;
            'vdb:ingest') cmdpath='vdb ingest' ;;
            'vdb:reembed') cmdpath='vdb reembed' ;;
            'vdb:search') cmdpath='vdb search' ;;
            'vdb:sources') cmdpath='vdb sources' ;;
            'vdb ingest:-g'|'vdb ingest:--glob'|'vdb ingest:-x'|'vdb ingest:--exclude') skip=1 ;;
            'vdb search:-k'|'vdb search:--mode') skip=1 ;;
            'ws:bench') cmdpath='ws bench' ;;
            'ws:clear') cmdpath='ws clear' ;;
            'ws:drop') cmdpath='ws drop' ;;
            'ws:load') cmdpath='ws load' ;;
            'ws:ls') cmdpath='ws ls' ;;
            'ws:refresh') cmdpath='ws refresh' ;;
            'ws:show') cmdpath='ws show' ;;
            'ws:unbench') cmdpath='ws unbench' ;;
            'ws bench:-c'|'ws bench:--chat') skip=1 ;;
            'ws clear:-c'|'ws clear:--chat') skip=1 ;;
            'ws drop:-c'|'ws drop:--chat') skip=1 ;;
            'ws load:--name'|'ws load:-c'|'ws load:--chat') skip=1 ;;
            'ws ls:-c'|'ws ls:--chat') skip=1 ;;
            'ws refresh:-c'|'ws refresh:--chat') skip=1 ;;
            'ws show:-c'|'ws show:--chat') skip=1 ;;
            'ws unbench:-c'|'ws unbench:--chat') skip=1 ;;
        esac
    done
    case "$cmdpath:$prev" in
        ':--profile'|'ask:-c'|'ask:--chat'|'ask:-p'|'ask:--provider'|'ask:-m'|'ask:--model'|'ask:-P'|'ask:--persona'|'ask:-t'|'ask:--template'|'chat list:--persona'|'chat retry:-p'|'chat retry:--provider'|'chat retry:-m'|'chat retry:--model'|'chat tokens:-p'|'chat tokens:--provider'|'chat tokens:-m'|'chat tokens:--model'|'chat use:-P'|'chat use:--persona'|'chat use:-p'|'chat use:--provider'|'chat use:-m'|'chat use:--model'|'inject:-c'|'inject:--chat'|'inject:-t'|'inject:--template'|'models:-p'|'models:--provider'|'repl:-c'|'repl:--chat'|'run:-c'|'run:--chat'|'run:-p'|'run:--provider'|'run:-m'|'run:--model'|'summarize:-t'|'summarize:--template'|'summarize:-c'|'summarize:--chat'|'summarize:-p'|'summarize:--provider'|'summarize:-m'|'summarize:--model'|'tools list:-c'|'tools list:--chat'|'tools set:-c'|'tools set:--chat'|'usage:-c'|'usage:--chat'|'ws bench:-c'|'ws bench:--chat'|'ws clear:-c'|'ws clear:--chat'|'ws drop:-c'|'ws drop:--chat'|'ws load:-c'|'ws load:--chat'|'ws ls:-c'|'ws ls:--chat'|'ws refresh:-c'|'ws refresh:--chat'|'ws show:-c'|'ws show:--chat'|'ws unbench:-c'|'ws unbench:--chat') _chatthy_names; return ;;
        ':--color') COMPREPLY=($(compgen -W 'auto always never' -- "$cur")); return ;;
        'ask:-s'|'ask:--system'|'ask:--rag'|'ask:-f'|'ask:--file'|'ask:-v'|'ask:--var'|'ask:-T'|'ask:--tool'|'ask:-a'|'ask:--attach'|'ask:-o'|'ask:--option'|'chat edit:--message'|'chat edit:--text'|'chat fork:--at'|'chat import:--name'|'chat retry:-o'|'chat retry:--option'|'chat rm-message:-c'|'chat rm-message:--chat'|'chat search:-c'|'chat search:--chat'|'chat search:-n'|'chat search:--limit'|'daemon logs:-n'|'daemon logs:--lines'|'daemon restart:--timeout'|'daemon stop:--timeout'|'doctor:--timeout'|'inject:-v'|'inject:--var'|'keys authorize:--name'|'keys authorize:-n'|'persona set:--tools'|'repl:--style'|'run:-i'|'run:--input'|'run:-v'|'run:--var'|'run:--attach'|'serve:--tcp'|'summarize:-v'|'summarize:--var'|'template new:-d'|'template new:--description'|'template new:-s'|'template new:--system'|'template new:--from'|'usage:--since'|'vdb ingest:-g'|'vdb ingest:--glob'|'vdb ingest:-x'|'vdb ingest:--exclude'|'vdb search:-k'|'ws load:--name') :; return ;;
        'ask:--tools') COMPREPLY=($(compgen -W 'all none' -- "$cur")); return ;;
        'chat export:-f'|'chat export:--format') COMPREPLY=($(compgen -W 'json md' -- "$cur")); return ;;
        'chat export:-o'|'chat export:--output') _chatthy_files -f; return ;;
        'chat search:--role') COMPREPLY=($(compgen -W 'user assistant' -- "$cur")); return ;;
        'daemon install:--manager'|'daemon uninstall:--manager') COMPREPLY=($(compgen -W 'systemd launchd' -- "$cur")); return ;;
        'summarize:--type') COMPREPLY=($(compgen -W 'bullets paragraph topics keypoints tldr' -- "$cur")); return ;;
        'vdb search:--mode') COMPREPLY=($(compgen -W 'hybrid vector text' -- "$cur")); return ;;
    esac
    if [[ $cur == -* ]]; then
        case "$cmdpath" in
            '') COMPREPLY=($(compgen -W '-V --version --profile --no-autostart --color -q --quiet -h --help' -- "$cur")) ;;
            'ask') COMPREPLY=($(compgen -W '-c --chat -C --continue -n --new -p --provider -m --model -s --system -P --persona --edit-last --rag --no-stream -r --raw -q --quiet -f --file -t --template -v --var -T --tool --tools -a --attach -o --option -y --yes --verbose -h --help' -- "$cur")) ;;
            'chat') COMPREPLY=($(compgen -W '-h --help' -- "$cur")) ;;
            'chat cancel') COMPREPLY=($(compgen -W '-h --help' -- "$cur")) ;;
            'chat delete') COMPREPLY=($(compgen -W '-h --help' -- "$cur")) ;;
            'chat edit') COMPREPLY=($(compgen -W '--message --text --no-stream -r --raw -q --quiet -h --help' -- "$cur")) ;;
            'chat export') COMPREPLY=($(compgen -W '-f --format -o --output -h --help' -- "$cur")) ;;
            'chat fork') COMPREPLY=($(compgen -W '--at --json -h --help' -- "$cur")) ;;
            'chat import') COMPREPLY=($(compgen -W '--name --json -h --help' -- "$cur")) ;;
            'chat list') COMPREPLY=($(compgen -W '--persona --json -h --help' -- "$cur")) ;;
            'chat rename') COMPREPLY=($(compgen -W '-h --help' -- "$cur")) ;;
            'chat retry') COMPREPLY=($(compgen -W '-p --provider -m --model -o --option --no-stream -r --raw -q --quiet -h --help' -- "$cur")) ;;
            'chat rm-message') COMPREPLY=($(compgen -W '-c --chat -h --help' -- "$cur")) ;;
            'chat search') COMPREPLY=($(compgen -W '-c --chat --role -n --limit --json -h --help' -- "$cur")) ;;
            'chat show') COMPREPLY=($(compgen -W '--json -h --help' -- "$cur")) ;;
            'chat tokens') COMPREPLY=($(compgen -W '-p --provider -m --model --json -h --help' -- "$cur")) ;;
            'chat undo') COMPREPLY=($(compgen -W '--json -h --help' -- "$cur")) ;;
            'chat use') COMPREPLY=($(compgen -W '-P --persona -p --provider -m --model -h --help' -- "$cur")) ;;
            'completion') COMPREPLY=($(compgen -W '-h --help' -- "$cur")) ;;
            'config') COMPREPLY=($(compgen -W '-h --help' -- "$cur")) ;;
            'config edit') COMPREPLY=($(compgen -W '-h --help' -- "$cur")) ;;
            'config init') COMPREPLY=($(compgen -W '--force -h --help' -- "$cur")) ;;
            'config path') COMPREPLY=($(compgen -W '-h --help' -- "$cur")) ;;
            'config show') COMPREPLY=($(compgen -W '--json -h --help' -- "$cur")) ;;
            'daemon') COMPREPLY=($(compgen -W '-h --help' -- "$cur")) ;;
            'daemon install') COMPREPLY=($(compgen -W '--socket --no-socket --no-enable --print --manager -h --help' -- "$cur")) ;;
            'daemon logs') COMPREPLY=($(compgen -W '-n --lines -f --follow -F --no-follow -h --help' -- "$cur")) ;;
            'daemon restart') COMPREPLY=($(compgen -W '--timeout -h --help' -- "$cur")) ;;
            'daemon start') COMPREPLY=($(compgen -W '-h --help' -- "$cur")) ;;
            'daemon status') COMPREPLY=($(compgen -W '--json -h --help' -- "$cur")) ;;
            'daemon stop') COMPREPLY=($(compgen -W '--timeout -h --help' -- "$cur")) ;;
            'daemon uninstall') COMPREPLY=($(compgen -W '--manager -h --help' -- "$cur")) ;;
            'doctor') COMPREPLY=($(compgen -W '--json --offline --timeout -h --help' -- "$cur")) ;;
            'inject') COMPREPLY=($(compgen -W '-c --chat --send --print -t --template -v --var -h --help' -- "$cur")) ;;
            'keys') COMPREPLY=($(compgen -W '-h --help' -- "$cur")) ;;
            'keys authorize') COMPREPLY=($(compgen -W '--name -n -h --help' -- "$cur")) ;;
            'keys list') COMPREPLY=($(compgen -W '--json -h --help' -- "$cur")) ;;
            'keys revoke') COMPREPLY=($(compgen -W '-h --help' -- "$cur")) ;;
            'keys rotate') COMPREPLY=($(compgen -W '--daemon -h --help' -- "$cur")) ;;
            'keys show') COMPREPLY=($(compgen -W '--client --daemon --json -h --help' -- "$cur")) ;;
            'models') COMPREPLY=($(compgen -W '-p --provider --json -h --help' -- "$cur")) ;;
            'persona') COMPREPLY=($(compgen -W '-h --help' -- "$cur")) ;;
            'persona delete') COMPREPLY=($(compgen -W '--force -h --help' -- "$cur")) ;;
            'persona edit') COMPREPLY=($(compgen -W '-h --help' -- "$cur")) ;;
            'persona list') COMPREPLY=($(compgen -W '--json -h --help' -- "$cur")) ;;
            'persona set') COMPREPLY=($(compgen -W '--tools -h --help' -- "$cur")) ;;
            'persona show') COMPREPLY=($(compgen -W '--json -h --help' -- "$cur")) ;;
            'profile') COMPREPLY=($(compgen -W '-h --help' -- "$cur")) ;;
            'profile create') COMPREPLY=($(compgen -W '--use -h --help' -- "$cur")) ;;
            'profile delete') COMPREPLY=($(compgen -W '-y --yes -h --help' -- "$cur")) ;;
            'profile list') COMPREPLY=($(compgen -W '--json -h --help' -- "$cur")) ;;
            'profile show') COMPREPLY=($(compgen -W '--json -h --help' -- "$cur")) ;;
            'profile use') COMPREPLY=($(compgen -W '-h --help' -- "$cur")) ;;
            'repl') COMPREPLY=($(compgen -W '-c --chat -n --new --style --raw --no-latex --vi --multiline -h --help' -- "$cur")) ;;
            'run') COMPREPLY=($(compgen -W '-i --input -v --var -c --chat -p --provider -m --model --attach -y --yes --verbose --json -h --help' -- "$cur")) ;;
            'serve') COMPREPLY=($(compgen -W '--log-stderr --no-log-stderr --tcp -h --help' -- "$cur")) ;;
            'summarize') COMPREPLY=($(compgen -W '--type -t --template -v --var -c --chat -p --provider -m --model --no-stream -q --quiet -h --help' -- "$cur")) ;;
            'template') COMPREPLY=($(compgen -W '-h --help' -- "$cur")) ;;
            'template delete') COMPREPLY=($(compgen -W '-h --help' -- "$cur")) ;;
            'template edit') COMPREPLY=($(compgen -W '-h --help' -- "$cur")) ;;
            'template list') COMPREPLY=($(compgen -W '--json -h --help' -- "$cur")) ;;
            'template new') COMPREPLY=($(compgen -W '-d --description -s --system --from --no-edit -h --help' -- "$cur")) ;;
            'template show') COMPREPLY=($(compgen -W '--json -h --help' -- "$cur")) ;;
            'tools') COMPREPLY=($(compgen -W '-h --help' -- "$cur")) ;;
            'tools calls') COMPREPLY=($(compgen -W '--json -v --verbose -h --help' -- "$cur")) ;;
            'tools list') COMPREPLY=($(compgen -W '-c --chat --json -h --help' -- "$cur")) ;;
            'tools set') COMPREPLY=($(compgen -W '-c --chat --reset -h --help' -- "$cur")) ;;
            'usage') COMPREPLY=($(compgen -W '-c --chat --since --json -h --help' -- "$cur")) ;;
            'vdb') COMPREPLY=($(compgen -W '-h --help' -- "$cur")) ;;
            'vdb forget') COMPREPLY=($(compgen -W '-h --help' -- "$cur")) ;;
            'vdb info') COMPREPLY=($(compgen -W '--json -h --help' -- "$cur")) ;;
            'vdb ingest') COMPREPLY=($(compgen -W '-g --glob -x --exclude --hidden --force --json -h --help' -- "$cur")) ;;
            'vdb reembed') COMPREPLY=($(compgen -W '--prune -h --help' -- "$cur")) ;;
            'vdb search') COMPREPLY=($(compgen -W '-k --mode --json -h --help' -- "$cur")) ;;
            'vdb sources') COMPREPLY=($(compgen -W '--json -h --help' -- "$cur")) ;;
            'ws') COMPREPLY=($(compgen -W '-h --help' -- "$cur")) ;;
            'ws bench') COMPREPLY=($(compgen -W '--profile-wide -P -c --chat -h --help' -- "$cur")) ;;
            'ws clear') COMPREPLY=($(compgen -W '--profile-wide -P -c --chat -h --help' -- "$cur")) ;;
            'ws drop') COMPREPLY=($(compgen -W '--profile-wide -P -c --chat -h --help' -- "$cur")) ;;
            'ws load') COMPREPLY=($(compgen -W '--name --replace --json --profile-wide -P -c --chat -h --help' -- "$cur")) ;;
            'ws ls') COMPREPLY=($(compgen -W '--json --profile-wide -P -c --chat -h --help' -- "$cur")) ;;
            'ws refresh') COMPREPLY=($(compgen -W '--profile-wide -P -c --chat -h --help' -- "$cur")) ;;
            'ws show') COMPREPLY=($(compgen -W '--json --as-sent --profile-wide -P -c --chat -h --help' -- "$cur")) ;;
            'ws unbench') COMPREPLY=($(compgen -W '--profile-wide -P -c --chat -h --help' -- "$cur")) ;;
        esac
        return
    fi
    case "$cmdpath" in
        '') COMPREPLY=($(compgen -W 'ask chat completion config daemon doctor inject keys models persona profile repl run serve summarize template tools usage vdb ws' -- "$cur")) ;;
        'chat') COMPREPLY=($(compgen -W 'cancel delete edit export fork import list rename retry rm-message search show tokens undo use' -- "$cur")) ;;
        'chat cancel') _chatthy_names ;;
        'chat delete') _chatthy_names ;;
        'chat edit') _chatthy_names ;;
        'chat export') _chatthy_names ;;
        'chat fork') _chatthy_names ;;
        'chat import') _chatthy_files -f ;;
        'chat rename') _chatthy_names ;;
        'chat retry') _chatthy_names ;;
        'chat show') _chatthy_names ;;
        'chat tokens') _chatthy_names ;;
        'chat undo') _chatthy_names ;;
        'chat use') _chatthy_names ;;
        'completion') COMPREPLY=($(compgen -W 'bash zsh fish' -- "$cur")) ;;
        'config') COMPREPLY=($(compgen -W 'edit init path show' -- "$cur")) ;;
        'daemon') COMPREPLY=($(compgen -W 'install logs restart start status stop uninstall' -- "$cur")) ;;
        'keys') COMPREPLY=($(compgen -W 'authorize list revoke rotate show' -- "$cur")) ;;
        'persona') COMPREPLY=($(compgen -W 'delete edit list set show' -- "$cur")) ;;
        'persona delete') _chatthy_names ;;
        'persona edit') _chatthy_names ;;
        'persona set') _chatthy_names ;;
        'persona show') _chatthy_names ;;
        'profile') COMPREPLY=($(compgen -W 'create delete list show use' -- "$cur")) ;;
        'profile delete') _chatthy_names ;;
        'profile show') _chatthy_names ;;
        'profile use') _chatthy_names ;;
        'template') COMPREPLY=($(compgen -W 'delete edit list new show' -- "$cur")) ;;
        'template delete') _chatthy_names ;;
        'template edit') _chatthy_names ;;
        'template show') _chatthy_names ;;
        'tools') COMPREPLY=($(compgen -W 'calls list set' -- "$cur")) ;;
        'tools calls') _chatthy_names ;;
        'vdb') COMPREPLY=($(compgen -W 'forget info ingest reembed search sources' -- "$cur")) ;;
        'ws') COMPREPLY=($(compgen -W 'bench clear drop load ls refresh show unbench' -- "$cur")) ;;
        'ws bench') _chatthy_names ;;
        'ws drop') _chatthy_names ;;
        'ws refresh') _chatthy_names ;;
        'ws show') _chatthy_names ;;
        'ws unbench') _chatthy_names ;;
    esac
}

complete -F _chatthy chatthy
