/** Polls an async check until it answers something truthy; fails with `what` after `boundMs`. */
export async function waitUntil<T>(check: () => Promise<T | undefined | false>, what: string, boundMs = 20_000): Promise<T> {
  const until = Date.now() + boundMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > until) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
