import { createRequire } from 'node:module';
import { crc32, inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type * as XLSXTypes from 'xlsx';
import {
  crc32Combine,
  deflateFinal,
  deflateOpen,
  smallMember,
  writeZip,
  type ZipMember,
} from '../../../src/convert/xlsx/zip.js';

// SheetJS's own zip reader: none of our writer's code.
const { CFB } = createRequire(import.meta.url)('xlsx') as typeof XLSXTypes;

function bytes(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = (x >>> 16) & 0x7f;
  }
  return b;
}

/** A member of head + body + tail, deflated in joinable pieces as the workbook does. */
function joined(name: string, head: Buffer, body: Buffer[], tail: Buffer): ZipMember {
  const pieces = [deflateOpen(head, 1), ...body.map((b) => deflateOpen(b, 1)), deflateFinal(tail, 1)];
  let crc = crc32(head);
  let size = head.length;
  for (const b of body) {
    crc = crc32Combine(crc, crc32(b), b.length);
    size += b.length;
  }
  crc = crc32Combine(crc, crc32(tail), tail.length);
  return {
    name,
    crc,
    size: size + tail.length,
    compressedSize: pieces.reduce((n, p) => n + p.length, 0),
    pieces: () => pieces,
  };
}

async function zipOf(members: ZipMember[], zip64From?: number): Promise<Buffer> {
  const out: Buffer[] = [];
  await writeZip(members, async (c) => void out.push(c), new Date(2026, 10, 30, 12, 0, 0), undefined, zip64From);
  return Buffer.concat(out);
}

describe('crc32Combine', () => {
  it('gives the CRC-32 of the two parts together, for any split', () => {
    const all = bytes(5000, 7);
    for (const at of [0, 1, 2, 3, 17, 1024, 4095, 4999, 5000]) {
      const a = all.subarray(0, at);
      const b = all.subarray(at);
      expect(crc32Combine(crc32(a), crc32(b), b.length), String(at)).toBe(crc32(all));
    }
  });
});

describe('writeZip', () => {
  const head = Buffer.from('<worksheet><sheetData><row r="1"/>');
  const body = [bytes(70_000, 1), Buffer.alloc(0), bytes(3, 2), bytes(100_000, 3)];
  const tail = Buffer.from('</sheetData></worksheet>');
  const whole = Buffer.concat([head, ...body, tail]);

  it('pieces deflated apart decode as one stream, and the CRC is the whole CRC', () => {
    const member = joined('x', head, body, tail);
    const pieces = [...(member.pieces() as Buffer[])];
    expect(inflateRawSync(Buffer.concat(pieces)).equals(whole)).toBe(true);
    expect(member.crc).toBe(crc32(whole));
  });

  for (const [label, zip64From] of [
    ['plain, read by SheetJS', undefined],
    ['with ZIP64 fields everywhere, read by the reader below', 0],
  ] as const) {
    it(`an independent reader gets every member back (${label})`, async () => {
      const zip = await zipOf(
        [smallMember('[Content_Types].xml', '<Types/>'), joined('xl/worksheets/sheet1.xml', head, body, tail)],
        zip64From,
      );
      const members = zip64From === 0 ? readZip64(zip) : readWithSheetJs(zip);
      expect(members.get('xl/worksheets/sheet1.xml')?.equals(whole)).toBe(true);
      expect(members.get('[Content_Types].xml')?.toString()).toBe('<Types/>');
    });
  }

  it('refuses a member whose pieces are not the announced size', async () => {
    const member = { ...joined('x', head, body, tail), compressedSize: 5 };
    await expect(zipOf([member])).rejects.toThrow(/announced/);
  });
});

function readWithSheetJs(zip: Buffer): Map<string, Buffer> {
  const cfb = CFB.read(zip, { type: 'buffer' });
  const out = new Map<string, Buffer>();
  for (const name of ['xl/worksheets/sheet1.xml', '[Content_Types].xml']) {
    const entry = CFB.find(cfb, `/${name}`);
    if (entry) out.set(name, Buffer.from(entry.content as Uint8Array));
  }
  return out;
}

/**
 * A ZIP64 reader written from APPNOTE for this test (SheetJS reads no ZIP64): the ZIP64 end
 * record through its locator, the central directory with its 0x0001 extra fields, each local
 * header, then inflate and the CRC. None of the writer's code.
 */
function readZip64(zip: Buffer): Map<string, Buffer> {
  const end = zip.length - 22;
  expect(zip.readUInt32LE(end)).toBe(0x06054b50);
  expect(zip.readUInt32LE(end + 16)).toBe(0xffffffff);
  const locator = end - 20;
  expect(zip.readUInt32LE(locator)).toBe(0x07064b50);
  const record = Number(zip.readBigUInt64LE(locator + 8));
  expect(zip.readUInt32LE(record)).toBe(0x06064b50);
  const count = Number(zip.readBigUInt64LE(record + 32));
  let at = Number(zip.readBigUInt64LE(record + 48));
  const out = new Map<string, Buffer>();
  for (let k = 0; k < count; k++) {
    expect(zip.readUInt32LE(at)).toBe(0x02014b50);
    const crc = zip.readUInt32LE(at + 16);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    const extra = at + 46 + nameLength;
    expect(zip.readUInt16LE(extra)).toBe(0x0001);
    const size = Number(zip.readBigUInt64LE(extra + 4));
    const compressed = Number(zip.readBigUInt64LE(extra + 12));
    const local = Number(zip.readBigUInt64LE(extra + 20));
    expect(zip.readUInt32LE(local)).toBe(0x04034b50);
    const localName = zip.readUInt16LE(local + 26);
    const localExtra = zip.readUInt16LE(local + 28);
    expect(Number(zip.readBigUInt64LE(local + 30 + localName + 4))).toBe(size);
    const dataAt = local + 30 + localName + localExtra;
    const data = inflateRawSync(zip.subarray(dataAt, dataAt + compressed));
    expect(data.length).toBe(size);
    expect(crc32(data)).toBe(crc);
    out.set(name, data);
    at = extra + extraLength;
  }
  return out;
}
