/**
 * Shell completion scripts generated from the commander tree when `ms-async completion <shell>`
 * runs, so a command or flag added anywhere appears in them without edits here. Pure: tree in,
 * script out.
 */
import type { Command, Option } from 'commander';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

interface Node {
  /** Subcommand words from the root: `['webhook', 'add']`; [] for the root. */
  path: string[];
  command: Command;
}

/** Values worth offering for the first argument of a command (report aliases for `<report>`). */
export type ArgumentValues = (command: Command) => readonly string[];

function nodes(root: Command): Node[] {
  const out: Node[] = [];
  const visit = (command: Command, path: string[]): void => {
    out.push({ path, command });
    for (const sub of command.commands) visit(sub, [...path, sub.name()]);
  };
  visit(root, []);
  return out;
}

function flagsOf(command: Command, root: Command): string[] {
  const own = command.options.flatMap((o) => [o.long, o.short]);
  const globals = command === root ? [] : root.options.flatMap((o) => [o.long, o.short]);
  return [...new Set([...own, ...globals, '--help'].filter((f): f is string => f !== undefined))];
}

function valueOptions(command: Command, root: Command): Option[] {
  return [...command.options, ...(command === root ? [] : root.options)].filter((o) => o.required || o.optional);
}

/** A word safe inside a bash/zsh/fish single-quoted string. */
function q(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

export function completionScript(shell: Shell, root: Command, argumentValues: ArgumentValues): string {
  if (shell === 'fish') return fishScript(root, argumentValues);
  const bash = bashScript(root, argumentValues);
  // zsh runs the bash function through bashcompinit: one script, one behaviour.
  return shell === 'zsh' ? `#compdef ${root.name()}\nautoload -U +X bashcompinit && bashcompinit\n${bash}` : bash;
}

function functionName(root: Command): string {
  return `_${root.name().replace(/[^A-Za-z0-9]/g, '_')}_complete`;
}

function bashScript(root: Command, argumentValues: ArgumentValues): string {
  const all = nodes(root);
  const known = all
    .filter((n) => n.path.length > 0)
    .map((n) => q(n.path.join(' ')))
    .join('|');
  const valueFlags = new Set<string>();
  const cases: string[] = [];
  const choiceCases: string[] = [];
  for (const { path, command } of all) {
    const subs = command.commands.map((c) => c.name());
    const values = command.commands.length === 0 ? argumentValues(command) : [];
    const words = [...subs, ...values, ...flagsOf(command, root)].join(' ');
    cases.push(`    ${q(path.join(' '))}) words=${q(words)} ;;`);
    for (const option of valueOptions(command, root)) {
      for (const flag of [option.long, option.short]) if (flag) valueFlags.add(flag);
      const choices = option.argChoices;
      if (choices && option.long)
        choiceCases.push(`      ${q(`${path.join(' ')}|${option.long}`)}) words=${q(choices.join(' '))} ;;`);
    }
  }
  const fn = functionName(root);
  return `# ${root.name()} completion for bash (ms-async completion bash)
${fn}() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="" path="" word candidate i words=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    if [[ -n "$prev" ]]; then prev=""; continue; fi
    case " ${[...valueFlags].join(' ')} " in *" $word "*) prev="$word"; continue ;; esac
    [[ "$word" == -* ]] && continue
    candidate="\${path:+$path }$word"
    case "$candidate" in ${known || "''"}) path="$candidate" ;; esac
  done
  if [[ -n "$prev" ]]; then
    case "$path|$prev" in
${choiceCases.join('\n')}
      *) COMPREPLY=($(compgen -f -- "$cur")); return 0 ;;
    esac
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
    return 0
  fi
  case "$path" in
${cases.join('\n')}
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F ${fn} ${root.name()}
`;
}

function fishScript(root: Command, argumentValues: ArgumentValues): string {
  const name = root.name();
  const lines = [`# ${name} completion for fish (ms-async completion fish)`, `complete -c ${name} -f`];
  const describe = (text: string): string => q(text.split('\n')[0] ?? '');
  for (const { path, command } of nodes(root)) {
    const condition =
      path.length === 0 ? '__fish_use_subcommand' : `__fish_seen_subcommand_from ${path[path.length - 1] ?? ''}`;
    if (path.length > 0) {
      const parent =
        path.length === 1 ? '__fish_use_subcommand' : `__fish_seen_subcommand_from ${path[path.length - 2] ?? ''}`;
      lines.push(
        `complete -c ${name} -n ${q(parent)} -a ${q(command.name())} -d ${describe(command.summary() || command.description())}`,
      );
    }
    for (const option of command.options) {
      // The root's options are global: offered after any subcommand too.
      const parts = [path.length === 0 ? `complete -c ${name}` : `complete -c ${name} -n ${q(condition)}`];
      if (option.long) parts.push(`-l ${option.long.replace(/^--/, '')}`);
      if (option.short) parts.push(`-s ${option.short.replace(/^-/, '')}`);
      if (option.required || option.optional)
        parts.push(option.argChoices ? `-x -a ${q(option.argChoices.join(' '))}` : '-r -F');
      parts.push(`-d ${describe(option.description)}`);
      lines.push(parts.join(' '));
    }
    const values = command.commands.length === 0 && path.length > 0 ? argumentValues(command) : [];
    if (values.length > 0) lines.push(`complete -c ${name} -n ${q(condition)} -a ${q(values.join(' '))}`);
  }
  return `${lines.join('\n')}\n`;
}
