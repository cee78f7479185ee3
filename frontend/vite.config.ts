/// <reference types="vitest/config" />
// The portal's build: emitted into the Django app's static files, with a manifest that
// frontend/views.py reads to find the hashed entry files.
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

export default defineConfig({
  plugins: [react()],
  base: "/static/frontend/app/",
  build: {
    outDir: "static/frontend/app",
    emptyOutDir: true,
    manifest: "manifest.json",
    rollupOptions: { input: "src/main.tsx" },
    chunkSizeWarningLimit: 5000,
  },
  server: {
    // `npm run dev` beside `make run`: the API and sign-in stay on Django.
    proxy: { "/api": "http://127.0.0.1:8000", "/accounts": "http://127.0.0.1:8000" },
  },
  test: { environment: "jsdom", globals: true },
});
