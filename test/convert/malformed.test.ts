/**
 * Truncated or malformed result files fail with BadResultError in every format, on the fast path
 * and on stream-json alike, and nothing malformed reaches the output as-is.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BadResultError } from '../../src/errors.js';
import type { OutputFormat } from '../../src/convert/index.js';
import { findReportByAlias } from '../../src/reports/catalog.js';
import { writeResultFile } from '../../src/sandbox/generate.js';
import { convertToText, makeTmp } from './helpers.js';

const TRICKY = fileURLToPath(new URL('../fixtures/tricky-rows.json', import.meta.url));
const FORMATS: OutputFormat[] = ['ndjson', 'csv', 'json'];
const report = findReportByAlias('stock-bystore')!;
let tmp: Awaited<ReturnType<typeof makeTmp>>;
beforeAll(async () => {
  tmp = await makeTmp();
});
afterAll(async () => {
  await tmp.cleanup();
});

async function expectBad(
  path: string,
  engine: 'fast' | 'stream-json',
  format: OutputFormat,
  chunkSize?: number,
): Promise<BadResultError> {
  const err = await convertToText(path, { format, report, engine, ...(chunkSize ? { chunkSize } : {}) }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `${engine}/${format} accepted a broken file`).toBeInstanceOf(BadResultError);
  expect((err as Error).message).not.toContain('\n');
  return err as BadResultError;
}

describe('truncated files', () => {
  it('fail at every cut of the tricky fixture, fast path (all formats) and stream-json agreeing', async () => {
    const bytes = await readFile(TRICKY);
    const last = bytes.lastIndexOf('}'.charCodeAt(0));
    const path = await tmp.file('cut.json');
    for (let cut = 0; cut <= last; cut += cut < 20 || cut > last - 20 ? 1 : 17) {
      await tmp.file('cut.json', bytes.subarray(0, cut));
      for (const format of FORMATS) await expectBad(path, 'fast', format, cut % 3 === 0 ? 7 : undefined);
      if (cut % 10 === 0) await expectBad(path, 'stream-json', 'ndjson');
    }
  });

  it('fail at cuts of generated stock-by-store files, compact and pretty', async () => {
    for (const pretty of [false, true]) {
      const full = await tmp.file(`sb-${pretty}.json`);
      await writeResultFile(full, { report: 'stock-bystore', rows: 4, seed: 3, pretty });
      const bytes = await readFile(full);
      const path = await tmp.file('sb-cut.json');
      for (let cut = 1; cut < bytes.length - (pretty ? 1 : 0); cut += 113) {
        await tmp.file('sb-cut.json', bytes.subarray(0, cut));
        for (const format of FORMATS) await expectBad(path, 'fast', format);
      }
    }
  });

  it('says where: the byte offset, or that the file is cut short', async () => {
    const cut = await tmp.file('short.json', '{"meta":{"size":1},"rows":[{"a":"b');
    expect((await expectBad(cut, 'fast', 'csv')).message).toMatch(
      /cut short: it ends inside the records array after 34 bytes/,
    );
    const empty = await tmp.file('empty.json', '');
    expect((await expectBad(empty, 'fast', 'ndjson')).message).toMatch(/cut short: it is empty/);
    const bad = await tmp.file('bad.json', '{"rows":[{"a":1},{"a":tru}]}');
    expect((await expectBad(bad, 'fast', 'ndjson')).message).toMatch(
      /not well-formed JSON: bad literal \(expected true\) at byte 25/,
    );
    expect((await expectBad(bad, 'fast', 'csv')).message).toMatch(/at byte 25/);
  });
});

const MALFORMED: Array<[string, string]> = [
  ['garbage after the value', '{"rows":[{"a":1}]} x'],
  ['second top-level value', '{"rows":[]}{}'],
  ['missing comma between records', '{"rows":[{"a":1} {"a":2}]}'],
  ['garbage between records', '{"rows":[{"a":1},x,{"a":2}]}'],
  ['trailing comma in records', '{"rows":[{"a":1},]}'],
  ['trailing comma in object', '{"rows":[{"a":1,}]}'],
  ['trailing comma in envelope', '{"rows":[],}'],
  ['bad literal', '{"rows":[{"a":nul}]}'],
  ['capitalised literal', '{"rows":[{"a":True}]}'],
  ['leading zero', '{"rows":[{"a":01}]}'],
  ['bare fraction', '{"rows":[{"a":.5}]}'],
  ['dangling dot', '{"rows":[{"a":1.}]}'],
  ['plus sign', '{"rows":[{"a":+1}]}'],
  ['empty exponent', '{"rows":[{"a":1e}]}'],
  ['lone minus', '{"rows":[{"a":-}]}'],
  ['unterminated string', '{"rows":[{"a":"abc}]}'],
  ['raw newline in a string', '{"rows":[{"a":"a\nb"}]}'],
  ['bad escape', '{"rows":[{"a":"\\x41"}]}'],
  ['bad unicode escape', '{"rows":[{"a":"\\u12G4"}]}'],
  ['single quotes', "{'rows':[]}"],
  ['missing colon', '{"rows" [{"a":1}]}'],
  ['missing value', '{"rows":[{"a":}]}'],
  ['unquoted key', '{"rows":[{a:1}]}'],
  ['mismatched brackets', '{"rows":[{"a":[1,2}]}'],
  ['mismatched envelope', '{"rows":[{"a":1}}'],
  ['unbalanced, closes early', '{"rows":[{"a":1}]]}'],
  ['records not an array', '{"rows":{"a":1}}'],
  ['records null', '{"rows":null}'],
  ['bad value in meta', '{"meta":{"size":1,},"rows":[]}'],
  ['bad value in context after rows', '{"rows":[{"a":1}],"context":[1 2]}'],
  ['only whitespace', '  \n '],
  ['bad key in envelope', '{"rows":[],1:2}'],
];

describe.each(MALFORMED)('%s', (_name, body) => {
  it('is BadResultError on both engines in every format', async () => {
    const path = await tmp.file('malformed.json', body);
    for (const format of FORMATS) {
      await expectBad(path, 'fast', format);
      await expectBad(path, 'fast', format, 3);
      await expectBad(path, 'stream-json', format);
    }
  });
});

describe('what never reaches the output', () => {
  it('writes nothing of a JSON file that fails validation', async () => {
    const path = await tmp.file('late-error.json', `{"rows":[${'{"a":1},'.repeat(1000)}{"a":x}]}`);
    const { Collect } = await import('./helpers.js');
    const { convertFile } = await import('../../src/convert/index.js');
    const out = new Collect();
    await expect(convertFile(path, out, { format: 'json', report, chunkSize: 1024 })).rejects.toBeInstanceOf(
      BadResultError,
    );
    expect(out.bytes().length).toBe(0);
  });

  it('rejects invalid UTF-8 on the fast path', async () => {
    const path = await tmp.file(
      'latin1.json',
      Buffer.concat([Buffer.from('{"rows":[{"a":"'), Buffer.from([0xe9, 0x41]), Buffer.from('"}]}')]),
    );
    for (const format of FORMATS) expect((await expectBad(path, 'fast', format)).message).toMatch(/UTF-8/);
  });
});
