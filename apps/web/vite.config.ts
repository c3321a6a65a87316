import { defaultClientConditions, defineConfig } from 'vite';

// Workspace packages are bundled from their TypeScript sources (the "@scriptorium/source" export condition), so the
// page builds without `tsc -b` first; their "./browser" entries keep Node built-ins and sharp out.
export default defineConfig({
  base: './',
  resolve: { conditions: ['@scriptorium/source', ...defaultClientConditions] },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 4096,
    reportCompressedSize: false,
  },
  logLevel: 'warn',
});
