/**
 * The zip container of an .xlsx, written by us so that a sheet's rows can be deflated while they
 * are converted, before its header row exists (README.md, "XLSX"). Each member arrives already
 * deflated, as raw DEFLATE pieces that the caller made joinable: every piece but the last ends
 * with a sync flush (byte-aligned, not final), so header + rows + tail decode as one stream. Sizes
 * and CRC-32 are known before a member is written: no data descriptors. ZIP64 fields appear only
 * where a size or offset does not fit 32 bits (APPNOTE 6.3, sections 4.3 and 4.5.3).
 */
import { promisify } from 'node:util';
import { constants, crc32, deflateRaw, deflateRawSync } from 'node:zlib';

const deflateRawAsync = promisify(deflateRaw);

const MAX32 = 0xffffffff;
const MAX16 = 0xffff;

export interface ZipMember {
  name: string;
  crc: number;
  /** Bytes after decompression. */
  size: number;
  /** Bytes of the deflated pieces together. */
  compressedSize: number;
  /** The deflated pieces, in order. */
  pieces: () => AsyncIterable<Buffer> | Iterable<Buffer>;
}

interface Written {
  name: Buffer;
  crc: number;
  size: number;
  compressedSize: number;
  offset: number;
}

/** Raw DEFLATE of `data` that later pieces may follow (sync flush: byte-aligned, not final). */
export function deflateOpen(data: Buffer, level: number): Buffer {
  return deflateRawSync(data, { level, finishFlush: constants.Z_SYNC_FLUSH });
}

/** deflateOpen in zlib's thread pool (the rows, while the next ones are converted). */
export function deflateOpenAsync(data: Buffer, level: number): Promise<Buffer> {
  return deflateRawAsync(data, { level, finishFlush: constants.Z_SYNC_FLUSH });
}

/** Raw DEFLATE of `data` that ends the stream (its last block is final). */
export function deflateFinal(data: Buffer, level: number): Buffer {
  return deflateRawSync(data, { level });
}

/** A small member deflated whole. */
export function smallMember(name: string, text: string, level = 6): ZipMember {
  const data = Buffer.from(text, 'utf8');
  const deflated = deflateFinal(data, level);
  return { name, crc: crc32(data), size: data.length, compressedSize: deflated.length, pieces: () => [deflated] };
}

/**
 * CRC-32 of A followed by B, from crc(A), crc(B) and B's length (zlib's crc32_combine): the rows'
 * checksum is taken as they are written, before the header that precedes them exists.
 */
export function crc32Combine(crcA: number, crcB: number, lengthB: number): number {
  if (lengthB <= 0) return crcA >>> 0;
  const even = new Uint32Array(32);
  const odd = new Uint32Array(32);
  odd[0] = 0xedb88320; // the CRC-32 polynomial: the operator for one zero bit
  let row = 1;
  for (let n = 1; n < 32; n++) {
    odd[n] = row;
    row <<= 1;
  }
  square(even, odd); // two zero bits
  square(odd, even); // four zero bits
  let crc = crcA >>> 0;
  let length = lengthB;
  // Apply length zero bytes to crcA, one bit of the length at a time.
  for (;;) {
    square(even, odd);
    if (length % 2 === 1) crc = times(even, crc);
    length = Math.floor(length / 2);
    if (length === 0) break;
    square(odd, even);
    if (length % 2 === 1) crc = times(odd, crc);
    length = Math.floor(length / 2);
    if (length === 0) break;
  }
  return (crc ^ crcB) >>> 0;
}

function times(matrix: Uint32Array, vector: number): number {
  let sum = 0;
  let v = vector >>> 0;
  for (let i = 0; v !== 0; i++, v >>>= 1) if (v & 1) sum ^= matrix[i]!;
  return sum >>> 0;
}

function square(target: Uint32Array, matrix: Uint32Array): void {
  for (let n = 0; n < 32; n++) target[n] = times(matrix, matrix[n]!);
}

