/**
 * The stream-json front end: the parser of record for shapes the fast scanner does not take
 * (dashboards, top-level values that are not objects) and the reference the fast path is tested
 * against. fs stream → stream-json parser (packed tokens) → a token consumer that assembles each
 * record (at most one in memory) and hands batches of them on with backpressure.
 */
import { createReadStream } from 'node:fs';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import streamJsonParser from 'stream-json/parser.js';
import { BadResultError } from '../errors.js';
import type { RecordsLocation } from '../reports/catalog.js';
import { JsonNumber } from './csv-rules.js';

export interface StreamRecordsOptions {
  location: RecordsLocation;
  chunkSize?: number;
  signal?: AbortSignal | undefined;
  /** Records are handed on in batches of about this many. */
  batch?: number;
  /** Numbers as JsonNumber (their JSON text), for CSV: never changed (csv-rules.ts). */
  exactNumbers?: boolean;
}

export interface StreamRecordsResult {
  records: number;
  metaSize: number | undefined;
  /** Top-level keys and whether their value is an array (for shape detection). */
  topKeys: Array<{ key: string; isArray: boolean }>;
}

interface Token {
  name: string;
  value?: unknown;
}

const RECORDS_KEYS: Record<RecordsLocation, readonly string[]> = { rows: ['rows'], series: ['series'], root: [] };

/** Streams the records of a result file through `onRecords`; rejects with BadResultError if malformed. */
export async function streamRecords(
  inputPath: string,
  options: StreamRecordsOptions,
  onRecords: (records: unknown[]) => Promise<void> | void,
): Promise<StreamRecordsResult> {
  const recordsKeys = RECORDS_KEYS[options.location];
  const root = options.location === 'root';
  const batchSize = options.batch ?? 512;
  const exact = options.exactNumbers ?? false;
  const result: StreamRecordsResult = { records: 0, metaSize: undefined, topKeys: [] };

  let depth = 0;
  let key1 = '';
  let inRecords = false;
  let topIsObject = false;
  // The assembler: active while asmDepth >= 0 (the depth at which the assembled value started).
  let asmDepth = -1;
  let asmIsMeta = false;
  const stack: unknown[] = [];
  const keys: Array<string | null> = [];
  let current: unknown;
  let key: string | null = null;
  let pending: unknown[] = [];

  const finishValue = (value: unknown, isMeta: boolean): void => {
    if (isMeta) {
      const size = (value as { size?: unknown }).size;
      if (typeof size === 'number') result.metaSize = size;
      return;
    }
    result.records++;
    pending.push(value);
  };
  const save = (value: unknown): void => {
    if (Array.isArray(current)) current.push(value);
    else if (key === '__proto__')
      Object.defineProperty(current, key, { value, enumerable: true, writable: true, configurable: true });
    else (current as Record<string, unknown>)[key!] = value;
  };
  const notAnArray = (): never => {
    throw new BadResultError(`result file has "${key1}" that is not an array`);
  };

  const consume = (t: Token): void => {
    switch (t.name) {
      case 'keyValue':
        if (asmDepth >= 0) key = t.value as string;
        else if (depth === 1) key1 = t.value as string;
        return;
      case 'startObject':
      case 'startArray': {
        const container: unknown = t.name === 'startObject' ? {} : [];
        if (asmDepth < 0) {
          if (depth === 0) {
            topIsObject = t.name === 'startObject';
            if (root) asmDepth = 0;
          } else if (depth === 1 && topIsObject) {
            result.topKeys.push({ key: key1, isArray: t.name === 'startArray' });
            if (recordsKeys.includes(key1)) {
              if (t.name !== 'startArray') notAnArray();
              inRecords = true;
            } else if (key1 === 'meta' && t.name === 'startObject') {
              asmDepth = 1;
              asmIsMeta = true;
            }
          } else if (depth === 2 && inRecords) {
            asmDepth = 2;
            asmIsMeta = false;
          }
          if (asmDepth >= 0) {
            current = container;
            key = null;
          }
        } else {
          stack.push(current);
          keys.push(key);
          current = container;
          key = null;
        }
        depth++;
        return;
      }
      case 'endObject':
      case 'endArray':
        depth--;
        if (asmDepth >= 0) {
          if (depth === asmDepth) {
            const value = current;
            asmDepth = -1;
            current = undefined;
            finishValue(value, asmIsMeta);
          } else {
            const value = current;
            current = stack.pop();
            key = keys.pop() ?? null;
            save(value);
          }
        } else if (depth === 1 && inRecords) {
          inRecords = false;
        }
        return;
      default: {
        // A scalar: stringValue, numberValue, nullValue, trueValue, falseValue.
        let value: unknown;
        if (t.name === 'numberValue') value = exact ? new JsonNumber(t.value as string) : parseFloat(t.value as string);
        else if (t.name === 'nullValue') value = null;
        else value = t.value;
        if (asmDepth >= 0) {
          save(value);
        } else if (depth === 2 && inRecords) {
          finishValue(value, false);
        } else if (depth === 1 && topIsObject) {
          result.topKeys.push({ key: key1, isArray: false });
          if (recordsKeys.includes(key1)) notAnArray();
        } else if (depth === 0 && root) {
          finishValue(value, false);
        }
      }
    }
  };

  const flush = async (): Promise<void> => {
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    await onRecords(batch);
  };

  const consumer = new Writable({
    objectMode: true,
    highWaterMark: 4096,
    writev(chunks, callback) {
      try {
        for (const c of chunks) consume(c.chunk as Token);
      } catch (err) {
        callback(err as Error);
        return;
      }
      if (pending.length >= batchSize) flush().then(() => callback(), callback);
      else callback();
    },
    final(callback) {
      flush().then(() => callback(), callback);
    },
  });

  const input = createReadStream(inputPath, { highWaterMark: options.chunkSize ?? 1 << 20 });
  try {
    await pipeline(input, streamJsonParser.asStream({ packValues: true, streamValues: false }), consumer, {
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (err) {
    if (err instanceof BadResultError || (err as { name?: string }).name === 'AbortError' || !(err instanceof Error))
      throw err;
    if ((err as NodeJS.ErrnoException).code !== undefined && !/^ERR_/.test(String((err as NodeJS.ErrnoException).code)))
      throw err; // fs errors
    throw new BadResultError(
      `result file is not well-formed JSON (${err.message.replace(/\s+/g, ' ')}) near byte ${input.bytesRead}`,
      { cause: err },
    );
  }
  return result;
}
