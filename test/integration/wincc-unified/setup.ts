import type { Reply, TestServer } from '../../helpers/server.js';

/** A plant with the system name Plant1: writable, read-only and logged tags, alarms of three classes, two roles. */
export const UNIFIED_PROJECT = `
name: Unified test
wincc: { systemName: Plant1 }
connections:
  - { name: internal, driver: internal }
tags:
  - { name: HMI_Tag_1, type: Float64, connection: internal, initial: 1.5, history: { mode: onChange } }
  - { name: HMI_Tag_2, type: Int32, connection: internal, initial: 7 }
  - { name: Tank1.Level, type: Float64, connection: internal, initial: 40, history: { mode: onChange }, description: Tank level }
  - { name: Tank1.Pump.Running, type: Bool, connection: internal, initial: false }
  - { name: Tank1.ReadOnly, type: Int32, connection: internal, access: read, initial: 3 }
  - { name: Secret.Value, type: Int32, connection: internal, initial: 9, history: { mode: onChange } }
  - { name: Pump.Fault, type: Bool, connection: internal, initial: false }
  - { name: Motor.Trip, type: Bool, connection: internal, initial: false }
  - { name: Info.Flag, type: Bool, connection: internal, initial: false }
alarmClasses:
  - { name: Fault, stateMachine: RAISE_CLEAR_REQUIRES_ACKNOWLEDGMENT_AND_RESET, color: "#b71c1c" }
alarms:
  - { name: PumpFault, number: 1, class: Alarm, priority: 12, tag: Pump.Fault, text: { en: "Pump fault", de: "Pumpenstörung" } }
  - { name: MotorTrip, number: 2, class: Fault, priority: 15, tag: Motor.Trip, text: "Motor tripped" }
  - { name: InfoFlag, number: 3, class: Warning, priority: 2, tag: Info.Flag, text: "Info flag" }
groups:
  - name: operators
    permissions:
      - { permission: "tags:read" }
      - { permission: "tags:write", tags: "Tank1.**" }
      - { permission: "tags:write", tags: "HMI_*" }
      - { permission: "tags:write", tags: "Pump.*" }
      - { permission: "tags:write", tags: "Motor.*" }
      - { permission: "tags:write", tags: "Info.*" }
      - { permission: "alarms:read" }
      - { permission: "alarms:acknowledge" }
      - { permission: "history:read" }
  - name: tankers
    permissions:
      - { permission: "tags:read", tags: "Tank1.**" }
      - { permission: "history:read", tags: "Tank1.**" }
      - { permission: "alarms:read", tags: "Pump.*" }
users:
  - { username: operator, password: operator-password, groups: [operators] }
  - { username: tanker, password: tanker-password, groups: [tankers] }
`;

export function gqlClient(s: TestServer) {
  return async function gql<T = any>(
    query: string,
    variables: Record<string, unknown> = {},
    o: { token?: string; headers?: Record<string, string>; path?: string } = {},
  ): Promise<Reply<T> & { data: any; errors: any[] | undefined }> {
    const headers: Record<string, string> = { ...(o.headers ?? {}) };
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    const r = await s.request<T>('POST', o.path ?? '/graphql', { body: { query, variables }, headers });
    const j = r.json as { data?: unknown; errors?: any[] } | undefined;
    return { ...r, data: j?.data, errors: j?.errors };
  };
}

export async function unifiedLogin(s: TestServer, username: string, password: string): Promise<string> {
  const r = await gqlClient(s)('mutation ($u: String!, $p: String!) { login(username: $u, password: $p) { token error { code } } }', {
    u: username,
    p: password,
  });
  if (r.data?.login?.error?.code !== '0') throw new Error(`login ${username}: ${r.text}`);
  return r.data.login.token as string;
}
