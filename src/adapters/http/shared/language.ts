/** The first language of Accept-Language (`de-DE,de;q=0.9` → `de-de`), or undefined when it names none. */
export function acceptLanguage(header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  const first = header.split(',')[0]!.split(';')[0]!.trim().toLowerCase();
  return /^[a-z]{2,3}(-[a-z0-9]{2,8})?$/.test(first) ? first : undefined;
}
