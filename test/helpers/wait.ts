/**
 * The one polling helper of the test suites: checks until `check` answers something truthy (sync or async) and
 * returns it; fails naming `what` after `boundMs`. The bound only stops a hung test, it never asserts a duration.
 */
export async function waitUntil<T>(
  check: () => T | undefined | false | null | Promise<T | undefined | false | null>,
  what: string,
  boundMs = 20_000,
  pollMs = 20,
): Promise<T> {
  const until = Date.now() + boundMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > until) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
