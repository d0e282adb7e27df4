/**
 * A NATS URL fit for logs and answers: a password in it (nats://user:password@host) is replaced by ***, and so is
 * a token (nats://token@host), which is a password too.
 */
export function redactNatsUrl(url: string): string {
  return url.replace(/\/\/([^:@/,]*):[^@/,]*@/g, '//$1:***@').replace(/\/\/[^:@/,]+@/g, '//***@');
}

/**
 * nats.js does not take credentials from a server URL (found by the credentials test: a correct password in
 * nats://user:password@host was refused as an authorization violation). They are split off here and passed as
 * options: nats://user:password@host → user and pass; nats://token@host → token. Several servers may be given,
 * comma-separated; the credentials of the first one that has some apply.
 */
export function natsConnectionOptions(url: string): { servers: string[]; user?: string; pass?: string; token?: string } {
  const servers: string[] = [];
  let auth: { user?: string; pass?: string; token?: string } = {};
  for (const one of url
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^([a-z]+:\/\/)([^@/]*)@(.*)$/i.exec(one);
    if (!m) {
      servers.push(one);
      continue;
    }
    servers.push(m[1]! + m[3]!);
    if (auth.user !== undefined || auth.token !== undefined) continue;
    const colon = m[2]!.indexOf(':');
    auth =
      colon < 0
        ? { token: decodeURIComponent(m[2]!) }
        : { user: decodeURIComponent(m[2]!.slice(0, colon)), pass: decodeURIComponent(m[2]!.slice(colon + 1)) };
  }
  return { servers, ...auth };
}
