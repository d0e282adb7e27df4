import { GENERIC_CONNECTION_KEYS, OptionReader, type OptionProblem } from '../shared/options.js';

/** The options of an `opcua` connection, with defaults applied. */
export interface OpcUaOptions {
  endpointUrl: string;
  securityMode: 'None' | 'Sign' | 'SignAndEncrypt';
  securityPolicy: SecurityPolicyName;
  username: string | undefined;
  password: string | undefined;
  publishingIntervalMs: number;
  samplingIntervalMs: number;
  /** Bound on connect, session creation, each write and each browse. */
  timeoutMs: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  /** node-opcua's certificate store for this client (own certificate, trusted/rejected server certificates). */
  pkiDir: string;
  /** Trust a server certificate not yet in `<pkiDir>/trusted` (off by default: move it there from `rejected`). */
  acceptUnknownCertificate: boolean;
  /** How many monitored items go into one CreateMonitoredItems request (servers limit this). */
  monitoredItemsPerRequest: number;
}

export const SECURITY_POLICIES = [
  'None',
  'Basic128Rsa15',
  'Basic256',
  'Basic256Sha256',
  'Aes128_Sha256_RsaOaep',
  'Aes256_Sha256_RsaPss',
] as const;
export type SecurityPolicyName = (typeof SECURITY_POLICIES)[number];

/** Where the PKI goes when `pkiDir` is not set: under the data directory, never node-opcua's ~/.config default. */
export function defaultPkiDir(connectionName: string, dataDir?: string): string {
  const base = dataDir ?? process.env['TAGWAY_DATA_DIR'] ?? 'data';
  return `${base}/pki/opcua/${connectionName.replace(/[^A-Za-z0-9_.-]/g, '_')}`;
}

export function readOpcUaOptions(
  options: Readonly<Record<string, unknown>>,
  dataDir?: string,
): { options: OpcUaOptions; problems: OptionProblem[] } {
  const r = new OptionReader(options, { known: GENERIC_CONNECTION_KEYS });
  const endpointUrl =
    r.string('endpointUrl', {
      required: true,
      pattern: /^opc\.tcp:\/\/[^\s/]+(:\d+)?(\/\S*)?$/,
      patternText: 'an opc.tcp:// URL such as "opc.tcp://10.0.0.5:4840"',
    }) ?? '';
  const securityMode = r.oneOf('securityMode', ['None', 'Sign', 'SignAndEncrypt'] as const, 'None');
  const securityPolicy = r.oneOf('securityPolicy', SECURITY_POLICIES, securityMode === 'None' ? 'None' : 'Basic256Sha256');
  if (securityMode === 'None' && securityPolicy !== 'None') r.problem('securityPolicy', 'must be "None" when securityMode is "None"');
  if (securityMode !== 'None' && securityPolicy === 'None')
    r.problem('securityPolicy', `must not be "None" when securityMode is "${securityMode}"`);
  const username = r.string('username');
  // An empty password is legitimate for some servers, so it is not read with `string` (which refuses '').
  const rawPassword = options['password'];
  let password: string | undefined;
  if (typeof rawPassword === 'string') {
    password = rawPassword;
  } else if (rawPassword !== undefined && rawPassword !== null) r.problem('password', 'must be a string');
  r.markSeen('password');
  // Keeps the secret out of the project file: the password comes from this environment variable when set.
  const passwordEnv = r.string('passwordEnv', { pattern: /^[A-Za-z_][A-Za-z0-9_]*$/, patternText: 'an environment variable name' });
  if (passwordEnv !== undefined) {
    if (password !== undefined) r.problem('passwordEnv', 'give either password or passwordEnv, not both');
    else password = process.env[passwordEnv] ?? '';
  }
  if ((username === undefined) !== (password === undefined))
    r.problem(username === undefined ? 'username' : 'password', 'username and password go together');
  const publishingIntervalMs = r.int('publishingIntervalMs', 250, 10, 3_600_000);
  const samplingIntervalMs = r.int('samplingIntervalMs', 250, 0, 3_600_000);
  const timeoutMs = r.int('timeoutMs', 5000, 100, 600_000);
  const reconnectMinMs = r.int('reconnectMinMs', 500, 10, 3_600_000);
  const reconnectMaxMs = r.int('reconnectMaxMs', 30_000, 10, 3_600_000);
  if (reconnectMaxMs < reconnectMinMs) r.problem('reconnectMaxMs', 'must not be below reconnectMinMs');
  const name = typeof options['name'] === 'string' ? options['name'] : 'opcua';
  const pkiDir = r.string('pkiDir') ?? defaultPkiDir(name, dataDir);
  const acceptUnknownCertificate = r.boolean('acceptUnknownCertificate', false);
  const monitoredItemsPerRequest = r.int('monitoredItemsPerRequest', 1000, 1, 100_000);
  return {
    options: {
      endpointUrl,
      securityMode,
      securityPolicy,
      username,
      password,
      publishingIntervalMs,
      samplingIntervalMs,
      timeoutMs,
      reconnectMinMs,
      reconnectMaxMs,
      pkiDir,
      acceptUnknownCertificate,
      monitoredItemsPerRequest,
    },
    problems: r.rejectUnknown(),
  };
}

/** Tag options of the opcua driver. */
export interface OpcUaTagOptions {
  samplingIntervalMs: number | undefined;
}

export function readOpcUaTagOptions(options: Readonly<Record<string, unknown>> | undefined): {
  options: OpcUaTagOptions;
  problems: OptionProblem[];
} {
  const r = new OptionReader(options ?? {});
  const samplingIntervalMs = r.optionalInt('samplingIntervalMs', 0, 3_600_000);
  return { options: { samplingIntervalMs }, problems: r.rejectUnknown() };
}