/** Writes members one after the other, then the central directory, into `write` (in order). */
export async function writeZip(
  members: readonly ZipMember[],
  write: (chunk: Buffer) => Promise<void>,
  mtime: Date,
  signal?: AbortSignal,
  /** Sizes and offsets from which ZIP64 fields are used (tests lower it: 4 GiB is a lot to write). */
  zip64From = MAX32,
): Promise<void> {
  const { time, date } = dosDateTime(mtime);
  const isZip64 = (entry: Written): boolean =>
    entry.size >= zip64From || entry.compressedSize >= zip64From || entry.offset >= zip64From;
  const written: Written[] = [];
  let offset = 0;
  const emit = async (chunk: Buffer): Promise<void> => {
    signal?.throwIfAborted();
    offset += chunk.length;
    await write(chunk);
  };
  for (const member of members) {
    const entry: Written = {
      name: Buffer.from(member.name, 'utf8'),
      crc: member.crc >>> 0,
      size: member.size,
      compressedSize: member.compressedSize,
      offset,
    };
    written.push(entry);
    await emit(localHeader(entry, isZip64(entry), time, date));
    let bytes = 0;
    for await (const piece of member.pieces()) {
      bytes += piece.length;
      await emit(piece);
    }
    if (bytes !== member.compressedSize) {
      throw new Error(`zip member ${member.name}: ${bytes} bytes written, ${member.compressedSize} announced`);
    }
  }
  const directoryStart = offset;
  for (const entry of written) await emit(centralHeader(entry, isZip64(entry), time, date));
  const directorySize = offset - directoryStart;
  const needs64 = directoryStart >= zip64From || directorySize >= zip64From || written.length >= MAX16;
  if (needs64) {
    const recordAt = offset;
    const record = Buffer.alloc(56);
    record.writeUInt32LE(0x06064b50, 0);
    record.writeBigUInt64LE(44n, 4); // the size of the rest of this record
    record.writeUInt16LE(45, 12);
    record.writeUInt16LE(45, 14);
    record.writeBigUInt64LE(BigInt(written.length), 24);
    record.writeBigUInt64LE(BigInt(written.length), 32);
    record.writeBigUInt64LE(BigInt(directorySize), 40);
    record.writeBigUInt64LE(BigInt(directoryStart), 48);
    await emit(record);
    const locator = Buffer.alloc(20);
    locator.writeUInt32LE(0x07064b50, 0);
    locator.writeBigUInt64LE(BigInt(recordAt), 8);
    locator.writeUInt32LE(1, 16);
    await emit(locator);
  }
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(needs64 ? MAX16 : written.length, 8);
  end.writeUInt16LE(needs64 ? MAX16 : written.length, 10);
  end.writeUInt32LE(needs64 ? MAX32 : directorySize, 12);
  end.writeUInt32LE(needs64 ? MAX32 : directoryStart, 16);
  await emit(end);
}

/** ZIP64 extra field with the sizes (and, in the directory, the offset). */
function zip64Extra(entry: Written, withOffset: boolean): Buffer {
  const extra = Buffer.alloc(withOffset ? 28 : 20);
  extra.writeUInt16LE(0x0001, 0);
  extra.writeUInt16LE(extra.length - 4, 2);
  extra.writeBigUInt64LE(BigInt(entry.size), 4);
  extra.writeBigUInt64LE(BigInt(entry.compressedSize), 12);
  if (withOffset) extra.writeBigUInt64LE(BigInt(entry.offset), 20);
  return extra;
}

function localHeader(entry: Written, zip64: boolean, time: number, date: number): Buffer {
  const extra = zip64 ? zip64Extra(entry, false) : Buffer.alloc(0);
  const header = Buffer.alloc(30);
  header.writeUInt32LE(0x04034b50, 0);
  writeCommonFields(header, 4, entry, zip64, time, date, extra.length);
  return Buffer.concat([header, entry.name, extra]);
}

function centralHeader(entry: Written, zip64: boolean, time: number, date: number): Buffer {
  const extra = zip64 ? zip64Extra(entry, true) : Buffer.alloc(0);
  const header = Buffer.alloc(46);
  header.writeUInt32LE(0x02014b50, 0);
  header.writeUInt16LE(45, 4); // made by: APPNOTE 4.5, MS-DOS attributes
  writeCommonFields(header, 6, entry, zip64, time, date, extra.length);
  header.writeUInt32LE(zip64 ? MAX32 : entry.offset, 42);
  return Buffer.concat([header, entry.name, extra]);
}

/** The fields both headers share, from "version needed" to the extra field's length (26 bytes). */
function writeCommonFields(
  header: Buffer,
  at: number,
  entry: Written,
  zip64: boolean,
  time: number,
  date: number,
  extraLength: number,
): void {
  header.writeUInt16LE(zip64 ? 45 : 20, at);
  header.writeUInt16LE(0x0800, at + 2); // names are UTF-8
  header.writeUInt16LE(8, at + 4); // deflate
  header.writeUInt16LE(time, at + 6);
  header.writeUInt16LE(date, at + 8);
  header.writeUInt32LE(entry.crc, at + 10);
  header.writeUInt32LE(zip64 ? MAX32 : entry.compressedSize, at + 14);
  header.writeUInt32LE(zip64 ? MAX32 : entry.size, at + 18);
  header.writeUInt16LE(entry.name.length, at + 22);
  header.writeUInt16LE(extraLength, at + 24);
}

/** MS-DOS date and time (local, 2-second steps), as every zip tool writes them. */
function dosDateTime(d: Date): { time: number; date: number } {
  const year = Math.min(Math.max(d.getFullYear(), 1980), 2107);
  return {
    time: (d.getHours() << 11) | (d.getMinutes() << 5) | (d.getSeconds() >> 1),
    date: ((year - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate(),
  };
}
