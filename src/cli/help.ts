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
 * Re-flows help text to `width`. The help's texts carry hard line breaks, so lines are first joined
 * back into their paragraphs: a flush-left line continues the flush-left line above it (unless
 * that one is a heading ending in `:`, the usage line or an example), and a line indented to a
 * list entry's description column continues that entry. Blank lines, examples (`$ …`) and indented
 * lists keep their structure. Continuation lines hang under the description column of a list
 * entry (`term  description`), under the indent otherwise (the usage line's by two); an example
 * command continues with ` \` so that it still pastes.
 */
export function wrapText(text: string, width: number): string {
  return paragraphs(text.split('\n'))
    .map((p) => wrapLine(p.line, width, p.hang))
    .join('\n');
}

interface Paragraph {
  line: string;
  /** The description column of a `term  description` list entry. */
  hang?: number;
}

function paragraphs(lines: string[]): Paragraph[] {
  const out: Paragraph[] = [];
  for (const line of lines) {
    const prev = out.at(-1);
    const indent = /^ */.exec(line)?.[0].length ?? 0;
    const text = line.trim();
    if (prev !== undefined && text !== '' && !text.startsWith('$ ') && continues(prev, indent)) {
      prev.line = `${prev.line.trimEnd()} ${text}`;
      continue;
    }
    out.push({ line, hang: text.startsWith('$ ') ? undefined : entryColumn(line) });
  }
  return out;
}

function continues(prev: Paragraph, indent: number): boolean {
  const above = prev.line.trim();
  if (above === '' || above.startsWith('$ ')) return false;
  if (indent === 0) return !/^\s/.test(prev.line) && !above.endsWith(':') && !above.startsWith('Usage:');
  return prev.hang === indent;
}

/** `  term   description` → the column where the description starts; none for other lines. */
function entryColumn(line: string): number | undefined {
  const match = /^ +\S+(?: \S+)*? {2,}(?=\S)/.exec(line);
  return match === null ? undefined : match[0].length;
}

function wrapLine(line: string, width: number, hang?: number): string {
  if (line.length <= width) return line;
  const indent = /^\s*/.exec(line)?.[0] ?? '';
  const isExample = line.trimStart().startsWith('$ ') || (hang !== undefined && line.startsWith('$ ', hang));
  const comment = isExample ? line.indexOf('  # ') : -1;
  // A trailing `# comment` after an example is dropped to its own line rather than split.
  if (comment > 0) {
    const command = line.slice(0, comment).trimEnd();
    return `${wrapLine(command, width, hang)}\n${wrapLine(`${indent}  ${line.slice(comment).trim()}`, width)}`;
  }
  const base = hang !== undefined ? ' '.repeat(hang) : indent;
  const next = `${base}${isExample ? '    ' : line.startsWith('Usage:') ? '  ' : ''}`;
  const suffix = isExample ? ' \\' : '';
  // A list entry's term and its padding stay as they are; only the description is re-flowed.
  const first = hang !== undefined ? line.slice(0, hang) : indent;
  const lines: string[] = [];
  let current = '';
  for (const word of splitWords(line.slice(first.length))) {
    const prefix = lines.length === 0 ? first : next;
    const candidate = current === '' ? word : `${current} ${word}`;
    if (current !== '' && prefix.length + candidate.length + suffix.length > width) {
      lines.push(`${prefix}${current}${suffix}`);
      current = word;
    } else {
      current = candidate;
    }
  }
  lines.push(`${lines.length === 0 ? first : next}${current}`);
  return lines.join('\n');
}

/**
 * Words split at spaces, but not inside quotes: `-p momentFrom="2026-11-01 00:00:00"` stays whole.
 * An apostrophe after a letter (`task's`) is no quote.
 */
function splitWords(text: string): string[] {
  return text.match(/(?:[^\s"']+|"[^"]*"|(?<![A-Za-z])'[^']*'|')+/g) ?? [];
}
