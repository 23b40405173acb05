export type { Access } from './admin-access.ts';
export { type AdminHandler, type AdminOptions, createAdminHandler } from './admin-handler.ts';
