export type { Access } from './admin-access.ts';
export { type AdminHandler, type AdminOptions, createAdminHandler } from './admin-handler.ts';
export type { CacheView, ReportedCache } from './cache-stats.ts';
export { type DiagramBox, type SagaDiagram, sagaDiagram } from './saga-diagram.ts';
export type { TraceSource, TraceSpan, TraceView } from './trace-view.ts';
