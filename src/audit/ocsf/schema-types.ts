// The compiled shape of an OCSF schema, as produced by loadOcsfSchema and read by validateOcsfEvent.

/** Enum id (as a string, the way the schema keys it) to caption. */
export type OcsfEnum = Readonly<Record<string, string>>;

export interface OcsfAttribute {
  readonly name: string;
  /** A dictionary data type (`string_t`, `port_t`, …) or, when `isObject`, an object name. */
  readonly type: string;
  readonly isObject: boolean;
  readonly isArray: boolean;
  readonly requirement: 'required' | 'recommended' | 'optional';
  readonly enum?: OcsfEnum;
  /** The attribute that carries the caption of this enum's value (`activity_id` → `activity_name`). */
  readonly sibling?: string;
  /** Set when the attribute exists only if the event lists this profile in `metadata.profiles`. */
  readonly profile?: string;
  readonly deprecated: boolean;
}

export interface OcsfConstraints {
  readonly at_least_one?: readonly string[];
  readonly just_one?: readonly string[];
}

/** A resolved object or event class: inherited and included attributes already merged. */
export interface OcsfRecord {
  readonly name: string;
  readonly caption: string;
  readonly attributes: Map<string, OcsfAttribute>;
  readonly constraints: OcsfConstraints;
  readonly deprecated: boolean;
}

export interface OcsfClass extends OcsfRecord {
  /** category_uid * 1000 + the class's own uid, e.g. 3002 for Authentication. */
  readonly uid: number;
  readonly categoryUid: number;
}

export interface OcsfDataType {
  readonly name: string;
  /** The primitive the type refines: `string_t`, `integer_t`, `long_t`, `float_t`, `boolean_t`, `json_t`. */
  readonly base: string;
  readonly range?: readonly [number, number];
  readonly maxLength?: number;
  readonly pattern?: RegExp;
  readonly values?: readonly unknown[];
}

export interface OcsfSchema {
  /** The schema's own version, e.g. `1.8.0`; events must carry it in `metadata.version`. */
  readonly version: string;
  /** Concrete event classes by class_uid. */
  readonly classes: ReadonlyMap<number, OcsfClass>;
  readonly objects: ReadonlyMap<string, OcsfRecord>;
  readonly types: ReadonlyMap<string, OcsfDataType>;
  readonly profiles: ReadonlySet<string>;
}

/** One way an event departs from the schema; `path` is dotted with array indexes (`actor.user.groups[0]`). */
export interface OcsfProblem {
  readonly path: string;
  readonly message: string;
}
