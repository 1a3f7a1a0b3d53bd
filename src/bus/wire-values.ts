// Converts the plain values property getters return into what dbus-next marshals for a given
// D-Bus type: 64-bit integers as BigInt, everything else as is. The XML's type is the authority.

export type TypeNode =
  | { kind: 'basic'; code: string }
  | { kind: 'array'; element: TypeNode }
  | { kind: 'dict'; key: TypeNode; value: TypeNode }
  | { kind: 'struct'; fields: TypeNode[] }
  | { kind: 'variant' };

function parseOne(sig: string, pos: number): [TypeNode, number] {
  const c = sig[pos];
  if (c === undefined) throw new Error(`truncated signature ${sig}`);
  if (c === 'a') {
    if (sig[pos + 1] === '{') {
      const [key, p1] = parseOne(sig, pos + 2);
      const [value, p2] = parseOne(sig, p1);
      if (sig[p2] !== '}') throw new Error(`bad dict in ${sig}`);
      return [{ kind: 'dict', key, value }, p2 + 1];
    }
    const [element, p] = parseOne(sig, pos + 1);
    return [{ kind: 'array', element }, p];
  }
  if (c === '(') {
    const fields: TypeNode[] = [];
    let p = pos + 1;
    while (sig[p] !== ')') {
      const [f, np] = parseOne(sig, p);
      fields.push(f);
      p = np;
    }
    return [{ kind: 'struct', fields }, p + 1];
  }
  if (c === 'v') return [{ kind: 'variant' }, pos + 1];
  if ('ybnqiuxtdsogh'.includes(c)) return [{ kind: 'basic', code: c }, pos + 1];
  throw new Error(`bad type code ${c} in ${sig}`);
}

export function parseSignature(sig: string): TypeNode[] {
  const out: TypeNode[] = [];
  let p = 0;
  while (p < sig.length) {
    const [node, np] = parseOne(sig, p);
    out.push(node);
    p = np;
  }
  return out;
}

const cache = new Map<string, TypeNode>();

export function typeNode(type: string): TypeNode {
  let node = cache.get(type);
  if (!node) {
    const nodes = parseSignature(type);
    if (nodes.length !== 1) throw new Error(`not a single complete type: ${type}`);
    node = nodes[0]!;
    cache.set(type, node);
  }
  return node;
}

export function toWire(node: TypeNode, value: unknown): unknown {
  switch (node.kind) {
    case 'basic':
      if ((node.code === 't' || node.code === 'x') && typeof value === 'number') return BigInt(value);
      return value;
    case 'array':
      return (value as unknown[]).map((v) => toWire(node.element, v));
    case 'struct':
      return (value as unknown[]).map((v, i) => toWire(node.fields[i]!, v));
    case 'dict': {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = toWire(node.value, v);
      return out;
    }
    case 'variant':
      return value;
  }
}

/** A stable text form of a value, for telling whether a property changed. */
export function valueKey(value: unknown): string {
  // most properties are scalars: no JSON walk for them (the prefix keeps the types apart)
  switch (typeof value) {
    case 'string':
      return `s${value}`;
    case 'number':
      return `n${value}`;
    case 'bigint':
      return `b${value}`;
    case 'boolean':
      return value ? 't' : 'f';
    default:
      return `j${JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))}`;
  }
}
