/**
 * The command lines that hints print (resume, fetch later, run again), rebuilt from what the user
 * typed: every option given on the command line is recorded as it arrives from commander, so an
 * option added to any command later flows into the hints without edits here (README.md, "Resume").
 */
import type { Command, Option } from 'commander';

interface TypedOption {
  option: Option;
  /** The raw text after the flag; undefined for booleans and negations. */
  raw: string | undefined;
}

/** Never repeated in a hint: secrets must not reach a terminal, a log or a cron mail. */
const SECRET_OPTIONS: ReadonlySet<string> = new Set(['--token']);

const typedByCommand = new WeakMap<Command, TypedOption[]>();

/** Records the options typed on `program` and all its subcommands, in order. Call once, after registering. */
export function recordTypedOptions(program: Command): void {
  const visit = (command: Command): void => {
    const typed: TypedOption[] = [];
    typedByCommand.set(command, typed);
    for (const option of command.options) {
      command.on(`option:${option.name()}`, (raw: unknown) => {
        typed.push({ option, raw: typeof raw === 'string' ? raw : undefined });
      });
    }
    for (const sub of command.commands) visit(sub);
  };
  visit(program);
}

export interface CommandLineTarget {
  /** The subcommand's words and arguments: `['fetch', id]`. */
  words: readonly string[];
  /** Flags the hint needs whatever was typed: `['--wait']`. */
  extra?: readonly string[];
  /** Typed flags the hint must not repeat: `['--timeout']` after that timeout was reached. */
  drop?: readonly string[];
}

/**
 * `ms-async <global options> <words> <extra> <options>`: the options typed on `from` (and its
 * parents) that the target command also accepts, shell-quoted, secrets left out. Options the
 * target does not know (`--reuse`, `-p` for a fetch) are dropped; so are flags already in `extra`
 * and those in `drop`.
 */
export function buildCommandLine(from: Command, target: CommandLineTarget): string {
  const chain: Command[] = [];
  for (let c: Command | null = from; c; c = c.parent) chain.unshift(c);
  const root = chain[0] ?? from;
  const targetCommand = findCommand(root, target.words);
  const extra = new Set(target.extra ?? []);
  const drop = new Set(target.drop ?? []);
  const globals: string[] = [];
  const locals: string[] = [];
  for (const command of chain) {
    const isRoot = command === root;
    for (const { option, raw } of typedByCommand.get(command) ?? []) {
      const flag = option.long ?? option.short;
      if (!flag || SECRET_OPTIONS.has(flag) || extra.has(flag) || drop.has(flag)) continue;
      if (!isRoot && !targetCommand?.options.some((o) => o.long === option.long)) continue;
      (isRoot ? globals : locals).push(...(raw === undefined ? [flag] : [flag, shellQuote(raw)]));
    }
  }
  return [root.name(), ...globals, ...target.words.map(shellQuote), ...extra, ...locals].join(' ');
}

function findCommand(root: Command, words: readonly string[]): Command | undefined {
  let command: Command | undefined = root;
  for (const word of words) {
    const next: Command | undefined = command?.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (!next) break;
    command = next;
  }
  return command === root ? undefined : command;
}

/** POSIX shell quoting: bare when safe, else single quotes with `'` escaped. */
export function shellQuote(text: string): string {
  return /^[\w./:=@%+,-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
