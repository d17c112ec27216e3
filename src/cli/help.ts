/**
 * Help and commander's own messages, set once for the whole tree so that commands added later
 * read the same: global options under every command's help, no `(default: [])`, text wrapped at
 * word boundaries to the terminal (80 columns when piped), and commander's errors with our
 * `ms-async: error:` prefix (README.md, "Exit codes").
 */
import { Help, type Command, type Option } from 'commander';
import type { Io } from '../ui/io.js';

const PIPED_WIDTH = 80;

/** Applies the help and output settings to `program` and every command under it. */
export function configureHelpEverywhere(program: Command, io: Io): void {
  const width = (stream: Io['stdout']): number => {
    const columns = (stream as { columns?: number }).columns;
    return stream.isTTY === true && typeof columns === 'number' && columns > 20 ? columns : PIPED_WIDTH;
  };
  const output = {
    writeOut: (text: string) => io.stdout.write(wrapText(text, width(io.stdout))),
    writeErr: (text: string) => io.stderr.write(wrapText(text, width(io.stderr))),
    getOutHelpWidth: () => width(io.stdout),
    getErrHelpWidth: () => width(io.stderr),
    // Errors stay one line (scripts grep them): written as they are, not wrapped like help.
    outputError: (text: string) => io.stderr.write(text.replace(/^error: /, 'ms-async: error: ')),
  };
  const help = {
    showGlobalOptions: true,
    optionDescription(this: Help, option: Option): string {
      const text = Help.prototype.optionDescription.call(this, option);
      // An empty list is what a repeatable option starts from, not a default worth showing.
      return text.replace(/ \(default: \[\]\)/, '').replace(/\(default: \[\]\) ?/, '');
    },
  };
  const visit = (command: Command): void => {
    command.configureHelp(help).configureOutput(output).exitOverride();
    for (const sub of command.commands) visit(sub);
  };
  visit(program);
}

/**
 * Wraps lines longer than `width` at spaces. Continuation lines keep the line's indent (the usage
 * line's hang by two); an example command (`  $ …`) continues with ` \` so that it still pastes.
 */
export function wrapText(text: string, width: number): string {
  return text
    .split('\n')
    .map((line) => wrapLine(line, width))
    .join('\n');
}

function wrapLine(line: string, width: number): string {
  if (line.length <= width) return line;
  const indent = /^\s*/.exec(line)?.[0] ?? '';
  const isExample = line.trimStart().startsWith('$ ');
  const comment = isExample ? line.indexOf('  # ') : -1;
  // A trailing `# comment` after an example is dropped to its own line rather than split.
  if (comment > 0) {
    const command = line.slice(0, comment).trimEnd();
    return `${wrapLine(command, width)}\n${wrapLine(`${indent}  ${line.slice(comment).trim()}`, width)}`;
  }
  const next = `${indent}${isExample ? '    ' : line.startsWith('Usage:') ? '  ' : ''}`;
  const suffix = isExample ? ' \\' : '';
  const lines: string[] = [];
  let current = '';
  for (const word of splitWords(line.slice(indent.length))) {
    const prefix = lines.length === 0 ? indent : next;
    const candidate = current === '' ? word : `${current} ${word}`;
    if (current !== '' && prefix.length + candidate.length + suffix.length > width) {
      lines.push(`${prefix}${current}${suffix}`);
      current = word;
    } else {
      current = candidate;
    }
  }
  lines.push(`${lines.length === 0 ? indent : next}${current}`);
  return lines.join('\n');
}

/** Words split at spaces, but not inside quotes: `-p momentFrom="2026-11-01 00:00:00"` stays whole. */
function splitWords(text: string): string[] {
  return text.match(/(?:[^\s"']+|"[^"]*"|'[^']*')+/g) ?? [];
}
