// Encodes outgoing D-Bus messages (little-endian wire format) straight into one buffer.
//
// dbus-next's own marshaller walks every value through generic per-type objects and small
// buffers; for the large bodies unitd sends all the time (PropertiesChanged with every "emits"
// property of a unit, GetAll, ListUnits) it was most of the daemon's CPU time per state change.
// This encoder takes the same JavaScript values dbus-next accepts (BigInt or number for 64-bit
// integers, Variant objects at "v", plain objects for dicts, Buffers for "ay") and produces the
// same bytes (test/unit/bus/wire-encoder.test.ts compares them). Anything it does not cover
// (file descriptors, unusual value shapes) makes it return null, and dbus-next marshals that
// message as before.
import dbus from 'dbus-next';
import { typeNode, parseSignature, type TypeNode } from './wire-values.js';

const { Variant } = dbus;

class Unsupported extends Error {}

/** header fields in code order: name on the Message, field code, D-Bus type */
const HEADER_FIELDS: ReadonlyArray<[string, number, 'o' | 's' | 'u' | 'g']> = [
  ['path', 1, 'o'],
  ['interface', 2, 's'],
  ['member', 3, 's'],
  ['errorName', 4, 's'],
  ['replySerial', 5, 'u'],
  ['destination', 6, 's'],
  ['sender', 7, 's'],
  ['signature', 8, 'g'],
  ['unixFd', 9, 'u'],
];

const ALIGN: Record<string, number> = { y: 1, g: 1, v: 1, n: 2, q: 2, b: 4, i: 4, u: 4, h: 4, s: 4, o: 4, a: 4, x: 8, t: 8, d: 8 };

function alignmentOf(node: TypeNode): number {
  switch (node.kind) {
    case 'basic':
      return ALIGN[node.code]!;
    case 'array':
    case 'dict':
      return 4;
    case 'struct':
      return 8;
    case 'variant':
      return 1;
  }
}

function elementAlignment(node: TypeNode & { kind: 'array' | 'dict' }): number {
  return node.kind === 'dict' ? 8 : alignmentOf(node.element);
}

class Writer {
  buf = Buffer.allocUnsafe(4096);
  len = 0;

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  pad(alignment: number): void {
    const p = (alignment - (this.len % alignment)) % alignment;
    if (p === 0) return;
    this.ensure(p);
    this.buf.fill(0, this.len, this.len + p);
    this.len += p;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.len++] = v;
  }

  /**
   * Room for a fixed-size value, aligned to its own size as D-Bus wants; returns its offset.
   * (Read this.buf only after the call: making room may replace it.)
   */
  private slot(size: number): number {
    this.pad(size);
    this.ensure(size);
    this.len += size;
    return this.len - size;
  }

  u16(v: number): void {
    const at = this.slot(2);
    this.buf.writeUInt16LE(v, at);
  }

  i16(v: number): void {
    const at = this.slot(2);
    this.buf.writeInt16LE(v, at);
  }

  u32(v: number): void {
    const at = this.slot(4);
    this.buf.writeUInt32LE(v, at);
  }

  i32(v: number): void {
    const at = this.slot(4);
    this.buf.writeInt32LE(v, at);
  }

  u64(v: bigint): void {
    const at = this.slot(8);
    this.buf.writeBigUInt64LE(v, at);
  }

  i64(v: bigint): void {
    const at = this.slot(8);
    this.buf.writeBigInt64LE(v, at);
  }

  f64(v: number): void {
    const at = this.slot(8);
    this.buf.writeDoubleLE(v, at);
  }

  /** s and o: u32 byte length, UTF-8 bytes, NUL */
  string(v: string): void {
    if (v.includes('\0')) throw new Unsupported('NUL in string');
    const n = Buffer.byteLength(v, 'utf8');
    this.u32(n);
    this.ensure(n + 1);
    this.len += this.buf.write(v, this.len, 'utf8');
    this.buf[this.len++] = 0;
  }

  /** g: u8 length, ASCII, NUL */
  signature(v: string): void {
    if (v.length > 255) throw new Unsupported('signature too long');
    this.u8(v.length);
    this.ensure(v.length + 1);
    this.len += this.buf.write(v, this.len, 'latin1');
    this.buf[this.len++] = 0;
  }

  bytes(b: Buffer): void {
    this.ensure(b.length);
    b.copy(this.buf, this.len);
    this.len += b.length;
  }
}

