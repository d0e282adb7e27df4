import {
  AggregateFunction,
  AttributeIds,
  constructEventFilter,
  DataType,
  LocalizedText,
  StatusCodes,
  TimestampsToReturn,
  Variant,
  type HistoryData,
  type DataValue,
} from 'node-opcua';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../helpers/wait.js';
import { startOpcUaFixture, type Connected, type OpcUaFixture } from './opcua-client.js';

const project = (port: number): string => `
name: OPC UA history and alarms
connections:
  - { name: internal, driver: internal }
tags:
  - { name: Hist.Level, type: Float64, connection: internal, initial: 0, history: { mode: onChange } }
  - { name: Hist.Other, type: Float64, connection: internal, initial: 0, history: { mode: onChange } }
  - { name: NoHist, type: Float64, connection: internal, initial: 0 }
  - { name: Pump.Fault, type: Bool, connection: internal, initial: false }
  - { name: Valve.Fault, type: Bool, connection: internal, initial: false }
alarms:
  - { name: Pump.Fault, number: 1, class: Alarm, priority: 12, tag: Pump.Fault, text: "Pump fault" }
  - { name: Valve.Fault, number: 2, class: Alarm, priority: 8, tag: Valve.Fault, text: "Valve fault" }
groups:
  - name: operators
    permissions:
      - { permission: "tags:read" }
      - { permission: "history:read", tags: "Hist.Level" }
      - { permission: "alarms:read" }
      - { permission: "alarms:acknowledge", tags: "Pump.*" }
  - name: blind
    permissions:
      - { permission: "tags:read" }
users:
  - { username: operator, password: operator-password, groups: [operators] }
  - { username: blind, password: blind-password, groups: [blind] }
northbound:
  opcua:
    port: ${port}
    host: 127.0.0.1
`;

