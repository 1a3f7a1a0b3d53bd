// interfaces/*.xml is the wire contract: this module loads it into member tables (signatures,
// property types and their EmitsChangedSignal flag) and renders Introspect answers from them.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { escapeXmlAttribute, parseXml, type XmlElement } from './xml-reader.js';

export interface ArgSpec {
  name: string;
  type: string;
  direction: 'in' | 'out';
}

export interface MethodSpec {
  name: string;
  args: ArgSpec[];
  inSignature: string;
  outSignature: string;
  annotations: Record<string, string>;
}

/** "true" = value sent in PropertiesChanged, "invalidates" = name only, "const"/"false" = not sent */
export type EmitsChanged = 'true' | 'invalidates' | 'const' | 'false';

export interface PropertySpec {
  name: string;
  type: string;
  access: 'read' | 'write' | 'readwrite';
  emitsChanged: EmitsChanged;
  annotations: Record<string, string>;
}

export interface SignalSpec {
  name: string;
  args: ArgSpec[];
  signature: string;
}

export interface InterfaceSpec {
  name: string;
  methods: Map<string, MethodSpec>;
  properties: Map<string, PropertySpec>;
  signals: Map<string, SignalSpec>;
  annotations: Record<string, string>;
  /** members in declaration order, for Introspect */
  order: { kind: 'method' | 'property' | 'signal'; name: string }[];
}

const EMITS_ANNOTATION = 'org.freedesktop.DBus.Property.EmitsChangedSignal';

function annotationsOf(el: XmlElement): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of el.children) {
    if (c.name === 'annotation' && c.attributes.name !== undefined) out[c.attributes.name] = c.attributes.value ?? '';
  }
  return out;
}

function argsOf(el: XmlElement, defaultDirection: 'in' | 'out'): ArgSpec[] {
  return el.children
    .filter((c) => c.name === 'arg')
    .map((c) => ({
      name: c.attributes.name ?? '',
      type: c.attributes.type ?? '',
      direction: c.attributes.direction === 'out' ? 'out' : c.attributes.direction === 'in' ? 'in' : defaultDirection,
    }));
}

export function interfaceFromXml(el: XmlElement): InterfaceSpec {
  const spec: InterfaceSpec = {
    name: el.attributes.name ?? '',
    methods: new Map(),
    properties: new Map(),
    signals: new Map(),
    annotations: annotationsOf(el),
    order: [],
  };
  for (const c of el.children) {
    const name = c.attributes.name ?? '';
    if (c.name === 'method' || c.name === 'property' || c.name === 'signal') spec.order.push({ kind: c.name, name });
    if (c.name === 'method') {
      const args = argsOf(c, 'in');
      spec.methods.set(name, {
        name,
        args,
        inSignature: args.filter((a) => a.direction === 'in').map((a) => a.type).join(''),
        outSignature: args.filter((a) => a.direction === 'out').map((a) => a.type).join(''),
        annotations: annotationsOf(c),
      });
    } else if (c.name === 'property') {
      const annotations = annotationsOf(c);
      const access = c.attributes.access;
      spec.properties.set(name, {
        name,
        type: c.attributes.type ?? '',
        access: access === 'readwrite' || access === 'write' ? access : 'read',
        emitsChanged: (annotations[EMITS_ANNOTATION] as EmitsChanged | undefined) ?? spec.annotations[EMITS_ANNOTATION] as EmitsChanged ?? 'true',
        annotations,
      });
    } else if (c.name === 'signal') {
      const args = argsOf(c, 'out');
      spec.signals.set(name, { name, args, signature: args.map((a) => a.type).join('') });
    }
  }
  return spec;
}

export function interfacesFromXmlText(text: string): InterfaceSpec[] {
  const doc = parseXml(text);
  const out: InterfaceSpec[] = [];
  const visit = (el: XmlElement): void => {
    for (const c of el.children) {
      if (c.name === 'interface') out.push(interfaceFromXml(c));
      else if (c.name === 'node') visit(c);
    }
  };
  visit(doc);
  return out;
}

export const INTERFACES_DIR = fileURLToPath(new URL('../../interfaces/', import.meta.url));

/** Every interface declared in interfaces/*.xml, by name. */
export function loadInterfaceSpecs(dir = INTERFACES_DIR): Map<string, InterfaceSpec> {
  const specs = new Map<string, InterfaceSpec>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.xml')).sort()) {
    for (const spec of interfacesFromXmlText(readFileSync(join(dir, file), 'utf8'))) specs.set(spec.name, spec);
  }
  return specs;
}

const DOCTYPE =
  '<!DOCTYPE node PUBLIC "-//freedesktop//DTD D-BUS Object Introspection 1.0//EN"\n' +
  '"https://www.freedesktop.org/standards/dbus/1.0/introspect.dtd">\n';

function renderAnnotations(annotations: Record<string, string>, indent: string): string {
  return Object.entries(annotations)
    .map(([k, v]) => `${indent}<annotation name="${escapeXmlAttribute(k)}" value="${escapeXmlAttribute(v)}"/>\n`)
    .join('');
}

function renderArgs(args: ArgSpec[], withDirection: boolean): string {
  return args
    .map((a) => {
      const name = a.name ? ` name="${escapeXmlAttribute(a.name)}"` : '';
      const dir = withDirection ? ` direction="${a.direction}"` : '';
      return `   <arg type="${escapeXmlAttribute(a.type)}"${name}${dir}/>\n`;
    })
    .join('');
}

export function renderInterface(spec: InterfaceSpec): string {
  let out = ` <interface name="${escapeXmlAttribute(spec.name)}">\n`;
  out += renderAnnotations(spec.annotations, '  ');
  for (const member of spec.order) {
    if (member.kind === 'method') {
      const m = spec.methods.get(member.name)!;
      out += `  <method name="${escapeXmlAttribute(m.name)}">\n${renderArgs(m.args, true)}${renderAnnotations(m.annotations, '   ')}  </method>\n`;
    } else if (member.kind === 'signal') {
      const s = spec.signals.get(member.name)!;
      out += `  <signal name="${escapeXmlAttribute(s.name)}">\n${renderArgs(s.args, false)}  </signal>\n`;
    } else {
      const p = spec.properties.get(member.name)!;
      const head = `  <property name="${escapeXmlAttribute(p.name)}" type="${escapeXmlAttribute(p.type)}" access="${p.access}"`;
      const ann = renderAnnotations(p.annotations, '   ');
      out += ann ? `${head}>\n${ann}  </property>\n` : `${head}/>\n`;
    }
  }
  return out + ' </interface>\n';
}

export function renderIntrospection(interfaces: InterfaceSpec[], children: string[]): string {
  let out = DOCTYPE + '<node>\n';
  for (const spec of interfaces) out += renderInterface(spec);
  for (const child of children) out += ` <node name="${escapeXmlAttribute(child)}"/>\n`;
  return out + '</node>\n';
}
