import { describe, expect, it } from 'vitest';
import { parseProject } from '../../../src/project/load.js';
import { exportsOfProject } from '../../../src/project/exports.js';
import { ProjectError } from '../../../src/project/problems.js';

const base = `name: P
connections:
  - { name: internal, driver: internal }
tags:
  - { name: Count, type: UInt16, connection: internal, history: { mode: onChange } }
  - { name: Speed, type: Float64, connection: internal, history: { mode: onChange } }
  - { name: Lot, type: String, connection: internal, history: { mode: onChange } }
  - { name: NoLog, type: Float64, connection: internal }
shifts:
  timeZone: Europe/Berlin
  shifts:
    - { name: Early, start: "06:00" }
    - { name: Late, start: "14:00", days: [Mon, Tue] }
  holidays: ["2026-12-25"]
`;

function problems(text: string): string[] {
  try {
    parseProject(text, 'p.yaml');
    return [];
  } catch (err) {
    if (!(err instanceof ProjectError)) throw err;
    return err.problems.map((p) => `${p.line}: ${p.message}`);
  }
}

describe('shifts and exports sections', () => {
  it('loads a valid project and resolves ${ENV} secrets only in memory', () => {
    process.env.TAGWAY_TEST_HOOK_SECRET = 's3cret';
    const p = parseProject(
      base +
        `exports:
  reports:
    - name: prod
      trigger: shiftEnd
      fields:
        - { name: bottles, tag: Count, aggregate: delta }
        - { name: lot, tag: Lot, aggregate: last }
        - { name: stops, alarms: "Line1.**", aggregate: alarmCount }
      targets: [hook]
    - { name: hourly, trigger: "0 * * * *", delayMs: 0, fields: [{ name: s, tag: Speed, aggregate: avg }], targets: [hook] }
  targets:
    - { name: hook, kind: webhook, url: "https://erp.example/hook", secret: "\${TAGWAY_TEST_HOOK_SECRET}" }
`,
      'p.yaml',
    );
    const ex = exportsOfProject(p);
    expect(ex.calendar?.timeZone).toBe('Europe/Berlin');
    expect(ex.reports.map((r) => [r.name, r.delayMs])).toEqual([
      ['prod', 60_000],
      ['hourly', 0],
    ]);
    expect(ex.targets[0]).toMatchObject({ secret: 's3cret', timeoutMs: 10_000, maxPending: 10_000 });
    expect(JSON.stringify(p.raw)).not.toContain('s3cret');
  });

  it('reports each problem with its line', () => {
    const text =
      base +
      `exports:
  reports:
    - name: prod
      trigger: "99 * * * *"
      fields:
        - { name: a, tag: NoLog, aggregate: avg }
        - { name: b, tag: Lot, aggregate: avg }
        - { name: c, tag: Nope, aggregate: last }
        - { name: d, aggregate: alarmCount }
      targets: [hook, missing]
  targets:
    - { name: hook, kind: webhook, url: "https://erp.example/hook", secret: "\${TAGWAY_TEST_UNSET_VAR}" }
    - { name: sap, kind: sap-odata, url: "https://sap.example/", map: { Qty: "{nothing}" } }
`;
    expect(problems(text)).toEqual([
      "18: trigger '99 * * * *': CronPattern: Invalid value for minute: 99",
      "20: tag 'NoLog' logs no history (add 'history:' to the tag)",
      "21: aggregate 'avg' needs a numeric or Bool tag; 'Lot' is String",
      "22: unknown tag 'Nope'",
      "23: aggregate 'alarmCount' needs 'alarms' (an alarm name glob)",
      "24: unknown target 'missing'",
      "26: environment variable 'TAGWAY_TEST_UNSET_VAR' is not set",
      "27: a sap-odata target needs 'entitySet'",
      "27: a sap-odata target needs 'username'",
      "27: a sap-odata target needs 'password'",
    ]);
  });

  it('bounds inFlight per target to 1…32', () => {
    const target = (n: number) =>
      base +
      `exports:
  targets:
    - { name: hook, kind: webhook, url: "https://erp.example/hook", secret: s, inFlight: ${n} }
`;
    expect(problems(target(8))).toEqual([]);
    expect(exportsOfProject(parseProject(target(8), 'p.yaml')).targets[0]!.inFlight).toBe(8);
    expect(problems(target(0))).toEqual(['17: must be >= 1']);
    expect(problems(target(33))).toEqual(['17: must be <= 32']);
  });

  it('refuses a bad calendar and shiftEnd without one', () => {
    expect(
      problems(`name: P
connections: []
tags: []
shifts: { timeZone: Mars/Olympus, shifts: [{ name: A, start: "06:00" }, { name: A, start: "06:00" }] }
`),
    ).toEqual([
      "4: 'Mars/Olympus' is not an IANA time zone this runtime knows",
      "4: duplicate shift name 'A'",
      "4: shift 'A' starts at the same time as 'A'",
    ]);
    expect(
      problems(`name: P
connections: []
tags: []
exports:
  reports: [{ name: r, trigger: shiftEnd, fields: [{ name: n, alarms: "**", aggregate: alarmCount }], targets: [x] }]
  targets: [{ name: x, kind: webhook, url: "https://h.example/", secret: k }]
`),
    ).toEqual(["5: trigger 'shiftEnd' needs a 'shifts:' section"]);
  });
});

describe('exportsOfProject', () => {
  it('refuses to start when a secret variable is unset (a cached project skipped the validator)', () => {
    process.env.TAGWAY_TEST_HOOK_SECRET_2 = 'x';
    const p = parseProject(
      base +
        `exports:
  targets:
    - { name: hook, kind: webhook, url: "https://erp.example/hook", secret: "\${TAGWAY_TEST_HOOK_SECRET_2}" }
`,
      'p.yaml',
    );
    expect(exportsOfProject(p).targets[0]!.secret).toBe('x');
    expect(() => exportsOfProject(p, {})).toThrow("exports: environment variable 'TAGWAY_TEST_HOOK_SECRET_2' not set");
  });
});
