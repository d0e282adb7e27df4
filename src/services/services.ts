import type { AlarmService } from './alarm-service.js';
import type { AuditService } from './audit-service.js';
import type { AuthService } from './auth-service.js';
import type { BoardService } from './board-service.js';
import type { ConnectionService } from './connection-service.js';
import type { ExportService } from './export-service.js';
import type { HistoryService } from './history-service.js';
import type { MetricsService } from './metrics-service.js';
import type { TagService } from './tag-service.js';
import type { UserAdminService } from './user-admin-service.js';

/**
 * Every service a front end may call, built once by the composition root (src/main.ts) and handed to each front
 * end: REST today; GraphQL, the WinCC profiles, the OPC UA server and MQTT writes later. A rule lives in exactly one
 * of these.
 */
export interface Services {
  tags: TagService;
  alarms: AlarmService;
  history: HistoryService;
  connections: ConnectionService;
  metrics: MetricsService;
  users: UserAdminService;
  audit: AuditService;
  auth: AuthService;
  /** Shift calendar, ERP export reports and their outbox. */
  exports: ExportService;
  boards: BoardService;
}
