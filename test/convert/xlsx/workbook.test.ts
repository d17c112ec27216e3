/**
 * The XLSX writer on its own: typed cells, text kept exactly (hostile values included), the
 * header's layout and the sheet split, read back with SheetJS, not with our code.
 */
import { readdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { XlsxWriter } from '../../../src/convert/xlsx/workbook.js';
import { escapeText, momentSerial } from '../../../src/convert/xlsx/xml.js';
import { readXlsx, serialToText } from '../../helpers/read-xlsx.js';
import { makeTmp } from '../helpers.js';

let tmp: Awaited<ReturnType<typeof makeTmp>>;
beforeAll(async () => {
  tmp = await makeTmp();
});
afterAll(async () => {
  await tmp.cleanup();
});

async function build(fill: (w: XlsxWriter) => void, columns: string[], maxRecordsPerSheet?: number): Promise<Buffer> {
  const w = await XlsxWriter.create({
    dir: tmp.dir,
    name: 'wb',
    sheetName: 'stock-bystore',
    ...(maxRecordsPerSheet ? { maxRecordsPerSheet } : {}),
  });
  const chunks: Buffer[] = [];
  try {
    fill(w);
    await w.finish(columns, async (c) => {
      chunks.push(Buffer.from(c));
    });
  } finally {
    await w.dispose();
  }
  return Buffer.concat(chunks);
}

const HOSTILE = [
  '=1+1',
  '"quoted"',
  '<&>',
  'line1\nline2',
  'cr\rhere',
  'crlf\r\nend',
  '  padded  ',
  '_x000D_ literal',
  'tab\there',
  'bell\u0007nul\u0000',
  'lone \ud800 surrogate',
  'emoji 😀',
  'Склад «Север»',
  '00002',
  '0123456789012345678901',
  '+7 999',
];

describe('XlsxWriter', () => {
  it('writes numbers, money, moments and booleans as typed cells, and text exactly', async () => {
    const bytes = await build(
      (w) => {
        w.beginRow();
        w.number(0, '234.392');
        w.money(1, '16751.00');
        w.moment(2, '2026-11-30 12:34:56.789');
        w.moment(3, '2026-01-01 00:00:00');
        w.boolean(4, true);
        w.text(5, '00002');
        w.endRow();
        w.beginRow();
        w.number(0, '-0.1');
        w.money(1, '0.00');
        w.moment(2, '2026-02-30 10:00:00'); // not a real date: stays text
        w.boolean(4, false);
        w.number(6, '12345678901234567890'); // a column that appears late
        w.endRow();
      },
      ['qty', 'sum', 'moment', 'day', 'flag', 'code', 'big'],
    );
    const [sheet] = readXlsx(bytes).sheets;
    expect(sheet!.name).toBe('stock-bystore');
    expect(sheet!.rows[0]!.map((c) => c?.v)).toEqual(['qty', 'sum', 'moment', 'day', 'flag', 'code', 'big']);
    const [r1, r2] = [sheet!.rows[1]!, sheet!.rows[2]!];
    expect(r1[0]).toMatchObject({ t: 'n', v: 234.392 });
    expect(r1[1]).toMatchObject({ t: 'n', v: 16751, z: '#,##0.00', w: '16,751.00' });
    expect(r1[2]!.t).toBe('n');
    expect(serialToText(r1[2]!.v as number)).toBe('2026-11-30 12:34:56.789');
    expect(r1[2]!.w).toBe('2026-11-30 12:34:56.789');
    expect(r1[3]!.w).toBe('2026-01-01 00:00:00.000');
    expect(r1[4]).toMatchObject({ t: 'b', v: true });
    expect(r1[5]).toMatchObject({ t: 's', v: '00002' });
    expect(r1[6]).toBeUndefined();
    expect(r2[0]).toMatchObject({ t: 'n', v: -0.1 });
    expect(r2[1]).toMatchObject({ t: 'n', v: 0, w: '0.00' });
    expect(r2[2]).toMatchObject({ t: 's', v: '2026-02-30 10:00:00' });
    expect(r2[3]).toBeUndefined();
    expect(r2[4]).toMatchObject({ t: 'b', v: false });
    expect(r2[6]).toMatchObject({ t: 'n', v: Number('12345678901234567890') });
    // The number's digits are the JSON text's, not a re-printed double's.
    expect(sheet!.xml).toContain('<v>12345678901234567890</v>');
  });

  it('keeps hostile text exactly: formulas, quotes, markup, CR, controls, lone surrogates', async () => {
    const bytes = await build(
      (w) => {
        for (const s of HOSTILE) {
          w.beginRow();
          w.text(0, s);
          w.endRow();
        }
      },
      ['name'],
    );
    const [sheet] = readXlsx(bytes).sheets;
    const got = sheet!.rows.slice(1).map((r) => r[0]);
    for (const [k, s] of HOSTILE.entries()) {
      expect(got[k]!.t).toBe('s');
      // A lone surrogate cannot be UTF-8: it is written as _xD800_, which readers turn back into it.
      expect(got[k]!.v).toBe(s);
    }
    expect(sheet!.xml).not.toMatch(/\r/);
    expect(sheet!.xml).toContain('cr_x000D_here');
    expect(sheet!.xml).not.toContain('<f>');
  });

  it('has a bold, frozen header row with an autofilter and widths from the data', async () => {
    const bytes = await build(
      (w) => {
        w.beginRow();
        w.text(0, 'a much longer name than the header');
        w.number(1, '1');
        w.endRow();
      },
      ['name', 'n'],
    );
    const { sheets, files } = readXlsx(bytes);
    const sheet = sheets[0]!;
    expect(sheet.autofilter).toBe('A1:B2');
    expect(sheet.xml).toContain('<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>');
    expect(sheet.xml).toMatch(/<c r="A1" t="inlineStr" s="3">/);
    expect(files['xl/styles.xml']).toMatch(
      /<cellXfs count="4">.*<xf numFmtId="0" fontId="1"[^>]*applyFont="1"\/><\/cellXfs>/,
    );
    expect(files['xl/styles.xml']).toMatch(/<fonts count="2">.*<font><b\/>/);
    expect(sheet.xml).toContain('<col min="1" max="1" width="36" customWidth="1"/>');
    expect(sheet.xml).toContain('<col min="2" max="2" width="8" customWidth="1"/>');
  });

  it('continues on a new sheet, header repeated, past the records-per-sheet limit', async () => {
    const bytes = await build(
      (w) => {
        for (let k = 0; k < 7; k++) {
          w.beginRow();
          w.number(0, String(k));
          w.text(1, `r${k}`);
          w.endRow();
        }
      },
      ['n', 'name'],
      3,
    );
    const { sheets, files } = readXlsx(bytes);
    expect(sheets.map((s) => s.name)).toEqual(['stock-bystore', 'stock-bystore (2)', 'stock-bystore (3)']);
    expect(sheets.map((s) => s.rows.map((r) => r[0]!.v))).toEqual([
      ['n', 0, 1, 2],
      ['n', 3, 4, 5],
      ['n', 6],
    ]);
    expect(sheets.map((s) => s.autofilter)).toEqual(['A1:B4', 'A1:B4', 'A1:B2']);
    expect(files['xl/workbook.xml']).toContain(
      `localSheetId="2" hidden="1">'stock-bystore (3)'!$A$1:$B$2</definedName>`,
    );
  });

  it('leaves no temporary file behind', async () => {
    await build(
      (w) => {
        w.beginRow();
        w.endRow();
      },
      ['a'],
    );
    expect((await readdir(tmp.dir)).filter((n) => n.includes('xlsx-body'))).toEqual([]);
  });
});

describe('xml rules', () => {
  it('escapes what XML cannot carry and nothing else', () => {
    expect(escapeText('plain Склад')).toBe('plain Склад');
    expect(escapeText('a<b>&c')).toBe('a&lt;b&gt;&amp;c');
    expect(escapeText('x\ry')).toBe('x_x000D_y');
    expect(escapeText('\u0001\uFFFE')).toBe('_x0001__xFFFE_');
    expect(escapeText('_x0041_')).toBe('_x005F_x0041_');
    expect(escapeText('😀')).toBe('😀');
  });

  it('turns API moments into serials in the same wall clock', () => {
    expect(momentSerial('1900-03-01 00:00:00')).toBe('61');
    expect(momentSerial('2026-11-30 12:00:00')).toBe(String(46356.5));
    expect(serialToText(Number(momentSerial('2026-11-30 23:59:59.999')))).toBe('2026-11-30 23:59:59.999');
    expect(momentSerial('1899-12-31 00:00:00')).toBeUndefined();
    expect(momentSerial('2026-11-30')).toBe('46356'); // a bare date: midnight
    expect(momentSerial('2026-02-30 10:00:00')).toBeUndefined();
    expect(momentSerial('2026-11-30 24:00:00')).toBeUndefined();
  });
});
