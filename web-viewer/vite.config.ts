import { defineConfig } from 'vite';
import { resolve } from 'node:path';

export default defineConfig({
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 3000,
    rollupOptions: { input: { main: resolve(import.meta.dirname, 'index.html'), wall: resolve(import.meta.dirname, 'wall.html') } },
  },
  server: { proxy: { '/api': 'http://127.0.0.1:8080', '/ws': { target: 'ws://127.0.0.1:8080', ws: true },
    '/auth': 'http://127.0.0.1:8080', '/events': 'http://127.0.0.1:8080',
    '/tiles': 'http://127.0.0.1:8080', '/styles': 'http://127.0.0.1:8080', '/fonts': 'http://127.0.0.1:8080' } },
  test: { environment: 'node', include: ['test/**/*.test.ts'] },
});
