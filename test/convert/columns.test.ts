/**
 * The column table's typed cells (columns.ts): what a second writer (XLSX) receives from either
 * flattening path — the kind of every cell, numbers' JSON text, strings unquoted — and the money
 * flag per column.
 */
import { describe, expect, it } from 'vitest';
import {
  CELL_EMPTY,
  CELL_FALSE,
  CELL_JSON,
  CELL_NUMBER,
  CELL_NUMBER_TEXT,
  CELL_STRING,
  CELL_TEXT,
  CELL_TEXT_DELIM,
  CELL_TRUE,
  ColumnTable,
  type CellRow,
  type LineWriter,
} from '../../src/convert/columns.js';
import { ByteFlattener } from '../../src/convert/csv-bytes.js';
import { ObjectFlattener } from '../../src/convert/csv-objects.js';
import { parseExact } from '../../src/convert/exact-json.js';

/** A writer that keeps each line as [kind, text] pairs. */
class Recorder implements LineWriter {
  lines: Array<Array<[number, string]>> = [];
  line(row: CellRow, b: Uint8Array | null, count: number): void {
    const cells: Array<[number, string]> = [];
    for (let k = 0; k < count; k++) {
      const kind = row.kind[k]!;
      const byBytes = kind === CELL_TEXT || kind === CELL_TEXT_DELIM || kind === CELL_NUMBER;
      cells.push([
        kind,
        byBytes ? Buffer.from(b!.subarray(row.s[k]!, row.e[k]!)).toString('utf8') : (row.str[k] ?? ''),
      ]);
    }
    this.lines.push(cells);
  }
}

const RECORD =
  '{"meta":{"href":"https://x/entity/product/p-1?expand=a","type":"product"},"name":"a,b","code":"00002",' +
  '"q":"say \\"hi\\"","price":1050,"stock":2.50,"ok":true,"no":false,"none":null,"tags":["x",1]}';
const report = { money: ['price'] };

describe('typed cells', () => {
  it('the byte path gives byte kinds, the object path string kinds, of the same values and columns', () => {
    const bytesTable = new ColumnTable({ rubles: false }, report);
    const bytesOut = new Recorder();
    const b = Buffer.from(RECORD);
    expect(new ByteFlattener(bytesTable, bytesOut, ',').flattenAt(b, 0, b.length)).toBe(b.length);
    const objectTable = new ColumnTable({ rubles: false }, report);
    const objectOut = new Recorder();
    new ObjectFlattener(objectTable, objectOut).add(parseExact(RECORD));

    const names = ['meta.id', 'meta.type', 'name', 'code', 'q', 'price', 'stock', 'ok', 'no', 'none', 'tags'];
    expect(bytesTable.names).toEqual(names);
    expect(objectTable.names).toEqual(names);
    const texts = ['p-1', 'product', 'a,b', '00002', 'say "hi"', '1050', '2.50', 'true', 'false', '', '["x",1]'];
    const bytesLine = bytesOut.lines[0]!;
    expect(bytesLine.map(([kind]) => kind)).toEqual([
      CELL_TEXT,
      CELL_TEXT,
      CELL_TEXT_DELIM,
      CELL_TEXT,
      CELL_STRING,
      CELL_NUMBER,
      CELL_NUMBER,
      CELL_TRUE,
      CELL_FALSE,
      CELL_EMPTY,
      CELL_JSON,
    ]);
    expect(objectOut.lines[0]!.map(([kind]) => kind)).toEqual([
      CELL_STRING,
      CELL_STRING,
      CELL_STRING,
      CELL_STRING,
      CELL_STRING,
      CELL_NUMBER_TEXT,
      CELL_NUMBER_TEXT,
      CELL_TRUE,
      CELL_FALSE,
      CELL_EMPTY,
      CELL_JSON,
    ]);
    for (const line of [bytesLine, objectOut.lines[0]!]) {
      texts.forEach((t, k) => {
        if (line[k]![0] !== CELL_TRUE && line[k]![0] !== CELL_FALSE) expect(line[k]![1], names[k]).toBe(t);
      });
    }
  });

  it('marks money columns only with --rubles', () => {
    for (const rubles of [false, true]) {
      const table = new ColumnTable({ rubles }, report);
      new ObjectFlattener(table, new Recorder()).add({ price: 1, stock: 2 });
      expect(table.root.children!.get('price')!.money).toBe(rubles);
      expect(table.root.children!.get('stock')!.money).toBe(false);
    }
  });
});
