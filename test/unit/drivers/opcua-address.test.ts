import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatNodeId, parseNodeId } from '../../../src/drivers/opcua/address.js';

describe('OPC UA NodeId addresses', () => {
  it('parses the four identifier kinds with and without a namespace', () => {
    expect(parseNodeId('ns=2;s=Line1.Speed')).toEqual({ ok: true, nodeId: { namespace: 2, kind: 's', identifier: 'Line1.Speed' } });
    expect(parseNodeId('ns=3;i=1001')).toEqual({ ok: true, nodeId: { namespace: 3, kind: 'i', identifier: '1001' } });
    expect(parseNodeId('i=2258')).toEqual({ ok: true, nodeId: { namespace: 0, kind: 'i', identifier: '2258' } });
    expect(parseNodeId('ns=1;g=09087E75-8E5E-499B-954F-F2A9603DB28A')).toMatchObject({
      ok: true,
      nodeId: { kind: 'g', identifier: '09087e75-8e5e-499b-954f-f2a9603db28a' },
    });
    expect(parseNodeId('ns=1;b=M/RbKBsRVkePCePcx24oRA==')).toMatchObject({ ok: true, nodeId: { kind: 'b' } });
    // String identifiers may contain ';' and '=' (only the first "ns=…;" is structure).
    expect(parseNodeId('ns=2;s=A;B=C')).toMatchObject({ ok: true, nodeId: { identifier: 'A;B=C' } });
  });

  it('parses namespace URIs', () => {
    expect(parseNodeId('nsu=http://example.com/UA/;s=Speed')).toEqual({
      ok: true,
      nodeId: { namespace: 'http://example.com/UA/', kind: 's', identifier: 'Speed' },
    });
    expect(parseNodeId('nsu=urn:a:b;i=5')).toEqual({ ok: true, nodeId: { namespace: 'urn:a:b', kind: 'i', identifier: '5' } });
  });

  it.each([
    '',
    'Speed',
    'ns=2',
    'ns=2;x=1',
    'ns=-1;i=1',
    'ns=65536;i=1',
    'ns=02;i=1',
    'ns=2;i=01',
    'ns=2;i=4294967296',
    'ns=2;i=1.5',
    'ns=2;s=',
    'ns=1;g=not-a-guid',
    'ns=1;b=***',
    'nsu=;s=x',
    'nsu=urn:x',
  ])('refuses %j', (address) => {
    const r = parseNodeId(address);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(/not an OPC UA NodeId/);
  });

  it('formats what it parses back to the same text (numeric namespaces)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 65535 }),
        fc.oneof(
          fc.integer({ min: 0, max: 0xffffffff }).map((n) => `i=${n}`),
          fc.string({ minLength: 1, maxLength: 30 }).map((s) => `s=${s}`),
        ),
        (ns, id) => {
          const text = ns === 0 ? id : `ns=${ns};${id}`;
          const r = parseNodeId(text);
          expect(r.ok).toBe(true);
          if (r.ok) expect(formatNodeId(r.nodeId)).toBe(text);
        },
      ),
    );
  });

  it('formats a URI namespace once resolved to an index', () => {
    const r = parseNodeId('nsu=urn:x;s=Speed');
    if (!r.ok) throw new Error(r.message);
    expect(formatNodeId(r.nodeId, 4)).toBe('ns=4;s=Speed');
    expect(() => formatNodeId(r.nodeId)).toThrow(/not resolved/);
  });
});
