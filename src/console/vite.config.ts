// The console's Vite configuration. scripts/build-console.ts imports it and builds into
// <repo>/.paddock/console (gitignored); the control plane serves that directory.
import { join, resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const CONSOLE_DIR = import.meta.dirname;

/** Where the built console goes unless a caller overrides `build.outDir`. */
export const CONSOLE_BUILD_DIR = join(resolve(CONSOLE_DIR, '../..'), '.paddock', 'console');

export default defineConfig({
  root: CONSOLE_DIR,
  base: '/',
  // The console has no public/ folder: everything it serves is bundled from app/.
  publicDir: false,
  plugins: [react()],
  build: {
    outDir: CONSOLE_BUILD_DIR,
    emptyOutDir: true,
    assetsDir: 'assets',
    // No data: URLs: the server's CSP allows same-origin sources only.
    assetsInlineLimit: 0,
    // Chromium, Firefox and Safari support modulepreload; the polyfill is not needed.
    modulePreload: { polyfill: false },
    sourcemap: false,
    reportCompressedSize: false,
    // React and xterm.js make one ~600 kB chunk; a single chunk keeps the CSP story simple.
    chunkSizeWarningLimit: 1024,
  },
});