function int(v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new Unsupported('integer out of range');
  return v;
}

function long(v: unknown, signed: boolean): bigint {
  let b: bigint;
  if (typeof v === 'bigint') b = v;
  else if (typeof v === 'number' && Number.isSafeInteger(v)) b = BigInt(v);
  else throw new Unsupported('not a 64-bit integer');
  if (signed ? b < -(2n ** 63n) || b >= 2n ** 63n : b < 0n || b >= 2n ** 64n) throw new Unsupported('64-bit integer out of range');
  return b;
}

function writeValue(w: Writer, node: TypeNode, v: unknown): void {
  if (v === undefined || v === null) throw new Unsupported('no value');
  switch (node.kind) {
    case 'basic':
      return writeBasic(w, node.code, v);
    case 'variant': {
      if (!(v instanceof Variant) || typeof v.signature !== 'string' || !validSignature(v.signature)) throw new Unsupported('not a Variant');
      let inner: TypeNode;
      try {
        inner = typeNode(v.signature);
      } catch {
        throw new Unsupported('not a single complete type');
      }
      w.signature(v.signature);
      return writeValue(w, inner, v.value);
    }
    case 'struct': {
      if (!Array.isArray(v) || v.length !== node.fields.length) throw new Unsupported('struct shape');
      w.pad(8);
      for (let i = 0; i < node.fields.length; i++) writeValue(w, node.fields[i]!, v[i]);
      return;
    }
    case 'array':
    case 'dict': {
      w.u32(0);
      const lengthAt = w.len - 4;
      w.pad(elementAlignment(node));
      const start = w.len;
      if (node.kind === 'dict') {
        if (typeof v !== 'object' || (v as object).constructor !== Object) throw new Unsupported('dict is not a plain object');
        if (node.key.kind !== 'basic' || !'sog'.includes(node.key.code)) throw new Unsupported('dict key type');
        const obj = v as Record<string, unknown>;
        for (const k of Object.keys(obj)) {
          w.pad(8);
          writeBasic(w, node.key.code, k);
          writeValue(w, node.value, obj[k]);
        }
      } else if (node.element.kind === 'basic' && node.element.code === 'y' && Buffer.isBuffer(v)) {
        w.bytes(v);
      } else {
        if (!Array.isArray(v)) throw new Unsupported('array is not an Array');
        for (const item of v) {
          if (item instanceof Variant && node.element.kind !== 'variant') throw new Unsupported('Variant in a typed array');
          writeValue(w, node.element, item);
        }
      }
      w.buf.writeUInt32LE(w.len - start, lengthAt);
      return;
    }
  }
}

function writeBasic(w: Writer, code: string, v: unknown): void {
  switch (code) {
    case 'y':
      return w.u8(int(v, 0, 0xff));
    case 'b':
      if (typeof v !== 'boolean') throw new Unsupported('not a boolean');
      return w.u32(v ? 1 : 0);
    case 'n':
      return w.i16(int(v, -0x8000, 0x7fff));
    case 'q':
      return w.u16(int(v, 0, 0xffff));
    case 'i':
      return w.i32(int(v, -0x80000000, 0x7fffffff));
    case 'u':
      return w.u32(int(v, 0, 0xffffffff));
    case 'x':
      return w.i64(long(v, true));
    case 't':
      return w.u64(long(v, false));
    case 'd':
      if (typeof v !== 'number') throw new Unsupported('not a number');
      return w.f64(v);
    case 's':
    case 'o':
      if (typeof v !== 'string') throw new Unsupported('not a string');
      return w.string(v);
    case 'g':
      if (typeof v !== 'string' || !validSignature(v)) throw new Unsupported('not a signature');
      return w.signature(v);
    default:
      throw new Unsupported(`type ${code}`); // h: file descriptors travel out of band
  }
}

