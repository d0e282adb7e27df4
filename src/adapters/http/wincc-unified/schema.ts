/**
 * Tagway's GraphQL schema for the WinCC Unified profile. Names, arguments, defaults, enum values and nullability
 * follow the Unified runtime's API exactly (its warts included: `deadBand` on ActiveAlarm but `deadband` on
 * LoggedAlarm, `Error.code` a String), so that clients written for it run unchanged; the descriptions are ours.
 * test/unit/adapters/wincc-unified/schema-conformance.test.ts fails the day this drifts from the contract fixture.
 */
export const UNIFIED_SDL = /* GraphQL */ `
"Any JSON value: number, string, boolean, or a list of them."
scalar Variant

"An ISO 8601 UTC time with milliseconds, e.g. 2026-01-31T12:00:00.000Z."
scalar Timestamp

"A duration in milliseconds."
scalar Timespan

"A duration as ISO 8601, e.g. PT1M30S."
scalar TimespanIso

"A colour as #RRGGBBAA."
scalar Color

type Query {
  "The caller's session, or with allSessions every open session of the caller's user."
  session(allSessions: Boolean): [Session]
  "Not available: Tagway has no UMC single sign-on (error code 104)."
  nonce: Nonce
  "Not available: Tagway has no UMC single sign-on (error code 104)."
  identityProviderURL: String
  "Live values of tags by name (bare or <systemName>::name). directRead reads through the driver where it can."
  tagValues(names: [String!]!, directRead: Boolean = false): [TagValueResult]
  "Names of tags, logging tags, alarms and alarm classes. Within a filter list entries are alternatives; lists combine with AND."
  browse(
    nameFilters: [String] = []
    objectTypeFilters: [ObjectTypesEnum] = []
    baseTypeFilters: [String] = []
    language: String = "en-US"
  ): [BrowseTagsResult]
  "Values recorded by the historian. A name is a logging tag (<tag>:LoggingTag_1) or a tag that logs history."
  loggedTagValues(
    names: [String]!
    startTime: Timestamp = "1970-01-01T00:00:00.000Z"
    endTime: Timestamp = "1970-01-01T00:00:00.000Z"
    maxNumberOfValues: Int = 0
    sortingMode: LoggedTagValuesSortingModeEnum = TIME_ASC
    boundingValuesMode: LoggedTagValuesBoundingModeEnum = NO_BOUNDING_VALUES
  ): [LoggedTagValuesResult]
  "Alarms in the current list; filterString is a condition over alarm attributes (see docs/wincc-unified.md)."
  activeAlarms(
    systemNames: [String] = []
    filterString: String = ""
    filterLanguage: String = "en-US"
    languages: [String] = ["en-US"]
  ): [ActiveAlarm]
  "Alarm journal entries modified between startTime and endTime, filtered like activeAlarms."
  loggedAlarms(
    systemNames: [String] = []
    filterString: String = ""
    filterLanguage: String = "en-US"
    languages: [String] = ["en-US"]
    startTime: Timestamp = "1970-01-01T00:00:00.000Z"
    endTime: Timestamp = "1970-01-01T00:00:00.000Z"
    maxNumberOfResults: Int = 0
  ): [LoggedAlarm]
}

type Mutation {
  "Opens a Tagway session; the token goes into Authorization: Bearer for everything else (and works on the native API)."
  login(username: String!, password: String!): Session
  "Not available: Tagway has no UMC single sign-on (error code 104)."
  loginSWAC(claim: String!, signedClaim: String!): Session
  "Renews the caller's session: a new token with a fresh idle timeout; the old token stops working."
  extendSession: Session
  "Ends the caller's session, or with allSessions every session of the caller's user."
  logout(allSessions: Boolean): Boolean
  "Writes tag values; each item succeeds or fails alone."
  writeTagValues(input: [TagValueInput]!, timestamp: Timestamp, quality: QualityInput): [WriteTagValuesResult]
  "Acknowledges alarm occurrences (instanceID 0: every open occurrence of the alarm)."
  acknowledgeAlarms(input: [AlarmIdentifierInput]!): [ActiveAlarmMutationResult]
  "Resets alarm occurrences that need a reset (instanceID 0: every open occurrence of the alarm)."
  resetAlarms(input: [AlarmIdentifierInput]!): [ActiveAlarmMutationResult]
  "Stops alarms from raising new occurrences."
  disableAlarms(names: [String]!): [AlarmMutationResult]
  "Lets disabled alarms raise again."
  enableAlarms(names: [String]!): [AlarmMutationResult]
  "Shelves alarms for shelveTimeout milliseconds (0: the configured default)."
  shelveAlarms(names: [String]!, shelveTimeout: Timespan = 0): [AlarmMutationResult]
  "Ends the shelving of alarms."
  unshelveAlarms(names: [String]!): [AlarmMutationResult]
}

type Subscription {
  "Tag values: Added once for every requested name (with its error if it cannot be read), then Modified on change. Globs are accepted."
  tagValues(names: [String!]!): TagValueNotification
  "The current alarm list as it changes: Added, Modified, Removed (gone or no longer matching the filter)."
  activeAlarms(
    systemNames: [String] = []
    filterString: String = ""
    filterLanguage: String = "en-US"
    languages: [String] = ["en-US"]
  ): ActiveAlarmNotification
  "Whether this server is the active one of a redundant pair (a single server is always ACTIVE)."
  reduState: ReduStateNotification
}

"Why an item failed: a Unified error code as text (0 = success) and a sentence."
type Error {
  code: String
  description: String
}

"A value's quality, decoded from the quality byte QQSSSSLL."
type Quality {
  quality: MainQuality
  subStatus: QualitySubStatus
  limit: QualityLimit
  extendedSubStatus: QualityExtendedSubStatus
  sourceQuality: Boolean
  sourceTime: Boolean
  timeCorrected: Boolean
}

"A quality given with a write (kept for internal tags)."
input QualityInput {
  quality: MainQuality!
  subStatus: QualitySubStatus
}

"The two top bits of the quality byte."
enum MainQuality {
  BAD
  UNCERTAIN
  GOOD_NON_CASCADE
  GOOD_CASCADE
}

"The four middle bits of the quality byte, named per main quality."
enum QualitySubStatus {
  NON_SPECIFIC
  CONFIGURATION_ERROR
  NOT_CONNECTED
  SENSOR_FAILURE
  DEVICE_FAILURE
  NO_COMMUNICATION_WITH_LAST_USABLE_VALUE
  NO_COMMUNICATION_NO_USABLE_VALUE
  OUT_OF_SERVICE
  LAST_USABLE_VALUE
  SUBSTITUTE_VALUE
  INITIAL_VALUE
  SENSOR_CONVERSION
  RANGE_VIOLATION
  SUB_NORMAL
  CONFIG_ERROR
  SIMULATED_VALUE
  SENSOR_CALIBRATION
  UPDATE_EVENT
  ADVISORY_ALARM
  CRITICAL_ALARM
  UNACK_UPDATE_EVENT
  UNACK_ADVISORY_ALARM
  UNACK_CRITICAL_ALARM
  INIT_FAILSAFE
  MAINTENANCE_REQUIRED
  INIT_ACKED
  INITREQ
  NOT_INVITED
  DO_NOT_SELECT
  LOCAL_OVERRIDE
}

"The two low bits of the quality byte."
enum QualityLimit {
  OK
  LOW_LIMIT_VIOLATION
  HIGH_LIMIT_VIOLATION
  CONSTANT
}

"Always NON_SPECIFIC in Tagway (no extended quality is kept)."
enum QualityExtendedSubStatus {
  NON_SPECIFIC
  AGGREGATED_VALUE
  UNUSABLE_VALUE
  DISABLED
  MANUAL_INPUT
  CORRECTED_VALUE
  LAST_USABLE_VALUE
  INITIAL_VALUE
}

"A Tagway session; error.code is \\"0\\" when it was opened, \\"101\\" for wrong credentials."
type Session {
  user: User
  token: String
  expires: Timestamp
  error: Error
}

type User {
  id: ID
  name: String
  groups: [UserGroup]
  fullName: String
  language: String
  "The session's idle timeout in seconds."
  autoLogoffSec: Int
}

type UserGroup {
  id: ID
  name: String
}

type Nonce {
  value: String
  validFor: Int
}

input TagValueInput {
  name: String!
  value: Variant!
  timestamp: Timestamp
  quality: QualityInput
}

type Value {
  value: Variant
  timestamp: Timestamp
  quality: Quality
}

type TagValueResult {
  name: String
  value: Value
  error: Error
}

type WriteTagValuesResult {
  name: String
  error: Error
}

"One change of one subscribed tag; notificationReason is Added, Modified or Removed."
type TagValueNotification {
  name: String
  value: Value
  error: Error
  notificationReason: String
}

type BrowseTagsResult {
  name: String
  displayName: String
  objectType: String
  dataType: String
}

"Kinds of named objects; Tagway has SIMPLETAG, LOGGINGTAG, ALARM and ALARMCLASS objects (TAG covers SIMPLETAG)."
enum ObjectTypesEnum {
  TAG
  SIMPLETAG
  STRUCTURETAG
  TAGTYPE
  STRUCTURETAGTYPE
  SIMPLETAGTYPE
  ALARM
  ALARMCLASS
  LOGGINGTAG
}

type LoggedTagValuesResult {
  loggingTagName: String
  error: Error
  values: [LoggedValue]
}

type LoggedValue {
  value: Value
  flags: [LoggedTagValueFlagsEnum]
}

enum LoggedTagValuesSortingModeEnum {
  TIME_ASC
  TIME_DESC
}

enum LoggedTagValuesBoundingModeEnum {
  NO_BOUNDING_VALUES
  LEFT_BOUNDING_VALUES
  RIGHT_BOUNDING_VALUES
  LEFTRIGHT_BOUNDING_VALUES
}

"Marks on a logged value; Tagway sets BOUNDING, NO_DATA, FIRST_STORED and LAST_STORED."
enum LoggedTagValueFlagsEnum {
  EXTRA
  CALCULATED
  PARTIAL
  BOUNDING
  NO_DATA
  FIRST_STORED
  LAST_STORED
  HAS_REF_TIMESTAMP
  IS_MULTIVALUE
  LAST_AGGREGATED_VALUE_BEFORE_VERY_LAST_CYCLE
}

type AlarmMutationResult {
  alarmName: String
  error: Error
}

type ActiveAlarmMutationResult {
  alarmName: String
  alarmInstanceID: Int
  error: Error
}

"An alarm by name, and one of its occurrences (0: all of them)."
input AlarmIdentifierInput {
  name: String!
  instanceID: Int = 0
}

"An event of the alarm journal."
type LoggedAlarm {
${alarmFields('deadband')}
  hasComments: Boolean
}

"An occurrence in the current alarm list."
type ActiveAlarm {
${alarmFields('deadBand', true)}
}

"A change of the current alarm list."
type ActiveAlarmNotification {
${alarmFields('deadBand', true)}
  notificationReason: String
}

enum AlarmState {
  NORMAL
  RAISED
  RAISED_CLEARED
  RAISED_ACKNOWLEDGED
  RAISED_ACKNOWLEDGED_CLEARED
  RAISED_CLEARED_ACKNOWLEDGED
  REMOVED
}

enum AlarmStateMachine {
  RAISE
  RAISE_CLEAR
  RAISE_REQUIRES_ACKNOWLEDGMENT
  RAISE_CLEAR_OPTIONAL_ACKNOWLEDGMENT
  RAISE_CLEAR_REQUIRES_ACKNOWLEDGMENT
  RAISE_CLEAR_REQUIRES_ACKNOWLEDGMENT_AND_RESET
}

enum AlarmChangeReason {
  ALARM_STATE_CHANGED_RAISE_EVENT
  ALARM_STATE_CHANGED_CLEAR_EVENT
  ALARM_STATE_CHANGED_ACKNOWLEDGE_EVENT
  ALARM_STATE_CHANGED_RESET_EVENT
  ALARM_STATE_CHANGED_REMOVE_EVENT
  ALARM_QUALITY_CHANGED
  ALARM_PARAMETER_VALUES_CHANGED
  ALARM_PRIORITY_CHANGED
  ALARM_SUPPRESSION_STATE_CHANGED
  ALARM_ESCALATION_REASON_CHANGED
  ALARM_ENABLE_STATE_CHANGED
  ALARM_CONFIGURATION_CHANGED
  ALARM_EXTERNAL_UPDATE
}

enum AlarmSourceType {
  TAG
  CONTROLLER
  SYSTEM
  SUMMARY_ALARM
}

enum AlarmSuppressionState {
  UNSUPPRESSED
  SUPPRESSED
  SHELVED
  SUPPRESSED_AND_SHELVED
}

type AlarmInvalidFlags {
  invalidConfiguration: Boolean
  invalidTimestamp: Boolean
  invalidAlarmParameter: Boolean
  invalidEventText: Boolean
}

"Tagway's alarms are WINCC (configured in the project)."
enum AlarmProducer {
  IEPCL_OR_USER_ALARM
  RSE
  WR_USMSG
  SIMOTION_CLASSIC
  SYS_DIAG
  SMC
  SECURITY
  SINUMERIC
  GRAPH
  PRO_DIAG
  WINCC
}

enum AlarmUserResponse {
  NONE
  ACKNOWLEDGEMENT
  RESET
  SINGLE_ACKNOWLEDGEMENT
  SINGLE_RESET
}

type ReduStateNotification {
  value: ReduStateValue
  notificationReason: String
}

type ReduStateValue {
  value: ReduState
  timestamp: Timestamp
}

enum ReduState {
  ACTIVE
  PASSIVE
}
`;

