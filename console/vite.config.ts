import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The admin console: built into dist/console, which `warden serve` serves at `/`.
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  plugins: [react()],
  build: {
    outDir: '../dist/console',
    emptyOutDir: true,
    // No inline scripts or data: modules: the console's Content-Security-Policy allows only 'self'.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
  },
  logLevel: 'warn',
});
