/**
 * The interactive API docs a new user opens first: branded Tagway, nothing in them that the page's own
 * Content-Security-Policy refuses, and the root URL leading there.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../helpers/server.js';

let t: TestServer;
let based: TestServer;

beforeAll(async () => {
  // Without a built dashboard (--web-dir none) the root leads to the docs; with one it is the dashboard (test/integration/dashboard).
  [t, based] = await Promise.all([
    startTestServer({ config: { webDir: 'none' } }),
    startTestServer({ config: { basePath: '/plant', webDir: 'none' } }),
  ]);
});

afterAll(async () => {
  await Promise.all([t?.stop(), based?.stop()]);
});

/** The directives of a CSP header, by name. */
function directives(csp: string): Map<string, string[]> {
  return new Map(
    csp
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((d) => d[0])
      .map(([name, ...values]) => [name!, values]),
  );
}

describe('/docs', () => {
  it('is titled Tagway, with the Tagway logo and favicon instead of the fastify ones', async () => {
    const page = await t.request('GET', '/docs/');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<title>Tagway API</title>');
    expect(page.text).toMatch(/<link rel="icon" type="image\/svg\+xml" href="[^"]*\/theme\/favicon\.svg"/);
    expect(page.text).not.toMatch(/favicon-32x32\.png/);
    const init = await t.request('GET', '/docs/static/swagger-initializer.js');
    expect(init.status).toBe(200);
    const logo = Buffer.from(/img\.src = 'data:image\/svg\+xml;base64,([A-Za-z0-9+/=]+)'/.exec(init.text)![1]!, 'base64').toString();
    expect(logo).toContain('>Tagway</text>');
    expect(logo).not.toMatch(/fastify|Adobe Illustrator/i);
    const favicon = await t.request('GET', '/docs/static/theme/favicon.svg');
    expect(favicon.status).toBe(200);
  });

  it('loads nothing its CSP refuses: no inline script or style, the logo an image without inline styles', async () => {
    const page = await t.request('GET', '/docs/');
    const csp = directives(String(page.headers['content-security-policy']));
    // Inline styles and scripts would need 'unsafe-inline' (or a hash): the page has neither, so it must carry none.
    expect(csp.get('style-src')).not.toContain("'unsafe-inline'");
    expect(csp.get('script-src')).not.toContain("'unsafe-inline'");
    expect(page.text).not.toMatch(/<style|\sstyle=/i);
    expect(page.text.match(/<script[^>]*>[^<]*<\/script>/g)!.every((s) => /src="/.test(s) && />\s*<\/script>$/.test(s))).toBe(true);
    // The logo is shown as a data: image, which img-src allows; rendered under the page's CSP, an SVG with a
    // <style> element or a style attribute (as the plugin's default logo has) is a violation.
    expect(csp.get('img-src')).toContain('data:');
    const init = await t.request('GET', '/docs/static/swagger-initializer.js');
    const logo = Buffer.from(/base64,([A-Za-z0-9+/=]+)'/.exec(init.text)![1]!, 'base64').toString();
    expect(logo).not.toMatch(/<style|\sstyle=/i);
    const favicon = await t.request('GET', '/docs/static/theme/favicon.svg');
    expect(favicon.text).not.toMatch(/<style|\sstyle=/i);
  });

  it('the root URL, and the base path root, redirect to the docs', async () => {
    const root = await t.request('GET', '/');
    expect(root.status).toBe(302);
    expect(root.headers.location).toBe('/docs');
    for (const path of ['/', '/plant', '/plant/']) {
      const r = await based.request('GET', path);
      expect(r.status, path).toBe(302);
      expect(r.headers.location, path).toBe('/plant/docs');
    }
    const docs = await based.request('GET', '/plant/docs/');
    expect(docs.status).toBe(200);
  });
});
