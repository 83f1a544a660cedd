// The OCSF 1.8.0 event classes Paddock emits, with the activities it uses. Captions are the
// schema's own, so `type_name` ("HTTP Activity: Post") and the enum siblings match what a SIEM
// expects. test/audit/events.test.ts checks every built event against the schema files.

/** The OCSF schema version every event declares in `metadata.version`. */
export const OCSF_VERSION = '1.8.0';

export interface OcsfClassSpec {
  readonly uid: number;
  readonly caption: string;
  readonly categoryUid: number;
  readonly categoryCaption: string;
  /** activity_id → activity caption, for the activities Paddock emits in this class. */
  readonly activities: Readonly<Record<number, string>>;
  /**
   * Attributes our builders set that this class defines only under a profile. The base builder
   * lists each profile it used in `metadata.profiles`, as OCSF requires.
   */
  readonly profiled: Readonly<Record<string, string>>;
}

// base_event includes the security_control profile; no class below overrides these attributes.
const SECURITY_CONTROL: Readonly<Record<string, string>> = {
  action: 'security_control',
  action_id: 'security_control',
  disposition: 'security_control',
  disposition_id: 'security_control',
  policy: 'security_control',
  authorizations: 'security_control',
};

const HOST_ACTOR_AND_DEVICE = { actor: 'host', device: 'host' } as const;

export const FILE_SYSTEM_ACTIVITY: OcsfClassSpec = {
  uid: 1001,
  caption: 'File System Activity',
  categoryUid: 1,
  categoryCaption: 'System Activity',
  activities: { 1: 'Create', 2: 'Read', 3: 'Update', 4: 'Delete' },
  profiled: SECURITY_CONTROL,
};

export const PROCESS_ACTIVITY: OcsfClassSpec = {
  uid: 1007,
  caption: 'Process Activity',
  categoryUid: 1,
  categoryCaption: 'System Activity',
  activities: { 1: 'Launch', 2: 'Terminate' },
  profiled: SECURITY_CONTROL,
};

export const EVENT_LOG_ACTIVITY: OcsfClassSpec = {
  uid: 1008,
  caption: 'Event Log Activity',
  categoryUid: 1,
  categoryCaption: 'System Activity',
  activities: { 5: 'Rotate' },
  profiled: SECURITY_CONTROL,
};

export const DETECTION_FINDING: OcsfClassSpec = {
  uid: 2004,
  caption: 'Detection Finding',
  categoryUid: 2,
  categoryCaption: 'Findings',
  activities: { 1: 'Create', 2: 'Update', 3: 'Close' },
  // Detection Finding takes device, is_alert and confidence out of their profiles; actor stays in host.
  profiled: { ...SECURITY_CONTROL, actor: 'host' },
};

export const AUTHENTICATION: OcsfClassSpec = {
  uid: 3002,
  caption: 'Authentication',
  categoryUid: 3,
  categoryCaption: 'Identity & Access Management',
  activities: { 1: 'Logon', 2: 'Logoff', 99: 'Other' },
  // The IAM category takes actor out of the host profile; device stays in it.
  profiled: { ...SECURITY_CONTROL, device: 'host' },
};

export const NETWORK_ACTIVITY: OcsfClassSpec = {
  uid: 4001,
  caption: 'Network Activity',
  categoryUid: 4,
  categoryCaption: 'Network Activity',
  activities: { 1: 'Open', 2: 'Close', 5: 'Refuse' },
  profiled: { ...SECURITY_CONTROL, ...HOST_ACTOR_AND_DEVICE },
};

export const HTTP_ACTIVITY: OcsfClassSpec = {
  uid: 4002,
  caption: 'HTTP Activity',
  categoryUid: 4,
  categoryCaption: 'Network Activity',
  activities: {
    1: 'Connect',
    2: 'Delete',
    3: 'Get',
    4: 'Head',
    5: 'Options',
    6: 'Post',
    7: 'Put',
    8: 'Trace',
    9: 'Patch',
    99: 'Other',
  },
  profiled: { ...SECURITY_CONTROL, ...HOST_ACTOR_AND_DEVICE },
};

export const APPLICATION_LIFECYCLE: OcsfClassSpec = {
  uid: 6002,
  caption: 'Application Lifecycle',
  categoryUid: 6,
  categoryCaption: 'Application Activity',
  activities: { 1: 'Install', 2: 'Remove', 3: 'Start', 4: 'Stop', 5: 'Restart', 7: 'Disable', 8: 'Update' },
  profiled: { ...SECURITY_CONTROL, ...HOST_ACTOR_AND_DEVICE },
};

export const API_ACTIVITY: OcsfClassSpec = {
  uid: 6003,
  caption: 'API Activity',
  categoryUid: 6,
  categoryCaption: 'Application Activity',
  activities: { 1: 'Create', 2: 'Read', 3: 'Update', 4: 'Delete', 99: 'Other' },
  // API Activity requires actor outside any profile; device stays in the host profile.
  profiled: { ...SECURITY_CONTROL, device: 'host' },
};

export const WEB_RESOURCES_ACTIVITY: OcsfClassSpec = {
  uid: 6001,
  caption: 'Web Resources Activity',
  categoryUid: 6,
  categoryCaption: 'Application Activity',
  activities: { 99: 'Other' },
  profiled: { ...SECURITY_CONTROL, ...HOST_ACTOR_AND_DEVICE },
};

/** Every class Paddock emits, by class_uid. @example OCSF_CLASSES[4002].activities[6] // 'Post' */
export const OCSF_CLASSES: Readonly<Record<number, OcsfClassSpec>> = Object.fromEntries(
  [
    FILE_SYSTEM_ACTIVITY,
    PROCESS_ACTIVITY,
    EVENT_LOG_ACTIVITY,
    DETECTION_FINDING,
    AUTHENTICATION,
    NETWORK_ACTIVITY,
    HTTP_ACTIVITY,
    APPLICATION_LIFECYCLE,
    API_ACTIVITY,
    WEB_RESOURCES_ACTIVITY,
  ].map((spec) => [spec.uid, spec]),
);
