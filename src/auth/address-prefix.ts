/**
 * The network a client address belongs to, for per-address budgets: an IPv4 address stands for itself (/32), an
 * IPv6 address for its /64 (one customer line or LAN gets a whole /64, so counting single IPv6 addresses would
 * give an attacker 2^64 fresh budgets). IPv4-mapped IPv6 (`::ffff:a.b.c.d`) counts as the IPv4 address.
 */
export function addressPrefix(address: string): string {
  const a = address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
  if (!a.includes(':')) return a;
  const groups = expandIpv6(a);
  if (!groups) return a.toLowerCase();
  return `${groups.slice(0, 4).join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address (zone id dropped, an IPv4 tail converted); undefined if malformed. */
function expandIpv6(address: string): string[] | undefined {
  let s = address.toLowerCase();
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  const tail = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (tail) {
    const b = tail.slice(1).map(Number);
    if (b.some((x) => x > 255)) return undefined;
    s = s.slice(0, tail.index) + `${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(':') : [];
  const rest = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - rest.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...rest];
  if (all.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return undefined;
  return all.map((g) => g.replace(/^0+(?=.)/, ''));
}
