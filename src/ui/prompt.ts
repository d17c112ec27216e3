/**
 * readSecret: a token from a hidden prompt on a TTY (nothing echoed), or the first line of stdin
 * when stdin is not a TTY (`echo $T | ms-async login`).
 */
import { InterruptedError, UsageError } from '../errors.js';
import type { Io } from './io.js';

export async function readSecret(io: Io, prompt: string): Promise<string> {
  const stdin = io.stdin as Io['stdin'] & { setRawMode?: (raw: boolean) => void };
  if (stdin.isTTY !== true) return firstLine(await readAll(stdin));
  io.stderr.write(prompt);
  stdin.setRawMode?.(true);
  stdin.setEncoding?.('utf8');
  try {
    return await new Promise<string>((resolve, reject) => {
      let value = '';
      const finish = (error?: Error): void => {
        stdin.off('data', onData);
        stdin.off('end', onEnd);
        if (error) reject(error);
        else resolve(value.trim());
      };
      const onEnd = (): void => finish();
      const onData = (chunk: string | Buffer): void => {
        for (const ch of String(chunk)) {
          if (ch === '\r' || ch === '\n' || ch === '\u0004') return finish();
          if (ch === '\u0003') return finish(new InterruptedError('interrupted; nothing was stored'));
          if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
          else value += ch;
        }
      };
      stdin.on('data', onData);
      stdin.once('end', onEnd);
      stdin.resume();
    });
  } finally {
    stdin.setRawMode?.(false);
    stdin.pause();
    io.stderr.write('\n');
  }
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stream) {
    text += String(chunk);
    if (text.length > 65_536) throw new UsageError('stdin is too long to be a token');
  }
  return text;
}

function firstLine(text: string): string {
  const line = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .find((l) => l !== '');
  if (!line) throw new UsageError('no token on stdin', { hint: 'echo "$TOKEN" | ms-async login' });
  return line;
}
