/**
 * NDJSON (README.md, "Output formats"): one record per line, equal in value to the API's record.
 * The fast scanner passes the record's own bytes through (minified); stream-json's values are
 * stringified.
 */
import type { RecordWriter } from './output.js';
import { createRecordScanner, type CopyTarget } from './scan.js';

export interface NdjsonWriter extends RecordWriter {
  copyTo: CopyTarget;
  text: string;
}

/**
 * NDJSON: the scanner copies each record's bytes (minified when they have whitespace outside
 * strings: skipMinify) and '\n' into a staging buffer while validating it; the output takes that
 * buffer as it is and hands back a free one of its ring (OutputSink.writeTarget; see output.ts on
 * why not fresh Buffers). The stream-json engine gives values instead.
 */
export function ndjsonWriter(): NdjsonWriter {
  const w: NdjsonWriter = {
    copyTo: { buf: Buffer.allocUnsafeSlow(1 << 20), used: 0 },
    text: '',
    lines: 0,
    createScanner(recordsKeys) {
      return createRecordScanner({
        recordsKeys,
        validate: true,
        copyTo: w.copyTo,
        sink: {
          records(_b, _starts, _ends, _spaced, count) {
            w.lines += count;
          },
        },
      });
    },
    values(records) {
      let text = '';
      for (const r of records) text += JSON.stringify(r) + '\n';
      w.text += text;
      w.lines += records.length;
    },
    take() {
      if (w.text !== '') {
        const t = w.text;
        w.text = '';
        return t;
      }
      if (w.copyTo.used === 0) return null;
      const view = w.copyTo.buf.subarray(0, w.copyTo.used);
      w.copyTo.used = 0;
      return view;
    },
  };
  return w;
}