/** Field names of the alarm types (the attributes a filter string may compare). */
export const UNIFIED_FIELDS = {
  ActiveAlarm: names(alarmFields('deadBand', true)),
  LoggedAlarm: [...names(alarmFields('deadband')), 'hasComments'],
};

function names(fields: string): string[] {
  return fields.split('\n').map((l) => l.trim().split(':')[0]!);
}

/** The attributes an active and a logged alarm share, in the contract's order (the spelling of the deadband differs). */
function alarmFields(deadband: 'deadband' | 'deadBand', active = false): string {
  const f = [
    'name: String',
    'instanceID: Int',
    'alarmGroupID: Int',
    'raiseTime: Timestamp',
    'acknowledgmentTime: Timestamp',
    'clearTime: Timestamp',
    'resetTime: Timestamp',
    'modificationTime: Timestamp',
    'state: AlarmState',
    'textColor: Color',
    'backColor: Color',
    ...(active ? ['flashing: Boolean'] : []),
    'languages: [String]',
    'alarmClassName: String',
    'alarmClassSymbol: [String]',
    'alarmClassID: Int',
    'stateMachine: AlarmStateMachine',
    'priority: Int',
    'alarmParameterValues: [Variant]',
    'alarmType: [String]',
    'eventText: [String]',
    'infoText: [String]',
    ...[1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => `alarmText${i}: [String]`),
    'stateText: [String]',
    'origin: String',
    'area: String',
    'changeReason: [AlarmChangeReason]',
    ...(active ? ['connectionName: String'] : []),
    'valueLimit: Variant',
    'sourceType: AlarmSourceType',
    'suppressionState: AlarmSuppressionState',
    'hostName: String',
    'userName: String',
    'value: Variant',
    'valueQuality: Quality',
    'quality: Quality',
    'invalidFlags: AlarmInvalidFlags',
    `${deadband}: Variant`,
    'producer: AlarmProducer',
    'duration: Timespan',
    'durationIso: TimespanIso',
    ...(active
      ? [
          'sourceID: String',
          'systemSeverity: Int',
          'loopInAlarm: String',
          'loopInAlarmParameterValues: Variant',
          'path: String',
          'userResponse: AlarmUserResponse',
        ]
      : []),
  ];
  return f.map((l) => `  ${l}`).join('\n');
}
