#!/usr/bin/env node
// The streaming peer: the idiomatic stream-json 2.x pipeline
//   file → parser → pick('rows') → streamArray → writer → file
// composed with stream-chain's chain(), which fuses the function stages (parser, pick,
// streamArray, writer) into one Transform instead of four object-mode streams.
// Usage: node bench/peers/stream-json.mjs <input.json> <output> <csv|ndjson> [report] [variant]
// `fast` (the default) is the configuration the bench uses: see bench/README.md.
import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import chainModule from 'stream-chain';
import parserModule from 'stream-json/parser.js';
import pickModule from 'stream-json/filters/pick.js';
import streamArrayModule from 'stream-json/streamers/stream-array.js';
import { createWriter, EXPLODE } from './writers.mjs';

const { chain } = chainModule;
const { parser } = parserModule;
const { pick } = pickModule;
const { streamArray } = streamArrayModule;

const [input, output, format, report = 'stock-bystore', variant = 'fast'] = process.argv.slice(2);
if (!input || !output || !format) {
  process.stderr.write('usage: stream-json.mjs <input.json> <output> <csv|ndjson> [report] [variant]\n');
  process.exit(2);
}
const write = createWriter(format, EXPLODE[report]);

// Batch the per-record strings into ~256 KiB writes: one fs write per record costs more than
// the writing itself (a stream stage that is a flushable function in stream-chain terms).
function batched(toText) {
  let chunk = '';
  return chainModule.flushable(
    (item) => {
      chunk += toText(item.value);
      if (chunk.length < 1 << 18) return chainModule.none;
      const out = chunk;
      chunk = '';
      return out;
    },
    () => {
      const out = chunk;
      chunk = '';
      return out || chainModule.none;
    },
  );
}

// A variant is a comma-separated list of switches, e.g. `packed,hwm=1m,batch`:
//   packed    parser({packValues: true, streamValues: false}): packed tokens only, no piece-wise
//             startString/stringChunk/endString… tokens (the parser's default emits both)
//   hwm=N[k|m] read chunk size (default 64k, the fs default)
//   batch     join the writer's per-record strings into ~256 KiB writes
//   once      pick({once: true}): stop matching after the first `rows`
//   separate  the stages as separate Duplex streams (parser.asStream() …) instead of one chain()
const NAMED = { default: '', fast: 'packed' };
const spec = Object.hasOwn(NAMED, variant) ? NAMED[variant] : variant;
const v = { parser: {}, readHwm: 64 * 1024, pick: { filter: 'rows' }, batch: false, separate: false };
for (const sw of spec.split(',').filter(Boolean)) {
  const [k, val] = sw.split('=');
  if (k === 'packed') v.parser = { packValues: true, streamValues: false };
  else if (k === 'hwm') v.readHwm = Number.parseInt(val, 10) * (/m$/i.test(val) ? 1 << 20 : /k$/i.test(val) ? 1024 : 1);
  else if (k === 'batch') v.batch = true;
  else if (k === 'once') v.pick.once = true;
  else if (k === 'separate') v.separate = true;
  else throw new Error(`unknown variant switch: ${sw}`);
}

const writerStage = v.batch ? batched(write) : (item) => write(item.value);
const source = createReadStream(input, { highWaterMark: v.readHwm });
const sink = createWriteStream(output, { highWaterMark: 1 << 20 });
if (v.separate) {
  await pipeline(
    source,
    parserModule.asStream(v.parser),
    pickModule.asStream({ ...v.pick, ...v.parser }),
    streamArrayModule.asStream(),
    chain([writerStage]),
    sink,
  );
} else {
  await pipeline(source, chain([parser(v.parser), pick({ ...v.pick, ...v.parser }), streamArray(), writerStage]), sink);
}