const checkedSignatures = new Set<string>();

/** a bus daemon drops the connection of a client that sends a malformed signature */
function validSignature(v: string): boolean {
  if (checkedSignatures.has(v)) return true;
  try {
    parseSignature(v);
  } catch {
    return false;
  }
  if (checkedSignatures.size < 1000) checkedSignatures.add(v);
  return true;
}

const bodyTypes = new Map<string, TypeNode[]>();

function bodyTypesOf(signature: string): TypeNode[] {
  let nodes = bodyTypes.get(signature);
  if (!nodes) {
    nodes = parseSignature(signature);
    bodyTypes.set(signature, nodes);
  }
  return nodes;
}

/** the fields of a dbus-next Message this encoder reads */
export interface OutgoingMessage {
  type?: number;
  flags?: number;
  serial: number;
  signature?: string;
  body?: unknown[];
  [field: string]: unknown;
}

/** The message's wire bytes, or null when dbus-next must marshal it (see the file comment). */
export function encodeMessage(msg: OutgoingMessage): Buffer | null {
  try {
    if (!msg.serial) return null;
    const signature = msg.signature ?? '';
    const body = msg.body ?? [];
    const types = signature ? bodyTypesOf(signature) : [];
    if (types.length !== body.length) return null;
    const w = new Writer();
    w.u8(0x6c); // 'l': little-endian
    w.u8(msg.type || 1);
    w.u8(msg.flags || 0);
    w.u8(1); // protocol version
    w.u32(0); // body length, patched below
    w.u32(msg.serial);
    w.u32(0); // header fields array length, patched below
    w.pad(8);
    const fieldsStart = w.len;
    for (const [name, code, type] of HEADER_FIELDS) {
      const value = msg[name];
      if (!value) continue; // as dbus-next: absent, empty and 0 fields are left out
      if (name === 'unixFd') return null;
      w.pad(8);
      w.u8(code);
      w.signature(type);
      writeBasic(w, type, value);
    }
    w.buf.writeUInt32LE(w.len - fieldsStart, 12);
    w.pad(8);
    const bodyStart = w.len;
    for (let i = 0; i < types.length; i++) writeValue(w, types[i]!, body[i]);
    w.buf.writeUInt32LE(w.len - bodyStart, 4);
    return w.buf.subarray(0, w.len);
  } catch (err) {
    if (err instanceof Unsupported) return null;
    throw err;
  }
}

interface ConnectionInternals {
  message: (msg: OutgoingMessage) => void;
  stream: NodeJS.WritableStream & { writable: boolean; supportsUnixFd?: boolean };
}

/**
 * Makes a connected dbus-next bus send its messages through encodeMessage (falling back to
 * dbus-next's marshaller for what it does not cover). Reaches into the connection object of
 * dbus-next 0.10 (pinned in package.json); when that shape is not found, nothing is changed.
 */
export function useFastEncoder(bus: unknown): boolean {
  const conn = (bus as { _connection?: Partial<ConnectionInternals> })._connection;
  if (!conn || typeof conn.message !== 'function' || !conn.stream || conn.stream.supportsUnixFd) return false;
  const fallback = conn.message.bind(conn);
  const stream = conn.stream;
  conn.message = (msg: OutgoingMessage): void => {
    const bytes = encodeMessage(msg);
    if (!bytes) return fallback(msg);
    if (!stream.writable) throw new Error('Cannot send message, stream is closed');
    stream.write(bytes);
  };
  return true;
}
