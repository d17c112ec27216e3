#!/usr/bin/env node
// The naive peer: read the whole result, JSON.parse it, write the records as CSV/NDJSON.
// Usage: node bench/peers/naive.mjs <input.json> <output> <csv|ndjson> [report]
// On results past V8's string limit (~512 MiB of text) readFileSync(…, 'utf8') throws
// ERR_STRING_TOO_LONG: that failure is the point of this peer at 1 GB.
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { createWriter, EXPLODE } from './writers.mjs';

const [input, output, format, report = 'stock-bystore'] = process.argv.slice(2);
if (!input || !output || !format) {
  process.stderr.write('usage: naive.mjs <input.json> <output> <csv|ndjson> [report]\n');
  process.exit(2);
}
const body = JSON.parse(readFileSync(input, 'utf8'));
const write = createWriter(format, EXPLODE[report]);
const fd = openSync(output, 'w');
let chunk = '';
for (const record of body.rows) {
  chunk += write(record);
  if (chunk.length >= 1 << 20) {
    writeSync(fd, chunk);
    chunk = '';
  }
}
if (chunk) writeSync(fd, chunk);
closeSync(fd);
