/** The exports test plant: counters with history, a calendar, and one target of each kind at the given fakes. */
export function exportsProject(o: {
  webhook: string;
  sap: string;
  dynamics: string;
  ca: string;
  timeoutMs?: number;
  extra?: string;
  hookMaxPending?: number;
  hookInFlight?: number;
}): string {
  return `name: Export plant
connections:
  - { name: internal, driver: internal }
tags:
  - { name: Line1.Count, type: UInt16, connection: internal, initial: 100, history: { mode: onChange } }
  - { name: Line1.Speed, type: Float64, connection: internal, initial: 12.5, history: { mode: onChange } }
  - { name: Line1.Running, type: Bool, connection: internal, initial: true, history: { mode: onChange } }
  - { name: Line1.Lot, type: String, connection: internal, initial: LOT-1, history: { mode: onChange } }
shifts:
  timeZone: Europe/Berlin
  shifts:
    - { name: Early, start: "06:00" }
    - { name: Late, start: "14:00" }
    - { name: Night, start: "22:00" }
exports:
  reports:
    - name: prod
      trigger: shiftEnd
      fields:
        - { name: bottles, tag: Line1.Count, aggregate: delta }
        - { name: avgSpeed, tag: Line1.Speed, aggregate: avg }
        - { name: runSeconds, tag: Line1.Running, aggregate: timeTrue }
        - { name: lot, tag: Line1.Lot, aggregate: last }
        - { name: stops, alarms: "Line1.**", aggregate: alarmCount }
      targets: [hook]
    - { name: sapReport, trigger: shiftEnd, fields: [{ name: bottles, tag: Line1.Count, aggregate: delta }, { name: lot, tag: Line1.Lot, aggregate: last }], targets: [sap] }
    - { name: d365Report, trigger: shiftEnd, fields: [{ name: bottles, tag: Line1.Count, aggregate: delta }], targets: [d365] }
${o.extra ?? ''}
  targets:
    - { name: hook, kind: webhook, url: "${o.webhook}/hooks/production", secret: "\${TAGWAY_TEST_HOOK_SECRET}", ca: "${o.ca}", timeoutMs: ${o.timeoutMs ?? 1000}, retryBaseMs: 50, retryMaxMs: 200${o.hookMaxPending ? `, maxPending: ${o.hookMaxPending}` : ''}${o.hookInFlight ? `, inFlight: ${o.hookInFlight}` : ''} }
    - name: sap
      kind: sap-odata
      url: "${o.sap}/sap/opu/odata/sap/ZPP_CONFIRM_SRV/"
      entitySet: ConfirmationSet
      username: "\${TAGWAY_TEST_SAP_USER}"
      password: "\${TAGWAY_TEST_SAP_PASSWORD}"
      map: { Plant: "1000", Quantity: "{bottles:string}", Lot: "{lot}", Ref: "TW-{key}" }
      ca: "${o.ca}"
      timeoutMs: ${o.timeoutMs ?? 1000}
      retryBaseMs: 50
      retryMaxMs: 200
    - name: d365
      kind: dynamics
      url: "${o.dynamics}/api/data/v9.2/"
      entitySet: cr1_productionreports
      tokenUrl: "${o.dynamics}/token"
      clientId: "\${TAGWAY_TEST_D365_ID}"
      clientSecret: "\${TAGWAY_TEST_D365_SECRET}"
      scope: "https://org.example.dynamics.com/.default"
      map: { cr1_bottles: "{bottles}", cr1_shift: "{shift}", cr1_key: "{key}" }
      ca: "${o.ca}"
      timeoutMs: ${o.timeoutMs ?? 1000}
      retryBaseMs: 50
      retryMaxMs: 200
alarms:
  - { name: Line1.Stopped, number: 1, class: Alarm, priority: 5, tag: Line1.Running, limit: { type: "==", value: 0 }, text: "Line 1 stopped" }
groups:
  - name: exportViewers
    permissions: [{ permission: "exports:read" }]
  - name: nobody
    permissions: []
users:
  - { username: viewer, password: viewer-password, groups: [exportViewers] }
  - { username: outsider, password: outsider-password, groups: [nobody] }
`;
}

export const SECRETS = {
  TAGWAY_TEST_HOOK_SECRET: 'hook-secret-7f3a',
  TAGWAY_TEST_SAP_USER: 'TAGWAY',
  TAGWAY_TEST_SAP_PASSWORD: 'sap-pass-91c2',
  TAGWAY_TEST_D365_ID: 'client-id-4d1e',
  TAGWAY_TEST_D365_SECRET: 'd365-secret-b8e0',
};
Object.assign(process.env, SECRETS);