describe('OPC UA server: HistoryRead and Alarms & Conditions', () => {
  let f: OpcUaFixture;
  let operator: Connected;
  let admin: string;
  let from: Date;
  let to: Date;

  beforeAll(async () => {
    f = await startOpcUaFixture(project);
    operator = await f.connect({ name: 'operator', password: 'operator-password' });
    admin = await f.s.login();
    from = new Date(Date.now() - 1000);
    for (const v of [1, 2.5, 4, 8, 16.5]) {
      const r = await f.s.request('PUT', '/tags/Hist.Level/value', { token: admin, body: { value: v } });
      expect(r.status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 5)); // distinct timestamps
    }
    // A past end: a time-weighted average up to a future end would change between the two reads.
    await new Promise((resolve) => setTimeout(resolve, 20));
    to = new Date();
  }, 60_000);
  afterAll(async () => {
    await f?.stop();
  });

  const q = (d: Date): string => encodeURIComponent(d.toISOString());

  it('HistoryRead raw answers what REST answers for the same range', async () => {
    const rest = await f.s.request('GET', `/tags/Hist.Level/history?from=${q(from)}&to=${q(to)}`, { token: admin });
    expect(rest.status).toBe(200);
    const result = await operator.session.readHistoryValue({ nodeId: 'ns=1;s=Hist.Level' }, from, to);
    expect(result.statusCode).toEqual(StatusCodes.Good);
    const values = (result.historyData as HistoryData).dataValues!;
    expect(values.map((v) => v.value.value)).toEqual(rest.json.items.map((i: { value: number }) => i.value));
    expect(values.map((v) => v.sourceTimestamp!.toISOString())).toEqual(rest.json.items.map((i: { timestamp: string }) => i.timestamp));
    expect(values.map((v) => v.value.value)).toEqual(expect.arrayContaining([1, 2.5, 4, 8, 16.5]));
  });

  it('HistoryRead raw pages with continuation points (the REST cursor)', async () => {
    const first = await operator.session.readHistoryValue({ nodeId: 'ns=1;s=Hist.Level' }, from, to, { numValuesPerNode: 2 });
    expect((first.historyData as HistoryData).dataValues!.length).toBe(2);
    expect(first.continuationPoint?.length).toBeGreaterThan(0);
    const next = await operator.session.readHistoryValue(
      { nodeId: 'ns=1;s=Hist.Level', continuationPoint: first.continuationPoint },
      from,
      to,
      { numValuesPerNode: 2 },
    );
    expect((next.historyData as HistoryData).dataValues!.length).toBe(2);
    const all = await operator.session.readHistoryValue({ nodeId: 'ns=1;s=Hist.Level' }, from, to);
    const values = (all.historyData as HistoryData).dataValues!.map((v) => v.value.value);
    expect(
      [...(first.historyData as HistoryData).dataValues!, ...(next.historyData as HistoryData).dataValues!].map((v) => v.value.value),
    ).toEqual(values.slice(0, 4));
  });

  it('HistoryRead processed (Average, Minimum, Maximum, Count) answers what REST aggregates answer', async () => {
    const span = to.getTime() - from.getTime();
    const cases: Array<[AggregateFunction, string]> = [
      [AggregateFunction.Average, 'avg'],
      [AggregateFunction.Minimum, 'min'],
      [AggregateFunction.Maximum, 'max'],
      [AggregateFunction.Count, 'count'],
    ];
    for (const [fn, name] of cases) {
      const rest = await f.s.request('GET', `/tags/Hist.Level/history?from=${q(from)}&to=${q(to)}&aggregate=${name}&interval=${span}ms`, {
        token: admin,
      });
      expect(rest.status, name).toBe(200);
      const [result] = await operator.session.readAggregateValue([{ nodeId: 'ns=1;s=Hist.Level' }], from, to, [fn], span);
      expect(result!.statusCode, name).toEqual(StatusCodes.Good);
      const values = (result!.historyData as HistoryData).dataValues!;
      expect(
        values.map((v) => v.value.value),
        name,
      ).toEqual(rest.json.items.map((i: { value: number }) => i.value));
    }
  });

  it('HistoryRead is refused without history:read on the tag, and for a tag that logs none', async () => {
    const other = await operator.session.readHistoryValue({ nodeId: 'ns=1;s=Hist.Other' }, from, to);
    expect(other.statusCode).toEqual(StatusCodes.BadUserAccessDenied);
    const none = await operator.session.readHistoryValue({ nodeId: 'ns=1;s=NoHist' }, from, to);
    expect(none.statusCode.isGood()).toBe(false);
  });

  it('an alarm is an event on the Tagway object; Acknowledge via the condition method acknowledges it in REST and the audit', async () => {
    const sub = await operator.session.createSubscription2({
      requestedPublishingInterval: 50,
      publishingEnabled: true,
      requestedMaxKeepAliveCount: 20,
    });
    const fields = ['EventId', 'ConditionName', 'SourceNode', 'Message', 'Severity', 'ActiveState.Id', 'AckedState.Id', 'Retain'];
    const item = await sub.monitor(
      { nodeId: 'ns=1;s=@Tagway', attributeId: AttributeIds.EventNotifier },
      { queueSize: 100, filter: constructEventFilter(fields), samplingInterval: 0 },
      TimestampsToReturn.Both,
    );
    const events: Array<Record<string, unknown>> = [];
    item.on('changed', (values: unknown) => {
      const list = values as Variant[];
      events.push(Object.fromEntries(fields.map((k, i) => [k, list[i]!.value])));
    });
    // A session without alarms:read subscribes to the same notifier: it must hear nothing of the alarm.
    const blind = await f.connect({ name: 'blind', password: 'blind-password' });
    const blindSub = await blind.session.createSubscription2({ requestedPublishingInterval: 50, publishingEnabled: true });
    const blindItem = await blindSub.monitor(
      { nodeId: 'ns=1;s=@Tagway', attributeId: AttributeIds.EventNotifier },
      { queueSize: 100, filter: constructEventFilter(fields), samplingInterval: 0 },
      TimestampsToReturn.Both,
    );
    let blindEvents = 0;
    blindItem.on('changed', () => blindEvents++);
    const w = await f.s.request('PUT', '/tags/Pump.Fault/value', { token: admin, body: { value: true } });
    expect(w.status).toBe(200);
    const raised = await waitUntil(
      () => events.find((e) => e.ConditionName === 'Pump.Fault' && e['ActiveState.Id'] === true && e['AckedState.Id'] === false),
      'the raised event',
    );
    expect((raised.Message as LocalizedText).text).toBe('Pump fault');
    expect(String(raised.SourceNode)).toBe('ns=1;s=Pump.Fault');
    const current = await f.s.request('GET', '/alarms/current', { token: admin });
    const occurrence = current.json.items.find((o: { alarm: string }) => o.alarm === 'Pump.Fault');
    expect(occurrence.acknowledged).toBe(false);

    const result = await operator.session.call({
      objectId: 'ns=1;s=@alarm:Pump.Fault',
      methodId: 'ns=0;i=9111', // AcknowledgeableConditionType.Acknowledge
      inputArguments: [
        new Variant({ dataType: DataType.ByteString, value: raised.EventId }),
        new Variant({ dataType: DataType.LocalizedText, value: new LocalizedText({ text: 'seen' }) }),
      ],
    });
    expect(result.statusCode).toEqual(StatusCodes.Good);
    await waitUntil(() => events.find((e) => e.ConditionName === 'Pump.Fault' && e['AckedState.Id'] === true), 'the acknowledged event');
    const after = await f.s.request('GET', '/alarms/current', { token: admin });
    const acked = after.json.items.find((o: { alarm: string }) => o.alarm === 'Pump.Fault');
    expect(acked.acknowledged).toBe(true);
    expect(acked.acknowledgedBy).toBe('operator');
    const audit = await f.s.request('GET', '/audit?action=alarm.acknowledge&user=operator', { token: admin });
    expect(audit.json.items.some((i: { target: string }) => i.target === String(occurrence.id))).toBe(true);
    // Acknowledging again with the old event id: that event is gone.
    const again = await operator.session.call({
      objectId: 'ns=1;s=@alarm:Pump.Fault',
      methodId: 'ns=0;i=9111',
      inputArguments: [
        new Variant({ dataType: DataType.ByteString, value: raised.EventId }),
        new Variant({ dataType: DataType.LocalizedText, value: new LocalizedText({ text: 'again' }) }),
      ],
    });
    expect(again.statusCode.isGood()).toBe(false);
    await sub.terminate();
    // Published in the same cycles as the operator's events, which have arrived: nothing reached the blind session.
    expect(blindEvents).toBe(0);
    await blind.close();
  });

  it('Acknowledge without alarms:acknowledge on the tag is BadUserAccessDenied and changes nothing', async () => {
    await f.s.request('PUT', '/tags/Valve.Fault/value', { token: admin, body: { value: true } });
    const condition = 'ns=1;s=@alarm:Valve.Fault';
    const eventId = await waitUntil(async () => {
      const current = await f.s.request('GET', '/alarms/current', { token: admin });
      if (!current.json.items.some((o: { alarm: string }) => o.alarm === 'Valve.Fault')) return undefined;
      const id: DataValue = await operator.session.read({ nodeId: `${condition}`, attributeId: AttributeIds.BrowseName });
      return id.statusCode.isGood() ? true : undefined;
    }, 'the Valve.Fault occurrence');
    expect(eventId).toBe(true);
    const ev = await operator.session.translateBrowsePath({
      startingNode: condition,
      relativePath: { elements: [{ targetName: { namespaceIndex: 0, name: 'EventId' } }] },
    } as never);
    const idValue = ev.targets?.length
      ? (await operator.session.read({ nodeId: ev.targets[0]!.targetId, attributeId: AttributeIds.Value })).value.value
      : Buffer.alloc(0);
    const result = await operator.session.call({
      objectId: condition,
      methodId: 'ns=0;i=9111',
      inputArguments: [
        new Variant({ dataType: DataType.ByteString, value: idValue }),
        new Variant({ dataType: DataType.LocalizedText, value: new LocalizedText({ text: 'not mine' }) }),
      ],
    });
    expect(result.statusCode).toEqual(StatusCodes.BadUserAccessDenied);
    const current = await f.s.request('GET', '/alarms/current', { token: admin });
    expect(current.json.items.find((o: { alarm: string }) => o.alarm === 'Valve.Fault').acknowledged).toBe(false);
  });
});
