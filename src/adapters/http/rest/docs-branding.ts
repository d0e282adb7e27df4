/**
 * Tagway's look for the interactive API docs at /docs (@fastify/swagger-ui): page title, logo and favicon.
 *
 * The SVGs use presentation attributes only, no <style> element and no style attribute: the UI shows the logo as a
 * data: URL image, which the browser renders under the page's Content-Security-Policy (style-src without
 * 'unsafe-inline'), so an inline style in it is a CSP violation in the console (the plugin's default logo has one).
 */
const MARK =
  '<rect x="0" y="0" width="40" height="40" rx="8" fill="#0b5cab"/>' +
  '<path d="M10 12h20v5h-7.5v15h-5V17H10z" fill="#ffffff"/>' +
  '<circle cx="31" cy="29" r="4" fill="#f9a825"/>';

const LOGO_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" width="180" height="40" viewBox="0 0 180 40">' +
  MARK +
  '<text x="50" y="29" font-family="Helvetica, Arial, sans-serif" font-size="24" font-weight="700" fill="#ffffff">Tagway</text>' +
  '</svg>';

const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40" viewBox="0 0 40 40">${MARK}</svg>`;

export const DOCS_UI_BRANDING = {
  logo: { type: 'image/svg+xml', content: LOGO_SVG },
  theme: {
    title: 'Tagway API',
    favicon: [{ filename: 'favicon.svg', rel: 'icon', type: 'image/svg+xml', sizes: 'any', content: FAVICON_SVG }],
  },
};
