// Checks that a plain value fits a D-Bus type, as dbus-next would marshal it after toWire().
import { toWire, typeNode, type TypeNode } from '../../src/bus/wire-values.js';

function fits(node: TypeNode, v: unknown): string | null {
  switch (node.kind) {
    case 'basic': {
      const c = node.code;
      if (c === 's' || c === 'o' || c === 'g') return typeof v === 'string' ? null : `expected string for ${c}, got ${typeof v}`;
      if (c === 'b') return typeof v === 'boolean' ? null : `expected boolean, got ${typeof v}`;
      if (c === 'd') return typeof v === 'number' ? null : 'expected number for d';
      if (c === 't' || c === 'x') {
        if (typeof v !== 'bigint') return `expected bigint for ${c}, got ${typeof v}`;
        if (c === 't' && (v < 0n || v > 0xffff_ffff_ffff_ffffn)) return 't out of range';
        return null;
      }
      if (typeof v !== 'number' || !Number.isInteger(v)) return `expected integer for ${c}, got ${String(v)}`;
      if (c === 'u' && (v < 0 || v > 0xffffffff)) return 'u out of range';
      if (c === 'i' && (v < -0x80000000 || v > 0x7fffffff)) return 'i out of range';
      if (c === 'y' && (v < 0 || v > 255)) return 'y out of range';
      return null;
    }
    case 'array': {
      if (node.element.kind === 'basic' && node.element.code === 'y' && Buffer.isBuffer(v)) return null;
      if (!Array.isArray(v)) return `expected array, got ${typeof v}`;
      for (const e of v) {
        const r = fits(node.element, e);
        if (r) return r;
      }
      return null;
    }
    case 'struct': {
      if (!Array.isArray(v) || v.length !== node.fields.length) return `expected struct of ${node.fields.length}`;
      for (let i = 0; i < v.length; i++) {
        const r = fits(node.fields[i]!, v[i]);
        if (r) return `field ${i}: ${r}`;
      }
      return null;
    }
    case 'dict':
      return typeof v === 'object' && v !== null ? null : 'expected dict';
    case 'variant':
      return null;
  }
}

export function wireTypeProblem(type: string, value: unknown): string | null {
  const node = typeNode(type);
  return fits(node, toWire(node, value));
}
