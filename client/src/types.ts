/**
 * The wire types of the native API, derived from the very TypeBox schemas the server validates and documents with
 * (type-only imports: nothing of the server is bundled). A schema change is a type error here, not drift.
 */
import type { Static } from 'typebox';
import type { AggregateName } from '../../src/domain/history/aggregates.js';
import type { Permission } from '../../src/domain/permissions.js';
import type {
  ClientCreated,
  ClientView,
  CreateClient,
  CreateUser,
  GroupBody,
  GroupPatch,
  GroupView,
  PatchUser,
  UnlockReply,
  UserView,
} from '../../src/adapters/http/rest/admin/routes.js';
import type {
  ArchiveEvent,
  ArchiveQuery,
  ArchiveReply,
  BulkAckReply,
  ClassesReply,
  CurrentQuery,
  CurrentReply,
  DefinitionView,
  DefinitionsReply,
  Occurrence,
} from '../../src/adapters/http/rest/alarms/schemas.js';
import type { AuditItem, AuditQuery } from '../../src/adapters/http/rest/audit/routes.js';
import type { SessionInfo, SessionReply } from '../../src/adapters/http/rest/auth/routes.js';
import type { Board, BoardBody, BoardList } from '../../src/adapters/http/rest/boards/schemas.js';
import type { BrowseReply, ConnectionStatus, ReloadReply } from '../../src/adapters/http/rest/connections/routes.js';
import type {
  OutboxDetail as OutboxDetailSchema,
  OutboxItem as OutboxItemSchema,
  OutboxPage as OutboxPageSchema,
  OutboxQuery,
  ReportDocument,
  ReportsReply,
  RunBody,
  RunReply,
  ShiftPeriod as ShiftPeriodSchema,
} from '../../src/adapters/http/rest/exports/routes.js';
import type { HealthReply } from '../../src/adapters/http/rest/health/routes.js';
import type {
  BucketItem,
  HistoryManyReply,
  HistoryQueryBody,
  HistoryQueryString,
  HistoryReply,
  RawItem,
} from '../../src/adapters/http/rest/history/schemas.js';
import type { Problem, ValueObject } from '../../src/adapters/http/rest/schemas.js';
import type { TokenReply } from '../../src/adapters/http/rest/security/token-routes.js';
import type {
  ListTagsQuery,
  ListTagsReply,
  ReadManyReply,
  TagInfo as TagInfoSchema,
  WriteManyReply,
} from '../../src/adapters/http/rest/tags/schemas.js';
import type { CurrentUser as CurrentUserSchema } from '../../src/adapters/http/rest/users/user-info.js';

export type ProblemBody = Static<typeof Problem>;
export type TagValue = Static<typeof ValueObject>;
export type TagInfo = Static<typeof TagInfoSchema>;
export type ListTagsParams = Static<typeof ListTagsQuery>;
export type TagList = Static<typeof ListTagsReply>;
export type ReadManyResult = Static<typeof ReadManyReply>;
export type WriteManyResult = Static<typeof WriteManyReply>;
export type CurrentUser = Static<typeof CurrentUserSchema>;
export type Session = Static<typeof SessionReply>;
export type SessionState = Static<typeof SessionInfo>;
export type Token = Static<typeof TokenReply>;
export type Health = Static<typeof HealthReply>;
// The aggregate union is built from a list at run time, which TypeBox cannot type: named here from the same list.
export type HistoryParams = Omit<Static<typeof HistoryQueryString>, 'aggregate'> & { aggregate?: AggregateName | undefined };
export type HistoryQuery = Omit<Static<typeof HistoryQueryBody>, 'aggregate'> & { aggregate?: AggregateName | undefined };
export type HistoryResult = Static<typeof HistoryReply>;
export type HistoryManyResult = Static<typeof HistoryManyReply>;
export type HistorySample = Static<typeof RawItem>;
export type HistoryBucket = Static<typeof BucketItem>;
export type AlarmOccurrence = Static<typeof Occurrence>;
export type AlarmEvent = Static<typeof ArchiveEvent>;
export type AlarmFilter = Static<typeof CurrentQuery>;
export type AlarmList = Static<typeof CurrentReply>;
export type ArchiveParams = Static<typeof ArchiveQuery>;
export type ArchivePage = Static<typeof ArchiveReply>;
export type AcknowledgeManyResult = Static<typeof BulkAckReply>;
export type AlarmDefinition = Static<typeof DefinitionView>;
export type AlarmDefinitions = Static<typeof DefinitionsReply>;
export type AlarmClasses = Static<typeof ClassesReply>;
export type Connection = Static<typeof ConnectionStatus>;
export type ReloadResult = Static<typeof ReloadReply>;
export type BrowseResult = Static<typeof BrowseReply>;
export type User = Static<typeof UserView>;
export type NewUser = Static<typeof CreateUser>;
export type UserChanges = Static<typeof PatchUser>;
export type UnlockResult = Static<typeof UnlockReply>;
// Like `aggregate`, the permission union is built from a list at run time: named here from the same list.
export interface PermissionGrant {
  permission: Permission;
  tags?: string | undefined;
}
export type Group = Omit<Static<typeof GroupView>, 'permissions'> & { permissions: PermissionGrant[] };
export type NewGroup = Omit<Static<typeof GroupBody>, 'permissions'> & { permissions: PermissionGrant[] };
export type GroupChanges = Omit<Static<typeof GroupPatch>, 'permissions'> & { permissions?: PermissionGrant[] | undefined };
export type ApiClient = Static<typeof ClientView>;
export type NewApiClient = Static<typeof CreateClient>;
export type CreatedApiClient = Static<typeof ClientCreated>;
export type AuditParams = Static<typeof AuditQuery>;
export type AuditEntry = Static<typeof AuditItem>;
export type BoardView = Static<typeof Board>;
export type BoardInput = Static<typeof BoardBody>;
export type Boards = Static<typeof BoardList>;
export type ExportReports = Static<typeof ReportsReply>;
export type ExportReportDefinition = ExportReports['reports'][number];
export type ExportRunRequest = Static<typeof RunBody>;
export type ExportRunResult = Static<typeof RunReply>;
export type ExportReport = Static<typeof ReportDocument>;
export type OutboxParams = Static<typeof OutboxQuery>;
export type OutboxEntry = Static<typeof OutboxItemSchema>;
export type OutboxList = Static<typeof OutboxPageSchema>;
export type OutboxEntryDetail = Static<typeof OutboxDetailSchema>;
export type ShiftPeriod = Static<typeof ShiftPeriodSchema>;
