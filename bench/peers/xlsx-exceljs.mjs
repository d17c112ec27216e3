#!/usr/bin/env node
// The XLSX library peer: exceljs's streaming WorkbookWriter (inline strings, no shared-string
// table), fed by the stream-json peer's pipeline, with ms-async's layout (bold frozen header with
// an autofilter, typed cells from the JSON values). Columns come from the first record, as a
// streaming writer must fix them before the rest. `none` instead of `exceljs` runs the same
// pipeline and discards the rows: the cost of getting the records, to subtract.
// Usage: node bench/peers/xlsx-exceljs.mjs <input.json> <output.xlsx> [exceljs|none] [report]
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import ExcelJS from 'exceljs';
import chainModule from 'stream-chain';
import parserModule from 'stream-json/parser.js';
import pickModule from 'stream-json/filters/pick.js';
import streamArrayModule from 'stream-json/streamers/stream-array.js';
import { EXPLODE, flattenLines } from './writers.mjs';

const [input, output, writer = 'exceljs', report = 'stock-bystore'] = process.argv.slice(2);
if (!input || !output) {
  process.stderr.write('usage: xlsx-exceljs.mjs <input.json> <output.xlsx> [exceljs|none] [report]\n');
  process.exit(2);
}
const explode = EXPLODE[report];
const packed = { packValues: true, streamValues: false };

let sheet;
let book;
let columns;
if (writer === 'exceljs') {
  book = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: output, useStyles: true, useSharedStrings: false });
  sheet = book.addWorksheet(report, { views: [{ state: 'frozen', ySplit: 1 }] });
}
let rows = 0;
const sink = new Writable({
  objectMode: true,
  write(item, _enc, cb) {
    for (const pairs of flattenLines(item.value, explode)) {
      if (!columns) {
        columns = pairs.map(([name]) => name);
        if (sheet) {
          sheet.columns = columns.map((name) => ({ header: name, key: name, width: Math.max(name.length + 2, 8) }));
          sheet.getRow(1).font = { bold: true };
          sheet.autoFilter = { from: { row: 1, column: 1 }, to: { row: 1, column: columns.length } };
        }
      }
      rows++;
      if (sheet) {
        const byName = new Map(pairs);
        sheet.addRow(columns.map((c) => byName.get(c) ?? null)).commit();
      }
    }
    cb();
  },
});
await pipeline(
  createReadStream(input),
  chainModule.chain([
    parserModule.parser(packed),
    pickModule.pick({ filter: 'rows', ...packed }),
    streamArrayModule.streamArray(),
  ]),
  sink,
);
if (book) {
  sheet.commit();
  await book.commit();
}
process.stderr.write(`${rows} rows\n`);
