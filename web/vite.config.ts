import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

// The dashboard: built into dist/web, which Tagway serves at its root (src/adapters/http/rest/dashboard/static.ts).
export default defineConfig({
  root,
  base: '/',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // No inline scripts or data-URL modules: the CSP allows scripts from our origin only.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    rollupOptions: {
      output: {
        // The chart library is only needed on pages with trends: its own chunk, loaded on demand.
        manualChunks: (id: string) =>
          id.includes('node_modules/uplot') ? 'uplot' : id.includes('node_modules/react') ? 'react' : undefined,
      },
    },
  },
  server: { fs: { allow: ['..'] } },
});
