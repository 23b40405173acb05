// Part of `npm run build`: the dashboard is plain HTML, CSS and ES modules with no build step of
// its own, so the compiled gateway (apps/shop/dist) serves a copy of them from dist/dashboard.
import { cpSync } from 'node:fs';

cpSync('apps/shop/src/dashboard', 'apps/shop/dist/dashboard', { recursive: true });
