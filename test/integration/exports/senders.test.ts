import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyMap } from '../../../src/adapters/erp/http.js';
import { WebhookSender } from '../../../src/adapters/erp/targets.js';
import type { ExportTargetConfig } from '../../../src/project/exports.js';
import { FakeWebhook } from '../../helpers/fake-erp.js';

describe('ERP senders', () => {
  const hook = new FakeWebhook('s3');
  beforeAll(() => hook.start());
  afterAll(() => hook.stop());
  const target = (over: Partial<ExportTargetConfig>): ExportTargetConfig => ({
    name: 'h',
    kind: 'webhook',
    url: `${hook.url}/x`,
    secret: 's3',
    timeoutMs: 5000,
    maxPending: 10,
    giveUpAfterMs: 60_000,
    ...over,
  });

  it('verifies TLS: a self-signed receiver is refused without its ca, accepted with it', async () => {
    const without = new WebhookSender(target({}));
    const r = await without.send({ a: 1 }, 'k1');
    expect(r.status).toBeNull();
    expect(r.answer).toMatch(/self[- ]signed|certificate/i);
    await without.close();
    const withCa = new WebhookSender(target({ ca: hook.caFile }));
    expect((await withCa.send({ a: 1 }, 'k2')).status).toBe(200);
    await withCa.close();
    expect(hook.bookings.map((b) => b.key)).toEqual(['k2']);
  });

  it('signs with the target secret: a wrong secret is refused by the receiver', async () => {
    const wrong = new WebhookSender(target({ ca: hook.caFile, secret: 'other' }));
    expect((await wrong.send({ a: 1 }, 'k3')).status).toBe(401);
    await wrong.close();
    expect(hook.badSignatures).toBe(1);
  });

  it('keeps one connection per target; with inFlight, pipelines on it in the order sent', async () => {
    const seq = new WebhookSender(target({ ca: hook.caFile }));
    for (let i = 0; i < 5; i++) expect((await seq.send({ i }, `s${i}`)).status).toBe(200);
    await seq.close();
    const serial = hook.bookings.filter((b) => b.key?.startsWith('s'));
    expect(new Set(serial.map((b) => b.port)).size).toBe(1);
    const piped = new WebhookSender(target({ ca: hook.caFile, inFlight: 4 }));
    const keys = Array.from({ length: 12 }, (_, i) => `p${i}`);
    const answers = await Promise.all(keys.map((k, i) => piped.send({ i }, k)));
    await piped.close();
    expect(answers.map((a) => a.status)).toEqual(Array(12).fill(200));
    const got = hook.bookings.filter((b) => b.key?.startsWith('p'));
    expect(got.map((b) => b.key)).toEqual(keys);
    expect(new Set(got.map((b) => b.port)).size).toBe(1);
  });

  it('maps fields: whole placeholders keep their type, :string makes text, text interpolates, constants stay', () => {
    expect(
      applyMap(
        { Plant: '1000', Qty: '{n}', QtyText: '{n:string}', Lot: 'L-{lot}', Flag: true, Num: 3, Missing: '{nope}' },
        { n: 42, lot: 'A7' },
      ),
    ).toEqual({ Plant: '1000', Qty: 42, QtyText: '42', Lot: 'L-A7', Flag: true, Num: 3, Missing: null });
  });
});
